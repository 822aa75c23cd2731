"""Cold data in hot storage: S3 Standard buckets that nobody reads → a colder storage class."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costrail.analyses.always_on import ENV_TAG_KEYS, cost_where, first_tag, quantity_where
from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS

KIND = "s3_cold_data_in_standard"
#: S3 read requests (GET, SELECT …) of the Standard class: `Requests-Tier2`, `USW2-Requests-Tier2`
READ_USAGE_SUFFIX = "Requests-Tier2"
#: a bucket counts as cold when at most this share of its data is read back per month
MAX_READ_SHARE_PER_MONTH = Decimal("0.01")
#: mean object size assumed where the bill gives no object count (transitions are per object)
ASSUMED_OBJECT_SIZE_GB = Decimal("0.064")
#: months over which the one-time lifecycle transition cost is spread
TRANSITION_AMORTISATION_MONTHS = Decimal(12)
#: S3 Standard storage and GET list prices in us-east-1 (first tier), the reference that the
#: target prices below are quoted against. Source: https://aws.amazon.com/s3/pricing/
STANDARD_USD_PER_GB_MONTH = Decimal("0.023")
STANDARD_GET_USD_PER_1000 = Decimal("0.0004")


@dataclass(frozen=True)
class TargetClass:
    """A colder S3 class and its us-east-1 list prices (https://aws.amazon.com/s3/pricing/)."""

    name: str
    storage_class: str
    usd_per_gb_month: Decimal
    retrieval_usd_per_gb: Decimal
    get_usd_per_1000: Decimal
    transition_usd_per_1000: Decimal
    minimum_days: int


TARGETS = (
    TargetClass(
        "Glacier Instant Retrieval",
        "GLACIER_IR",
        Decimal("0.004"),
        Decimal("0.03"),
        Decimal("0.01"),
        Decimal("0.02"),
        90,
    ),
    TargetClass(
        "Standard-IA",
        "STANDARD_IA",
        Decimal("0.0125"),
        Decimal("0.01"),
        Decimal("0.001"),
        Decimal("0.01"),
        30,
    ),
)


@dataclass(frozen=True)
class Option:
    """One target class's monthly saving, broken down."""

    target: TargetClass
    storage_saving_usd: Decimal
    retrieval_usd: Decimal
    request_usd: Decimal
    transition_usd_per_month: Decimal

    @property
    def net_usd(self) -> Decimal:
        return (
            self.storage_saving_usd
            - self.retrieval_usd
            - self.request_usd
            - self.transition_usd_per_month
        )


def option_for(
    target: TargetClass, stored_gb: Decimal, standard_usd_per_gb: Decimal, gets_per_month: Decimal
) -> Option:
    """Monthly net saving of moving `stored_gb` to `target`, read `gets_per_month` times.

    Target prices are scaled by the bucket's billed Standard rate over the us-east-1 one, so a
    region's price level carries over.
    """
    scale = standard_usd_per_gb / STANDARD_USD_PER_GB_MONTH
    retrieved_gb = gets_per_month * ASSUMED_OBJECT_SIZE_GB
    objects = stored_gb / ASSUMED_OBJECT_SIZE_GB
    return Option(
        target=target,
        storage_saving_usd=stored_gb * (standard_usd_per_gb - target.usd_per_gb_month * scale),
        retrieval_usd=retrieved_gb * target.retrieval_usd_per_gb * scale,
        request_usd=gets_per_month
        * (target.get_usd_per_1000 - STANDARD_GET_USD_PER_1000)
        * scale
        / 1000,
        transition_usd_per_month=objects
        * target.transition_usd_per_1000
        / 1000
        / TRANSITION_AMORTISATION_MONTHS,
    )


def bucket_rows(context: AnalysisContext) -> list[dict[str, Any]]:
    """Per S3 bucket: Standard GB-months and cost, read requests (a few rows to Python)."""
    costs = context.in_window()
    rows = costs.filter(
        costs.ResourceId.notnull(),
        costs.x_ServiceCode == "AmazonS3",
        costs.ChargeCategory == "Usage",
    )
    standard = (rows.x_StorageClass == "STANDARD") & (rows.PricingUnit == "GB-Mo")
    reads = rows.x_UsageType.endswith(READ_USAGE_SUFFIX)
    rows = rows.mutate(
        _gb_months=quantity_where(rows, standard),
        _standard_cost=cost_where(rows, standard),
        _standard_lines=standard.cast("int64"),
        _gets=quantity_where(rows, reads),
        _read_lines=reads.cast("int64"),
        _team=first_tag(rows.Tags, TEAM_TAG_KEYS),
        _project=first_tag(rows.Tags, PROJECT_TAG_KEYS),
        _env=first_tag(rows.Tags, ENV_TAG_KEYS),
    )
    per_bucket = rows.group_by("ResourceId").aggregate(
        provider=rows.x_Provider.max(),
        account=rows.SubAccountId.max(),
        region=rows.RegionId.max(),
        team=rows._team.max(),
        project=rows._project.max(),
        env=rows._env.max(),
        gb_months=rows._gb_months.sum(),
        standard_cost_usd=rows._standard_cost.sum(),
        standard_line_items=rows._standard_lines.sum(),
        get_requests=rows._gets.sum(),
        read_line_items=rows._read_lines.sum(),
    )
    result: list[dict[str, Any]] = (
        per_bucket.filter(per_bucket.gb_months > 0).to_pyarrow().to_pylist()
    )
    return result


def finding_for(context: AnalysisContext, row: dict[str, Any]) -> Finding | None:
    """The lifecycle finding for one bucket, or None if it is read or the move does not pay."""
    stored_gb = context.monthly(Decimal(row["gb_months"]))
    standard_cost = Decimal(row["standard_cost_usd"])
    if stored_gb <= 0 or standard_cost <= 0:
        return None
    gets_per_month = context.monthly(Decimal(row["get_requests"]))
    if gets_per_month * ASSUMED_OBJECT_SIZE_GB > MAX_READ_SHARE_PER_MONTH * stored_gb:
        return None
    rate = standard_cost / Decimal(row["gb_months"])
    options = [option_for(t, stored_gb, rate, gets_per_month) for t in TARGETS]
    best = max(options, key=lambda option: option.net_usd)
    monthly = best.net_usd.quantize(Decimal("0.01"))
    if monthly < context.thresholds.min_monthly_savings_usd:
        return None
    bucket = row["ResourceId"]
    # S3 moves objects to Standard-IA only once they are 30 days old; Glacier IR at any age
    transition_days = 30 if best.target.storage_class == "STANDARD_IA" else 0
    never_read = row["read_line_items"] == 0
    scope = {
        k: str(row[k]) for k in ("account", "team", "project", "env") if row.get(k) is not None
    }
    cent = Decimal("0.01")
    return Finding(
        kind=KIND,
        title=f"S3 bucket {bucket}: {stored_gb / 1024:.1f} TiB in Standard, "
        + ("never read" if never_read else "hardly read")
        + f" → {best.target.name}",
        provider=row["provider"],
        resources=(bucket,),
        monthly_savings_usd=monthly,
        monthly_cost_usd=context.monthly(standard_cost).quantize(cent),
        confidence="high" if never_read else "medium",
        confidence_reason=(
            "no read request (Requests-Tier2) billed for the bucket in the window"
            if never_read
            else "a few read requests: retrieval cost estimated from an assumed object size"
        ),
        remediation=Remediation(
            action=f"Add a lifecycle rule moving the bucket's objects to {best.target.name} "
            f"(minimum storage duration {best.target.minimum_days} days; objects under 128 KB "
            "are billed as 128 KB).",
            snippet=(
                f'resource "aws_s3_bucket_lifecycle_configuration" "cold" {{\n'
                f'  bucket = "{bucket}"\n'
                f"  rule {{\n"
                f'    id     = "to-{best.target.storage_class.lower()}"\n'
                f'    status = "Enabled"\n'
                f"    filter {{}}\n"
                f"    transition {{\n"
                f"      days          = {transition_days}\n"
                f'      storage_class = "{best.target.storage_class}"\n'
                f"    }}\n  }}\n}}"
            ),
            snippet_kind="terraform",
        ),
        scope=scope,
        evidence={
            "window_start": context.window_start,
            "window_end": context.window_end,
            "standard_gb_months_in_window": Decimal(row["gb_months"]),
            "average_stored_gb": stored_gb.quantize(cent),
            "standard_usd_per_gb_month": rate.quantize(Decimal("0.000001")),
            "standard_cost_in_window_usd": standard_cost,
            "standard_storage_line_items": row["standard_line_items"],
            "get_requests_in_window": Decimal(row["get_requests"]),
            "read_request_line_items": row["read_line_items"],
            "options": {
                option.target.name: {
                    "storage_saving_usd": option.storage_saving_usd.quantize(cent),
                    "retrieval_usd": option.retrieval_usd.quantize(cent),
                    "request_usd": option.request_usd.quantize(cent),
                    "transition_usd_per_month": option.transition_usd_per_month.quantize(cent),
                    "net_usd": option.net_usd.quantize(cent),
                }
                for option in options
            },
        },
        assumptions={
            "prices_source": "https://aws.amazon.com/s3/pricing/ (us-east-1, first tier)",
            "reference_standard_usd_per_gb_month": STANDARD_USD_PER_GB_MONTH,
            "target_prices": {
                t.name: {
                    "usd_per_gb_month": t.usd_per_gb_month,
                    "retrieval_usd_per_gb": t.retrieval_usd_per_gb,
                    "get_usd_per_1000": t.get_usd_per_1000,
                    "lifecycle_transition_usd_per_1000": t.transition_usd_per_1000,
                }
                for t in TARGETS
            },
            "regional_scaling": "target prices × (billed Standard rate / 0.023)",
            "assumed_object_size_gb": ASSUMED_OBJECT_SIZE_GB,
            "transition_amortisation_months": TRANSITION_AMORTISATION_MONTHS,
            "max_read_share_per_month": MAX_READ_SHARE_PER_MONTH,
        },
    )


@analyses.register(KIND)
def s3_cold_data_in_standard(context: AnalysisContext) -> list[Finding]:
    """S3 Standard data with (almost) no reads → lifecycle to a colder class, net of costs."""
    findings = [finding_for(context, row) for row in bucket_rows(context)]
    return sorted(
        (finding for finding in findings if finding is not None),
        key=lambda finding: finding.monthly_savings_usd,
        reverse=True,
    )
