"""Storage that only grows: rarely-read buckets (checkpoint and model-artifact sprawl) and
disk-snapshot sets whose stored GB rises every month → lifecycle expiration saves the old part.

Both analyses read a monthly series of average stored GB (Σ GB-month quantity of a month × days
in the month / days billed) from the whole history up to the window end; the saving is the GB
older than a retention horizon — current GB minus the GB added during the horizon at the
observed monthly growth — at the resource's own billed $/GB-month.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.always_on import ENV_TAG_KEYS, first_tag
from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.storage import (
    ASSUMED_OBJECT_SIZE_GB,
    MAX_READ_SHARE_PER_MONTH,
    READ_USAGE_SUFFIX,
)
from costrail.findings import Finding, Remediation
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS

STORAGE_KIND = "storage_growth"
SNAPSHOT_KIND = "snapshot_accumulation"
#: days in the "month" that growth per month is converted with (findings are per 30-day month)
DAYS_PER_MONTH = Decimal(30)
CENT = Decimal("0.01")
#: a month counts as growth only when its average GB is this share above the month before
#: (rounding of per-line GB-month quantities makes a stable store wobble by far less)
MIN_MONTHLY_GROWTH_SHARE = Decimal("0.01")


def _gb_month_unit(unit: ir.StringValue) -> ir.BooleanValue:
    """GB-month pricing units of the clouds: `GB-Mo`, `gibibyte month`, `1 GB/Month`."""
    lowered = unit.lower()
    return (lowered.contains("gb") | lowered.contains("gibibyte")) & lowered.contains("mo")


def bucket_storage(rows: ir.Table) -> ir.BooleanValue:
    """Stored bytes of an object-storage bucket / account (early-delete fees excluded)."""
    meter = rows.SkuMeter.fill_null("")
    usage = rows.x_UsageType.fill_null("")
    aws = (rows.x_ServiceCode == "AmazonS3") & usage.contains("TimedStorage")
    gcp = (rows.ServiceName == "Cloud Storage") & ~meter.contains("Early Delete")
    azure = (rows.x_ServiceCode.lower() == "microsoft.storage") & meter.endswith("Data Stored")
    return _gb_month_unit(rows.PricingUnit.fill_null("")) & (aws | gcp | azure)


def bucket_reads(rows: ir.Table) -> ir.BooleanValue:
    """Read requests: S3 `Requests-Tier2` (GET, SELECT), GCS Class B, Azure Read Operations."""
    meter = rows.SkuMeter.fill_null("")
    usage = rows.x_UsageType.fill_null("")
    return (
        ((rows.x_ServiceCode == "AmazonS3") & usage.endswith(READ_USAGE_SUFFIX))
        | ((rows.ServiceName == "Cloud Storage") & meter.contains("Class B Operations"))
        | ((rows.x_ServiceCode.lower() == "microsoft.storage") & meter.contains("Read Operations"))
    )


def snapshot_storage(rows: ir.Table) -> ir.BooleanValue:
    """Disk-snapshot storage: EBS `EBS:SnapshotUsage`, GCP `Storage PD Snapshot`, Azure
    snapshot meters."""
    meter = rows.SkuMeter.fill_null("")
    usage = rows.x_UsageType.fill_null("")
    aws = (rows.x_ServiceCode == "AmazonEC2") & usage.contains("EBS:SnapshotUsage")
    other = (rows.x_Provider != "aws") & meter.contains("Snapshot")
    return _gb_month_unit(rows.PricingUnit.fill_null("")) & (aws | other)


def _history(context: AnalysisContext) -> ir.Table:
    costs = context.costs
    return costs.filter(
        costs.ChargePeriodStart < context.window_end, costs.ChargeCategory == "Usage"
    )


def monthly_rows(
    rows: ir.Table, stored: ir.BooleanValue, reads: ir.BooleanValue | None, keys: list[str]
) -> list[dict[str, Any]]:
    """Per key and month: GB-months, their cost, line items, days billed, read requests."""
    zero_q = ibis.literal(0).cast(rows.PricingQuantity.type())
    zero_m = ibis.literal(0).cast(rows.EffectiveCost.type())
    read_flag = reads if reads is not None else ibis.literal(False)
    rows = rows.mutate(
        _stored=stored,
        _read=read_flag,
        _month=rows.ChargePeriodStart.truncate("M"),
    )
    rows = rows.filter(rows._stored | rows._read)
    rows = rows.mutate(
        _gb_months=rows._stored.ifelse(rows.PricingQuantity.fill_null(0), zero_q),
        _cost=rows._stored.ifelse(rows.EffectiveCost, zero_m),
        _lines=rows._stored.cast("int64"),
        _day=rows._stored.ifelse(rows.ChargePeriodStart.date(), ibis.null("date")),
        # reads in requests: FOCUS ConsumedQuantity counts single requests (Azure prices per 10K)
        _reads=rows._read.ifelse(
            ibis.coalesce(rows.ConsumedQuantity, rows.PricingQuantity, zero_q), zero_q
        ),
        _read_lines=rows._read.cast("int64"),
    )
    grouped = rows.group_by([*keys, "_month"]).aggregate(
        gb_months=rows._gb_months.sum(),
        cost=rows._cost.sum(),
        line_items=rows._lines.sum(),
        days=rows._day.nunique(),
        reads=rows._reads.sum(),
        read_line_items=rows._read_lines.sum(),
    )
    result: list[dict[str, Any]] = grouped.to_pyarrow().to_pylist()
    return result


@dataclass(frozen=True)
class MonthPoint:
    """One month of a storage series."""

    month: date
    gb_months: Decimal
    cost_usd: Decimal
    days_billed: int
    reads: Decimal
    line_items: int
    read_line_items: int

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.month.year, self.month.month)[1]

    @property
    def average_gb(self) -> Decimal:
        """Average GB stored over the billed days of the month."""
        return self.gb_months * self.days_in_month / self.days_billed

    @property
    def reads_per_month(self) -> Decimal:
        return self.reads * self.days_in_month / self.days_billed


def series_of(rows: list[dict[str, Any]]) -> list[MonthPoint]:
    """Months in order, those with stored bytes billed."""
    points = [
        MonthPoint(
            month=_as_date(row["_month"]),
            gb_months=Decimal(row["gb_months"]),
            cost_usd=Decimal(row["cost"]),
            days_billed=int(row["days"]),
            reads=Decimal(row["reads"]),
            line_items=int(row["line_items"]),
            read_line_items=int(row["read_line_items"]),
        )
        for row in rows
    ]
    return sorted((p for p in points if p.gb_months > 0 and p.days_billed > 0), key=_month_key)


def _month_key(point: MonthPoint) -> date:
    return point.month


def _as_date(value: datetime | date) -> date:
    return date(value.year, value.month, 1)


def growing_tail(points: list[MonthPoint], months: int) -> list[MonthPoint] | None:
    """The last `months` consecutive months if each average GB is above the one before."""
    if months < 2 or len(points) < months:
        return None
    tail = points[-months:]
    for before, after in pairwise(tail):
        consecutive = (after.month.year * 12 + after.month.month) - (
            before.month.year * 12 + before.month.month
        ) == 1
        rising = after.average_gb > before.average_gb * (1 + MIN_MONTHLY_GROWTH_SHARE)
        if not consecutive or not rising:
            return None
    return tail


@dataclass(frozen=True)
class Expiry:
    """The saving of expiring data older than `horizon_days` from a growing store."""

    current_gb: Decimal
    growth_gb_per_month: Decimal
    added_in_horizon_gb: Decimal
    expired_gb: Decimal
    usd_per_gb_month: Decimal

    @property
    def monthly_savings_usd(self) -> Decimal:
        return (self.expired_gb * self.usd_per_gb_month).quantize(CENT)


def expiry_for(tail: list[MonthPoint], horizon_days: int) -> Expiry:
    """(current GB − GB added in the horizon at the mean monthly growth) × billed $/GB-month.

    Current GB is the latest month's average; the rate is that month's cost / GB-months.
    """
    last = tail[-1]
    current = last.average_gb
    growth = (current - tail[0].average_gb) / (len(tail) - 1)
    added = min(current, growth * Decimal(horizon_days) / DAYS_PER_MONTH)
    return Expiry(
        current_gb=current,
        growth_gb_per_month=growth,
        added_in_horizon_gb=added,
        expired_gb=current - added,
        usd_per_gb_month=last.cost_usd / last.gb_months,
    )


def rarely_read(reads_per_month: Decimal, stored_gb: Decimal) -> bool:
    """storage.py's read estimate: reads × assumed object size ≤ the cold share of stored GB."""
    return reads_per_month * ASSUMED_OBJECT_SIZE_GB <= MAX_READ_SHARE_PER_MONTH * stored_gb


def _series_evidence(tail: list[MonthPoint], expiry: Expiry) -> dict[str, Any]:
    return {
        "monthly_average_gb": {
            p.month.strftime("%Y-%m"): p.average_gb.quantize(CENT) for p in tail
        },
        "growth_gb_by_month": {
            after.month.strftime("%Y-%m"): (after.average_gb - before.average_gb).quantize(CENT)
            for before, after in pairwise(tail)
        },
        "mean_growth_gb_per_month": expiry.growth_gb_per_month.quantize(CENT),
        "current_gb": expiry.current_gb.quantize(CENT),
        "gb_added_within_retention": expiry.added_in_horizon_gb.quantize(CENT),
        "gb_expired": expiry.expired_gb.quantize(CENT),
        "usd_per_gb_month": expiry.usd_per_gb_month.quantize(Decimal("0.000001")),
        "storage_line_items": sum(p.line_items for p in tail),
        "days_billed_by_month": {p.month.strftime("%Y-%m"): p.days_billed for p in tail},
    }


def _labels(history: ir.Table, stored: ir.BooleanValue, keys: list[str]) -> dict[tuple, dict]:
    rows = history.filter(stored)
    labels = rows.group_by(keys).aggregate(
        provider=rows.x_Provider.max(),
        account=rows.SubAccountId.max(),
        region=rows.RegionId.max(),
        team=first_tag(rows.Tags, TEAM_TAG_KEYS).max(),
        project=first_tag(rows.Tags, PROJECT_TAG_KEYS).max(),
        env=first_tag(rows.Tags, ENV_TAG_KEYS).max(),
    )
    return {tuple(row[k] for k in keys): row for row in labels.to_pyarrow().to_pylist()}


def _scope(label: dict[str, Any]) -> dict[str, str]:
    return {
        k: str(label[k]) for k in ("account", "region", "team", "project", "env") if label.get(k)
    }


def _by_key(rows: list[dict[str, Any]], keys: list[str]) -> dict[tuple, list[dict[str, Any]]]:
    grouped: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(tuple(row[k] for k in keys), []).append(row)
    return grouped


def _growth_expiry(
    context: AnalysisContext,
    rows: list[dict[str, Any]],
    horizon_days: int,
    keep: Callable[[MonthPoint], bool] | None = None,
) -> tuple[list[MonthPoint], Expiry] | None:
    """The months of steady growth reaching into the window and the saving of expiring data
    after `horizon_days`; None when the growth is old, `keep` rejects the latest month, or the
    saving is below the minimum worth reporting."""
    tail = growing_tail(series_of(rows), context.thresholds.sprawl_growth_months)
    if tail is None or not _recent(context, tail):
        return None
    if keep is not None and not keep(tail[-1]):
        return None
    expiry = expiry_for(tail, horizon_days)
    if expiry.monthly_savings_usd < context.thresholds.min_monthly_savings_usd:
        return None
    return tail, expiry


def _growth_assumptions(context: AnalysisContext, horizon_days: int) -> dict[str, Any]:
    """The assumptions every growth-expiry finding states, first in its assumptions."""
    return {
        "growth_months": context.thresholds.sprawl_growth_months,
        "min_monthly_growth_share": MIN_MONTHLY_GROWTH_SHARE,
        "retention_days": horizon_days,
        "days_per_month": DAYS_PER_MONTH,
        "gb_added_within_retention": "mean monthly growth × retention days / 30",
    }


def _rarely_read_month(point: MonthPoint) -> bool:
    return rarely_read(point.reads_per_month, point.average_gb)


def _recent(context: AnalysisContext, tail: list[MonthPoint]) -> bool:
    """The series must reach into the analysis window (storage still billed)."""
    start = context.window_start
    return (tail[-1].month.year, tail[-1].month.month) >= (start.year, start.month)


# -- storage growth ---------------------------------------------------------------------------


def _lifecycle_remediation(provider: str, bucket: str, days: int) -> Remediation:
    name = bucket.rsplit("/", 1)[-1]
    if provider == "gcp":
        rule = json.dumps({"rule": [{"action": {"type": "Delete"}, "condition": {"age": days}}]})
        return Remediation(
            action=f"Add a lifecycle rule deleting objects older than {days} days (keep the "
            "checkpoints still needed under a separate prefix or bucket first).",
            snippet=f"echo '{rule}' > lifecycle.json\n"
            f"gcloud storage buckets update gs://{name} --lifecycle-file=lifecycle.json",
            snippet_kind="gcloud",
        )
    if provider == "azure":
        policy = json.dumps(
            {
                "rules": [
                    {
                        "enabled": True,
                        "name": f"expire-after-{days}-days",
                        "type": "Lifecycle",
                        "definition": {
                            "filters": {"blobTypes": ["blockBlob"]},
                            "actions": {
                                "baseBlob": {"delete": {"daysAfterModificationGreaterThan": days}}
                            },
                        },
                    }
                ]
            }
        )
        return Remediation(
            action=f"Add a lifecycle management rule deleting blobs not modified for {days} "
            "days (keep the blobs still needed in a separate container first).",
            snippet=f"az storage account management-policy create --account-name {name} "
            f"--resource-group <resource-group> --policy '{policy}'",
            snippet_kind="az",
        )
    configuration = json.dumps(
        {
            "Rules": [
                {
                    "ID": f"expire-after-{days}-days",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": days},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                }
            ]
        }
    )
    return Remediation(
        action=f"Add a lifecycle rule expiring objects after {days} days and deleting noncurrent "
        "versions (scope the rule's prefix to checkpoints/artifacts that may go; copy the "
        "ones to keep elsewhere first).",
        snippet=f"aws s3api put-bucket-lifecycle-configuration --bucket {name} "
        f"--lifecycle-configuration '{configuration}'",
        snippet_kind="aws-cli",
    )


def storage_growth_finding(
    context: AnalysisContext, bucket: str, rows: list[dict[str, Any]], label: dict[str, Any]
) -> Finding | None:
    thresholds = context.thresholds
    horizon = thresholds.sprawl_retention_days
    grown = _growth_expiry(context, rows, horizon, keep=_rarely_read_month)
    if grown is None:
        return None
    tail, expiry = grown
    last = tail[-1]
    reads = last.reads_per_month
    monthly = expiry.monthly_savings_usd
    provider = str(label.get("provider") or "")
    never_read = last.read_line_items == 0 or reads == 0
    return Finding(
        kind=STORAGE_KIND,
        title=f"Bucket {bucket.rsplit('/', 1)[-1]} grows {expiry.growth_gb_per_month:.0f} "
        f"GB/month and is {'never' if never_read else 'hardly'} read: expire objects older "
        f"than {horizon} days",
        provider=provider,
        resources=(bucket,),
        monthly_savings_usd=monthly,
        monthly_cost_usd=(expiry.current_gb * expiry.usd_per_gb_month).quantize(CENT),
        confidence="medium" if never_read else "low",
        confidence_reason=(
            "stored GB rose every month and "
            + ("no read request was billed" if never_read else "reads touch under 1 % of it")
            + ": the bill cannot tell which old objects are still needed (a final checkpoint, "
            "a released model); check before expiring"
        ),
        remediation=_lifecycle_remediation(provider, bucket, horizon),
        scope=_scope(label),
        evidence={
            **_series_evidence(tail, expiry),
            "read_requests_last_month": reads.quantize(Decimal(1)),
            "read_request_line_items": sum(p.read_line_items for p in tail),
        },
        assumptions={
            **_growth_assumptions(context, horizon),
            "rarely_read": "read requests per month × assumed object size "
            f"{ASSUMED_OBJECT_SIZE_GB} GB ≤ {MAX_READ_SHARE_PER_MONTH} × stored GB",
            "storage_price": "the bucket's own billed rate per GB-month (latest month)",
        },
    )


@analyses.register(STORAGE_KIND)
def storage_growth(context: AnalysisContext) -> list[Finding]:
    """Rarely-read buckets whose stored GB rises every month → expire what is past retention."""
    history = _history(context)
    history = history.filter(history.ResourceId.notnull())
    stored = bucket_storage(history)
    rows = monthly_rows(history, stored, bucket_reads(history), ["ResourceId"])
    labels = _labels(history, stored, ["ResourceId"])
    findings = [
        storage_growth_finding(context, key[0], series, labels.get(key, {}))
        for key, series in _by_key(rows, ["ResourceId"]).items()
    ]
    return sorted(
        (f for f in findings if f is not None), key=lambda f: f.monthly_savings_usd, reverse=True
    )


# -- snapshot accumulation --------------------------------------------------------------------

SNAPSHOT_KEYS = ["x_Provider", "SubAccountId", "RegionId"]


def _snapshot_remediation(provider: str, region: str | None, days: int) -> Remediation:
    if provider == "gcp":
        return Remediation(
            action=f"Attach a snapshot schedule keeping {days} days to the disks, and delete "
            f"snapshots older than {days} days.",
            snippet=f"gcloud compute resource-policies create snapshot-schedule keep-{days}d "
            f"--region {region or '<region>'} --max-retention-days {days} "
            "--daily-schedule --start-time 03:00",
            snippet_kind="gcloud",
        )
    if provider == "azure":
        return Remediation(
            action=f"Protect the disks with an Azure Backup disk policy retaining {days} days, "
            f"and delete snapshots older than {days} days.",
            snippet="az snapshot list --query \"[?timeCreated<'<cut-off date>'].id\" -o tsv "
            "| xargs -r az snapshot delete --ids",
            snippet_kind="az",
        )
    details = json.dumps(
        {
            "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
            "ResourceTypes": ["VOLUME"],
            "TargetTags": [{"Key": "backup", "Value": "daily"}],
            "Schedules": [
                {
                    "Name": f"daily-keep-{days}d",
                    "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
                    "RetainRule": {"Interval": days, "IntervalUnit": "DAYS"},
                    "CopyTags": True,
                }
            ],
        }
    )
    return Remediation(
        action=f"Replace ad-hoc snapshots with an Amazon Data Lifecycle Manager policy keeping "
        f"{days} days, and delete the older manual snapshots.",
        snippet="aws dlm create-lifecycle-policy "
        + (f"--region {region} " if region else "")
        + f'--description "keep {days} days of EBS snapshots" --state ENABLED '
        "--execution-role-arn arn:aws:iam::<account>:role/AWSDataLifecycleManagerDefaultRole "
        f"--policy-details '{details}'",
        snippet_kind="aws-cli",
    )


def _snapshot_ids(history: ir.Table, stored: ir.BooleanValue, since: datetime) -> dict[tuple, list]:
    rows = history.filter(stored, history.ChargePeriodStart >= since, history.ResourceId.notnull())
    distinct = rows.select(*SNAPSHOT_KEYS, "ResourceId").distinct()
    ids: dict[tuple, list[str]] = {}
    for row in distinct.to_pyarrow().to_pylist():
        ids.setdefault(tuple(row[k] for k in SNAPSHOT_KEYS), []).append(row["ResourceId"])
    return {key: sorted(value) for key, value in ids.items()}


def snapshot_finding(
    context: AnalysisContext,
    key: tuple,
    rows: list[dict[str, Any]],
    label: dict[str, Any],
    snapshot_ids: list[str],
) -> Finding | None:
    thresholds = context.thresholds
    horizon = thresholds.snapshot_retention_days
    grown = _growth_expiry(context, rows, horizon)
    if grown is None:
        return None
    tail, expiry = grown
    monthly = expiry.monthly_savings_usd
    provider, account, region = key
    where = " / ".join(str(part) for part in (account, region) if part)
    return Finding(
        kind=SNAPSHOT_KIND,
        title=f"Disk snapshots in {where} grow {expiry.growth_gb_per_month:.0f} GB/month: keep "
        f"the last {horizon} days",
        provider=str(provider),
        resources=tuple(snapshot_ids),
        monthly_savings_usd=monthly,
        monthly_cost_usd=(expiry.current_gb * expiry.usd_per_gb_month).quantize(CENT),
        confidence="low",
        confidence_reason=(
            "snapshot storage rose every month, so nothing expires; snapshots are incremental, "
            "so deleting old ones frees less than their billed GB where later snapshots share "
            "their blocks, and the bill cannot tell which are kept on purpose (AMIs, audits)"
        ),
        remediation=_snapshot_remediation(str(provider), region, horizon),
        scope=_scope(label),
        evidence={
            **_series_evidence(tail, expiry),
            "snapshots_billed_in_window": len(snapshot_ids),
        },
        assumptions={
            **_growth_assumptions(context, horizon),
            "snapshot_set": "all snapshot storage of one account and region",
            "storage_price": "the set's own billed rate per GB-month (latest month)",
        },
    )


@analyses.register(SNAPSHOT_KIND)
def snapshot_accumulation(context: AnalysisContext) -> list[Finding]:
    """Snapshot sets (account × region) whose stored GB rises every month → keep N days."""
    history = _history(context)
    stored = snapshot_storage(history)
    rows = monthly_rows(history, stored, None, SNAPSHOT_KEYS)
    labels = _labels(history, stored, SNAPSHOT_KEYS)
    ids = _snapshot_ids(history, stored, context.window_start)
    findings = [
        snapshot_finding(context, key, series, labels.get(key, {}), ids.get(key, []))
        for key, series in _by_key(rows, SNAPSHOT_KEYS).items()
    ]
    return sorted(
        (f for f in findings if f is not None), key=lambda f: f.monthly_savings_usd, reverse=True
    )
