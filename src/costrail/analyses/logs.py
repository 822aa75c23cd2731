"""Logs kept forever: CloudWatch log groups whose stored bytes grow by their ingestion."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from costrail.analyses.always_on import ENV_TAG_KEYS, cost_where, first_tag, quantity_where
from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS

KIND = "log_retention_never_expires"
RETENTION_OPTIONS_DAYS = (7, 30, 90)
RECOMMENDED_RETENTION_DAYS = 30
#: storage must grow by at least this share of the bytes ingested to look like "never expire"
#: (CloudWatch bills stored logs compressed, so growth is below ingestion even then)
MIN_GROWTH_TO_INGESTION = Decimal("0.05")


def window_sums(costs: ir.Table, start: datetime, end: datetime, suffix: str) -> ir.Table:
    """Per log group: stored GB-months and their cost, and GB ingested, in [start, end)."""
    rows = costs.filter(
        costs.ChargePeriodStart >= start,
        costs.ChargePeriodStart < end,
        costs.ResourceId.notnull(),
        costs.x_ServiceCode == "AmazonCloudWatch",
        costs.ChargeCategory == "Usage",
        costs.ResourceId.contains(":log-group:"),
    )
    stored = rows.x_UsageType.endswith("TimedStorage-ByteHrs")
    ingested = rows.x_UsageType.endswith("DataProcessing-Bytes")
    rows = rows.mutate(
        _stored=quantity_where(rows, stored),
        _stored_cost=cost_where(rows, stored),
        _stored_lines=stored.cast("int64"),
        _ingested=quantity_where(rows, ingested),
        _ingested_lines=ingested.cast("int64"),
    )
    return rows.group_by("ResourceId").aggregate(
        **{
            f"gb_months{suffix}": rows._stored.sum(),
            f"storage_cost{suffix}": rows._stored_cost.sum(),
            f"storage_lines{suffix}": rows._stored_lines.sum(),
            f"ingested_gb{suffix}": rows._ingested.sum(),
            f"ingested_lines{suffix}": rows._ingested_lines.sum(),
        }
    )


def log_group_rows(context: AnalysisContext) -> list[dict[str, Any]]:
    """Per log group: this window and the one before it (a few rows to Python)."""
    costs = context.costs
    length = timedelta(seconds=float(context.window_days * 86400))
    current = window_sums(costs, context.window_start, context.window_end, "")
    previous = window_sums(costs, context.window_start - length, context.window_start, "_prev")
    in_window = context.in_window()
    tagged = in_window.filter(in_window.ResourceId.contains(":log-group:"))
    labels = tagged.group_by("ResourceId").aggregate(
        provider=tagged.x_Provider.max(),
        account=tagged.SubAccountId.max(),
        region=tagged.RegionId.max(),
        team=first_tag(tagged.Tags, TEAM_TAG_KEYS).max(),
        project=first_tag(tagged.Tags, PROJECT_TAG_KEYS).max(),
        env=first_tag(tagged.Tags, ENV_TAG_KEYS).max(),
    )
    joined = (
        current.filter(current.gb_months > 0)
        .inner_join(previous.filter(previous.gb_months_prev > 0), "ResourceId")
        .inner_join(labels, "ResourceId")
    )
    result: list[dict[str, Any]] = joined.to_pyarrow().to_pylist()
    return result


def retention_savings_usd(
    stored_gb: Decimal, kept_gb_per_day: Decimal, usd_per_gb_month: Decimal, days: int
) -> Decimal:
    """Monthly saving of keeping `days` of logs: the GB beyond `days` × daily volume, at cost."""
    kept_gb = min(stored_gb, kept_gb_per_day * days)
    return (stored_gb - kept_gb) * usd_per_gb_month


def finding_for(context: AnalysisContext, row: dict[str, Any]) -> Finding | None:
    """The retention finding for one log group, or None if its storage does not keep growing."""
    days = context.window_days
    stored_gb = context.monthly(Decimal(row["gb_months"]))
    previous_gb = context.monthly(Decimal(row["gb_months_prev"]))
    growth_per_day = (stored_gb - previous_gb) / days
    ingested_per_day = Decimal(row["ingested_gb"]) / days
    if growth_per_day <= 0 or growth_per_day < MIN_GROWTH_TO_INGESTION * ingested_per_day:
        return None
    rate = Decimal(row["storage_cost"]) / Decimal(row["gb_months"])
    # stored (compressed) bytes cannot grow faster than raw ingestion: the smaller is the
    # daily volume a retention period would keep
    kept_per_day = min(growth_per_day, ingested_per_day) if ingested_per_day > 0 else growth_per_day
    savings = {
        retention: retention_savings_usd(stored_gb, kept_per_day, rate, retention).quantize(
            Decimal("0.01")
        )
        for retention in RETENTION_OPTIONS_DAYS
    }
    monthly = savings[RECOMMENDED_RETENTION_DAYS]
    if monthly < context.thresholds.min_monthly_savings_usd:
        return None
    resource = row["ResourceId"]
    group = resource.split(":log-group:", 1)[1]
    scope = {
        k: str(row[k]) for k in ("account", "team", "project", "env") if row.get(k) is not None
    }
    cent = Decimal("0.01")
    return Finding(
        kind=KIND,
        title=f"Log group {group} keeps logs forever: storage grows {growth_per_day:.0f} GB/day",
        provider=row["provider"],
        resources=(resource,),
        monthly_savings_usd=monthly,
        monthly_cost_usd=(stored_gb * rate).quantize(cent),
        confidence="high" if growth_per_day >= Decimal("0.5") * ingested_per_day else "medium",
        confidence_reason=(
            "stored bytes grew by about the bytes ingested over the window: nothing expires; "
            "confirm with `aws logs describe-log-groups` (no retentionInDays)"
        ),
        remediation=Remediation(
            action=f"Set a {RECOMMENDED_RETENTION_DAYS}-day retention (export to S3 first if "
            "the logs must be kept for audit).",
            snippet=(
                f"aws logs put-retention-policy --log-group-name {group} "
                f"--retention-in-days {RECOMMENDED_RETENTION_DAYS}"
                + (f" --region {row['region']}" if row["region"] else "")
            ),
            snippet_kind="aws-cli",
        ),
        scope=scope,
        evidence={
            "window_start": context.window_start,
            "window_end": context.window_end,
            "average_stored_gb": stored_gb.quantize(cent),
            "previous_window_average_stored_gb": previous_gb.quantize(cent),
            "storage_growth_gb_per_day": growth_per_day.quantize(cent),
            "ingested_gb_per_day": ingested_per_day.quantize(cent),
            "kept_gb_per_retention_day": kept_per_day.quantize(cent),
            "storage_usd_per_gb_month": rate.quantize(Decimal("0.000001")),
            "storage_cost_in_window_usd": Decimal(row["storage_cost"]),
            "storage_line_items": row["storage_lines"] + row["storage_lines_prev"],
            "ingestion_line_items": row["ingested_lines"],
            "savings_by_retention_days": {str(k): v for k, v in savings.items()},
        },
        assumptions={
            "recommended_retention_days": RECOMMENDED_RETENTION_DAYS,
            "retention_options_days": list(RETENTION_OPTIONS_DAYS),
            "kept_gb_at_retention": "retention days × min(daily growth of stored GB, daily "
            "ingested GB)",
            "min_growth_to_ingestion": MIN_GROWTH_TO_INGESTION,
            "storage_price": "the log group's own billed rate per GB-month",
        },
    )


@analyses.register(KIND)
def log_retention_never_expires(context: AnalysisContext) -> list[Finding]:
    """Log groups whose storage grows by their ingestion → savings at 7/30/90-day retention."""
    findings = [finding_for(context, row) for row in log_group_rows(context)]
    return sorted(
        (finding for finding in findings if finding is not None),
        key=lambda finding: finding.monthly_savings_usd,
        reverse=True,
    )
