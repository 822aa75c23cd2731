"""Data transfer: inter-region transfer per resource and region pair, and large internet egress.

Inter-region transfer between a resource and its consumer disappears when both sit in one
region, so its whole cost is the saving. Internet egress has no such fix visible in the bill
(a CDN, compression or caching changes its price, not its existence), so it is listed as
information with no saving claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.allocation import TEAM_KEY_SPELLINGS, tag_value
from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation

#: Object-storage services: a bucket read from another region is fixed by a regional copy.
OBJECT_STORAGE_SERVICES = ("AmazonS3", "Cloud Storage", "Storage")


@dataclass(frozen=True)
class TransferFlow:
    """Transfer of one kind from one resource over one region pair and usage type, in the window."""

    provider: str
    account_id: str | None
    resource_id: str | None
    service_code: str | None
    from_region: str | None
    to_region: str | None
    usage_type: str | None
    unit: str | None
    quantity: Decimal
    cost_usd: Decimal
    lines: int
    team: str | None
    env: str | None
    project: str | None

    @property
    def usd_per_unit(self) -> Decimal | None:
        if self.quantity == 0:
            return None
        return (self.cost_usd / self.quantity).quantize(Decimal("0.000001"))


def transfer_flows(costs: ir.Table, transfer_kind: str) -> list[TransferFlow]:
    """Usage lines of one `x_TransferKind`, summed per resource, region pair and usage type.

    Cost is EffectiveCost (what is paid after discounts); the source region falls back to
    RegionId where the export has no `from` region.
    """
    rows = costs.filter((costs.x_TransferKind == transfer_kind) & (costs.ChargeCategory == "Usage"))
    grouped = rows.group_by(
        provider=rows.x_Provider,
        account_id=rows.SubAccountId,
        resource_id=rows.ResourceId,
        service_code=rows.x_ServiceCode,
        from_region=ibis.coalesce(rows.x_FromRegion, rows.RegionId),
        to_region=rows.x_ToRegion,
        usage_type=rows.x_UsageType,
        unit=rows.PricingUnit,
    ).aggregate(
        quantity=rows.PricingQuantity.sum(),
        cost=rows.EffectiveCost.sum(),
        lines=rows.count(),
        team=tag_value(rows.Tags, TEAM_KEY_SPELLINGS).max(),
        env=rows.Tags.get("env").max(),
        project=rows.Tags.get("project").max(),
    )
    return [_flow(row) for row in grouped.to_pyarrow().to_pylist()]


def _flow(row: dict[str, Any]) -> TransferFlow:
    return TransferFlow(
        provider=row["provider"],
        account_id=row["account_id"],
        resource_id=row["resource_id"],
        service_code=row["service_code"],
        from_region=row["from_region"],
        to_region=row["to_region"],
        usage_type=row["usage_type"],
        unit=row["unit"],
        quantity=row["quantity"] or Decimal(0),
        cost_usd=row["cost"] or Decimal(0),
        lines=int(row["lines"]),
        team=row["team"],
        env=row["env"],
        project=row["project"],
    )


def flows_by_resource(
    flows: list[TransferFlow],
) -> dict[tuple[str, str | None, str], list[TransferFlow]]:
    """Flows keyed by (provider, account, resource); flows without a resource by region pair."""
    grouped: dict[tuple[str, str | None, str], list[TransferFlow]] = {}
    for flow in flows:
        label = flow.resource_id or f"{flow.from_region or '?'} → {flow.to_region or '?'}"
        grouped.setdefault((flow.provider, flow.account_id, label), []).append(flow)
    return grouped


def _total_cost(flows: list[TransferFlow]) -> Decimal:
    return sum((flow.cost_usd for flow in flows), Decimal(0))


def _scope(account_id: str | None, flows: list[TransferFlow]) -> dict[str, str]:
    scope = {"account": account_id} if account_id else {}
    for name in ("team", "env", "project"):
        values = sorted({getattr(f, name) for f in flows if getattr(f, name)})
        if values:
            scope[name] = ",".join(values)
    return scope


def _flow_evidence(flow: TransferFlow) -> dict[str, Any]:
    return {
        "from_region": flow.from_region,
        "to_region": flow.to_region,
        "usage_type": flow.usage_type,
        "quantity": flow.quantity,
        "unit": flow.unit,
        "cost_usd": flow.cost_usd,
        "usd_per_unit": flow.usd_per_unit,
        "lines": flow.lines,
    }


@analyses.register("cross_region_transfer")
def cross_region_transfer(context: AnalysisContext) -> list[Finding]:
    """Every resource paying for inter-region transfer: the transfer is the co-location saving."""
    found: list[Finding] = []
    flows = transfer_flows(context.in_window(), "InterRegion")
    for (provider, account_id, label), resource_flows in sorted(flows_by_resource(flows).items()):
        cost_usd = _total_cost(resource_flows)
        if cost_usd > 0:
            found.append(
                _cross_region_finding(context, provider, account_id, label, resource_flows)
            )
    return found


def _cross_region_finding(
    context: AnalysisContext,
    provider: str,
    account_id: str | None,
    label: str,
    flows: list[TransferFlow],
) -> Finding:
    paid = [flow for flow in flows if flow.cost_usd != 0]
    monthly_usd = context.monthly(_total_cost(paid))
    resource_id = paid[0].resource_id
    resources = (resource_id,) if resource_id else ()
    pairs = sorted({f"{f.from_region or '?'} → {f.to_region or '?'}" for f in paid})
    quantity = sum((flow.quantity for flow in paid), Decimal(0))
    units = sorted({flow.unit for flow in paid if flow.unit})
    missing_to = any(flow.to_region is None for flow in paid)
    return Finding(
        kind="cross_region_transfer",
        title=(
            f"{label} pays ${monthly_usd.quantize(Decimal('0.01'))}/month for inter-region "
            f"transfer ({', '.join(pairs)})"
        ),
        provider=provider,
        resources=resources,
        monthly_savings_usd=monthly_usd,
        monthly_cost_usd=monthly_usd,
        confidence="low" if missing_to else "medium",
        confidence_reason=(
            "the destination region is not in the export; the pair comes from the usage type"
            if missing_to
            else "the bill shows the transfer and its regions, not whether the consumer can "
            "move next to the data (latency, data residency, deliberate DR replication)"
        ),
        remediation=_remediation(provider, paid),
        scope=_scope(account_id, paid),
        evidence={
            "pairs": [_flow_evidence(flow) for flow in paid],
            "quantity": quantity,
            "unit": ",".join(units) or None,
            "window_cost_usd": _total_cost(paid),
            "lines": sum(flow.lines for flow in paid),
            "savings_by_resource": {resource_id: monthly_usd} if resource_id else {},
        },
        assumptions={
            "window_days": str(context.window_days),
            "month_days": 30,
            "cost_basis": "EffectiveCost of Usage lines with x_TransferKind = InterRegion",
            "saving": "the whole transfer cost: consumer and data in one region move nothing "
            "across regions; a one-off copy and the copy's storage are not netted",
        },
    )


def _remediation(provider: str, flows: list[TransferFlow]) -> Remediation:
    flow = max(flows, key=lambda f: f.cost_usd)
    source, target = flow.from_region or "<source-region>", flow.to_region or "<target-region>"
    resource = flow.resource_id or "<resource>"
    storage = (flow.service_code or "") in OBJECT_STORAGE_SERVICES
    if not storage:
        action = (
            f"Run the consumer in {source} or keep the data it reads in {target}, so the "
            "traffic stays in one region."
        )
        return Remediation(action)
    action = (
        f"Keep a copy of the data read from {resource} in {target} (or run the readers in "
        f"{source}); copy once, then read locally."
    )
    if provider == "aws":
        snippet = (
            f"aws s3 mb s3://{resource}-{target} --region {target}\n"
            f"aws s3 sync s3://{resource}/<prefix> s3://{resource}-{target}/<prefix> "
            f"--source-region {source} --region {target}"
        )
        return Remediation(action, snippet, "aws-cli")
    if provider == "gcp":
        snippet = (
            f"gcloud storage buckets create gs://{resource}-{target} --location={target}\n"
            f"gcloud storage rsync -r gs://{resource} gs://{resource}-{target}"
        )
        return Remediation(action, snippet, "gcloud")
    return Remediation(action)


@analyses.register("internet_egress")
def internet_egress(context: AnalysisContext) -> list[Finding]:
    """Resources whose internet egress exceeds the threshold: listed, with no saving claimed."""
    found: list[Finding] = []
    threshold_usd = context.thresholds.internet_egress_info_monthly_usd
    flows = transfer_flows(context.in_window(), "Internet")
    for (provider, account_id, label), resource_flows in sorted(flows_by_resource(flows).items()):
        monthly_usd = context.monthly(_total_cost(resource_flows))
        if monthly_usd >= threshold_usd:
            found.append(
                _egress_finding(context, provider, account_id, label, resource_flows, monthly_usd)
            )
    return found


def _egress_finding(
    context: AnalysisContext,
    provider: str,
    account_id: str | None,
    label: str,
    flows: list[TransferFlow],
    monthly_usd: Decimal,
) -> Finding:
    resource_id = flows[0].resource_id
    return Finding(
        kind="internet_egress",
        title=f"{label} sends ${monthly_usd.quantize(Decimal('0.01'))}/month to the internet",
        provider=provider,
        resources=(resource_id,) if resource_id else (),
        monthly_savings_usd=Decimal(0),
        monthly_cost_usd=monthly_usd,
        confidence="low",
        confidence_reason="egress is usually the product working; whether a CDN, compression "
        "or caching would cut it is not visible in the bill",
        remediation=Remediation(
            "Check what is served: put cacheable responses behind a CDN, compress payloads, "
            "and keep clients that are your own workloads inside the cloud."
        ),
        scope=_scope(account_id, flows),
        evidence={
            "flows": [_flow_evidence(flow) for flow in flows],
            "window_cost_usd": _total_cost(flows),
            "lines": sum(flow.lines for flow in flows),
        },
        assumptions={
            "window_days": str(context.window_days),
            "internet_egress_info_monthly_usd": context.thresholds.internet_egress_info_monthly_usd,
            "saving": "none claimed (information only)",
        },
    )
