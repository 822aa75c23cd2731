"""A small FOCUS bill with the tag spellings and unit-of-work IDs the report groups by, and
hand-made findings (with text that must be escaped)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

from costrail.findings import Finding, Remediation
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest

COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ProviderName",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "Tags",
]
SEPTEMBER = ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z")
OCTOBER = ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
TRAINING_JOB = "arn:aws:sagemaker:us-east-1:111122223333:training-job/sft-{}"
ENDPOINT = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/chat"
ENDPOINT_LOGS = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/sagemaker/Endpoints/chat"

#: (billed USD, period, charge start, category, provider, service category, service, resource, tags)
ROWS: list[tuple[str, tuple[str, str], str, str, str, str, str, str, dict[str, str]]] = [
    ("100.00", SEPTEMBER, "2026-09-03T10:00:00Z", "Usage", "AWS", "Compute", "Amazon EC2",
     "i-0aaa", {"team": "Research"}),
    ("40.00", SEPTEMBER, "2026-09-05T08:00:00Z", "Usage", "AWS", "AI and Machine Learning",
     "Amazon SageMaker", TRAINING_JOB.format(1),
     {"Team": "research", "project": "orca", "model": "orca-13b"}),
    ("60.00", OCTOBER, "2026-10-07T08:00:00Z", "Usage", "AWS", "AI and Machine Learning",
     "Amazon SageMaker", TRAINING_JOB.format(2),
     {"owner_team": " RESEARCH ", "project": "orca", "model": "orca-13b"}),
    ("300.00", OCTOBER, "2026-10-01T00:00:00Z", "Usage", "AWS", "AI and Machine Learning",
     "Amazon SageMaker", ENDPOINT, {"owner-team": "applied", "project": "lumen"}),
    ("5.00", OCTOBER, "2026-10-01T00:00:00Z", "Usage", "AWS", "Management and Governance",
     "AmazonCloudWatch", ENDPOINT_LOGS, {"owner-team": "Applied"}),
    ("200.00", OCTOBER, "2026-10-02T00:00:00Z", "Usage", "Google Cloud", "Compute",
     "Compute Engine", "//compute.googleapis.com/projects/p/zones/z/instances/vm-1", {}),
    ("12.00", OCTOBER, "2026-10-01T00:00:00Z", "Tax", "AWS", "Compute", "Amazon EC2", "", {}),
]  # fmt: skip
TOTAL_USD = Decimal("717.00")


def write_focus_csv(path: Path) -> Path:
    """The rows above as a FOCUS 1.2 CSV (the column names and value forms FOCUS exports use)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for billed, period, start, category, provider, sc, service, resource, tags in ROWS:
            end = start.replace(":00:00Z", ":59:59Z")
            tags_json = json.dumps(tags) if tags else ""
            fixed = [billed, billed, "111122223333", "USD", *period, start, end, category]
            writer.writerow([*fixed, provider, sc, service, resource, tags_json])
    return path


def small_warehouse(directory: Path) -> Warehouse:
    """A DuckDB warehouse holding the rows above, loaded through the FOCUS reader."""
    warehouse = connect(str(directory / "w.duckdb"))
    ingest(warehouse, [write_focus_csv(directory / "focus.csv")])
    return warehouse


def hand_made_findings() -> list[Finding]:
    return [
        Finding(
            kind="s3_cold_data_in_standard",
            title="Bucket <script>alert('x')</script> is cold",
            provider="aws",
            resources=("acme-cold-bucket",),
            monthly_savings_usd=Decimal("80.50"),
            confidence="high",
            confidence_reason="no GET requests in 30 days",
            remediation=Remediation(
                action="Move to Glacier Instant Retrieval",
                snippet='resource "aws_s3_bucket_lifecycle_configuration" "cold" { }',
                snippet_kind="terraform",
            ),
            scope={"account": "111122223333", "team": "data & <ml>"},
            evidence={"standard_storage_usd": Decimal("120.25"), "line_items": 30},
            assumptions={"glacier_ir_usd_per_gb_month": Decimal("0.004")},
        ),
        Finding(
            kind="idle_gpu_instance",
            title="Dev GPU i-0aaa runs nights and weekends",
            provider="aws",
            resources=("i-0aaa",),
            monthly_savings_usd=Decimal("120.00"),
            confidence="medium",
            confidence_reason="env=dev, billed 24×7",
            remediation=Remediation(action="Stop it outside working hours"),
            scope={"account": "111122223333", "env": "dev"},
            evidence={"billed_hours": 720, "savings_by_resource": {"i-0aaa": "120.00"}},
            monthly_cost_usd=Decimal("170.00"),
        ),
        Finding(
            kind="idle_gpu_instance",
            title="Dev GPU i-0bbb runs nights and weekends",
            provider="aws",
            resources=("i-0bbb",),
            monthly_savings_usd=Decimal("60.00"),
            confidence="medium",
            confidence_reason="env=dev, billed 24×7",
            remediation=Remediation(action="Stop it outside working hours"),
        ),
    ]
