"""Static fields of GCP export rows: services, SKUs, projects, labels, locations, resources."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from costrail.demo.company import GCP_BILLING_ACCOUNT, GCP_PROJECTS, Owner, gcp_labels
from costrail.demo.gcp_export import GcpBatch
from costrail.demo.planting import Planted

ORGANIZATION = ("684213957402", "acme-ai.example")
SERVICES = {
    "compute": {"id": "6F81-5844-456A", "description": "Compute Engine"},
    "vertex": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
    "storage": {"id": "95FF-2EF5-5EA1", "description": "Cloud Storage"},
}


@dataclass
class GcpBuild:
    batches: list[GcpBatch] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)

    def add(self, *batches: GcpBatch) -> None:
        self.batches.extend(b for b in batches if len(b) > 0)


def sku(description: str) -> dict[str, str]:
    digest = hashlib.sha256(("gcp-sku/" + description).encode()).hexdigest().upper()
    return {"id": f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}", "description": description}


def project_field(key: str) -> dict[str, Any]:
    project_id, number = GCP_PROJECTS[key]
    org_number, org_name = ORGANIZATION
    return {
        "id": project_id,
        "number": number,
        "name": project_id,
        "labels": [{"key": "cost-center", "value": f"cc-{key}"}],
        "ancestry_numbers": f"/{org_number}/{number}/",
        "ancestors": [
            {"resource_name": f"projects/{number}", "display_name": project_id},
            {"resource_name": f"organizations/{org_number}", "display_name": org_name},
        ],
    }


def row_fields(
    service: str,
    sku_description: str,
    project: str,
    owner: Owner | None,
    system: dict[str, str],
    region: str,
    zone: str | None,
    resource: tuple[str, str] | None,
) -> dict[str, Any]:
    location: dict[str, str] = {"location": zone or region, "country": "US", "region": region}
    if zone:
        location["zone"] = zone
    fields: dict[str, Any] = {
        "billing_account_id": GCP_BILLING_ACCOUNT,
        "service": SERVICES[service],
        "sku": sku(sku_description),
        "project": project_field(project),
        "labels": [{"key": k, "value": v} for k, v in (gcp_labels(owner) if owner else ())],
        "system_labels": [{"key": k, "value": v} for k, v in system.items()],
        "location": location,
        "resource": {"name": resource[0], "global_name": resource[1]} if resource else {},
        "tags": _resource_manager_tags(project),
    }
    if resource is None:
        del fields["resource"]
    return fields


def _resource_manager_tags(project: str) -> list[dict[str, object]]:
    """Tags bound at the organisation and inherited by every resource of the project."""
    environment = {"serving": "production", "research": "research", "tools": "development"}
    return [
        {
            "key": "environment",
            "value": environment[project],
            "inherited": True,
            "namespace": ORGANIZATION[0],
        }
    ]
