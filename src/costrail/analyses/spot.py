"""Spot candidates: on-demand GPU instances and SageMaker training that run interruptible jobs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, Thresholds, analyses
from costrail.findings import Confidence, Finding, Remediation
from costrail.pricing.gpu_offers import GpuOffer, gpu_offers
from costrail.spot import plan_checkpoints

KIND = "ondemand_should_be_spot"
CENT = Decimal("0.01")

#: tag keys that say what a workload is, and the values that mean "a batch job that can be
#: restarted from a checkpoint" (compared lower-cased)
WORKLOAD_TAG_KEYS = ("env", "Env", "environment", "workload", "purpose", "job-type", "job_type")
INTERRUPTIBLE_VALUES = (
    "training",
    "train",
    "batch",
    "research",
    "experiment",
    "experiments",
    "fine-tuning",
    "finetuning",
    "fine-tune",
    "sweep",
    "hpo",
)
TEAM_KEYS = ("team", "Team", "owner-team", "owner_team")


@dataclass(frozen=True)
class SpotSaving:
    """What moving one resource's on-demand hours to spot saves, over the observed window."""

    instance_hours: Decimal
    spot_cost_usd: Decimal
    overhead_fraction: Decimal
    savings_usd: Decimal


def spot_overhead_fraction(thresholds: Thresholds) -> Decimal:
    """Expected extra running time on spot (Young–Daly interval, Daly's overhead model)."""
    plan = plan_checkpoints(
        checkpoint_s=float(thresholds.checkpoint_minutes) * 60,
        interruptions_per_hour=float(thresholds.spot_interruptions_per_hour),
        restart_s=float(thresholds.restart_minutes) * 60,
    )
    if math.isinf(plan.overhead_fraction):
        return Decimal(1)
    return Decimal(str(round(plan.overhead_fraction, 6)))


def spot_saving(
    on_demand_cost_usd: Decimal, offer: GpuOffer, overhead_fraction: Decimal
) -> SpotSaving:
    """On-demand cost minus the same work on spot, the spot hours inflated by the overhead.

    Instance-hours are the on-demand cost over the catalog on-demand rate, so per-second and
    multi-SKU billing (GCP bills cores, memory and GPU apart) count alike.
    """
    assert offer.spot_usd_per_hour is not None
    hours = on_demand_cost_usd / offer.on_demand_usd_per_hour
    spot_cost = hours * offer.spot_usd_per_hour * (1 + overhead_fraction)
    return SpotSaving(hours, spot_cost, overhead_fraction, on_demand_cost_usd - spot_cost)


def _workload(costs: ir.Table) -> ir.StringValue:
    values = [costs.Tags.get(key) for key in WORKLOAD_TAG_KEYS]
    return ibis.coalesce(*values).lower()  # type: ignore[no-any-return]


def _is_sagemaker_training(costs: ir.Table) -> ir.BooleanValue:
    usage_type = costs.x_UsageType.fill_null("")
    return (costs.x_ServiceCode == "AmazonSageMaker") & (
        usage_type.startswith("Train:") | usage_type.contains("-Train:")
    )


def _candidate_rows(context: AnalysisContext) -> ir.Table:
    costs = context.in_window()
    workload = _workload(costs)
    is_instance = costs.x_GpuCount.fill_null(0) > 0
    return costs.filter(
        costs.ChargeCategory == "Usage",
        costs.x_PurchaseOption == "OnDemand",
        costs.ResourceId.notnull(),
        costs.x_InstanceType.notnull(),
        is_instance,
        (costs.x_ServiceCode.fill_null("") != "AmazonSageMaker") | _is_sagemaker_training(costs),
        workload.isin(INTERRUPTIBLE_VALUES) | _is_sagemaker_training(costs),
    ).mutate(workload=workload)


def _per_resource(rows: ir.Table) -> list[dict[str, Any]]:
    """One record per resource: on-demand cost, line items, hours billed, runs (starts)."""
    slots = rows.group_by(["ResourceId", "ChargePeriodStart", "ChargePeriodEnd"]).aggregate(
        cost=rows.EffectiveCost.sum()
    )
    previous_end = slots.ChargePeriodEnd.lag().over(
        group_by=slots.ResourceId, order_by=slots.ChargePeriodStart
    )
    slots = slots.mutate(
        starts_run=ibis.ifelse(
            previous_end.isnull() | (previous_end != slots.ChargePeriodStart), 1, 0
        ),
        slot_s=(slots.ChargePeriodEnd.epoch_seconds() - slots.ChargePeriodStart.epoch_seconds()),
    )
    runs = slots.group_by("ResourceId").aggregate(
        runs=slots.starts_run.sum(), billed_s=slots.slot_s.sum()
    )
    totals = rows.group_by("ResourceId").aggregate(
        provider=rows.x_Provider.max(),
        service=rows.x_ServiceCode.max(),
        instance_type=rows.x_InstanceType.max(),
        region=rows.RegionId.max(),
        account=rows.SubAccountId.max(),
        workload=rows.workload.max(),
        team=ibis.coalesce(*[rows.Tags.get(key) for key in TEAM_KEYS]).max(),
        project=rows.Tags.get("project").max(),
        on_demand_cost=rows.EffectiveCost.sum(),
        line_items=rows.count(),
        first_start=rows.ChargePeriodStart.min(),
        last_end=rows.ChargePeriodEnd.max(),
    )
    joined = totals.join(runs, "ResourceId")
    records: list[dict[str, Any]] = joined.order_by("ResourceId").to_pyarrow().to_pylist()
    return records


def _offers() -> dict[tuple[str, str, str], GpuOffer]:
    found: dict[tuple[str, str, str], GpuOffer] = {}
    for cloud in ("aws", "azure", "gcp"):
        for offer in gpu_offers(cloud):
            found.setdefault((cloud, offer.instance_type, offer.region), offer)
    return found


@analyses.register(KIND)
def ondemand_should_be_spot(context: AnalysisContext) -> list[Finding]:
    """On-demand GPU hours in start/stop training or batch runs, priced at catalog spot rates.

    A resource qualifies when its rows say on-demand GPU usage, a workload tag names training,
    batch or research work (or it is a SageMaker training job), and it ran less than
    `always_on_hours_share` of the window (24×7 serving is not interruptible).
    """
    thresholds = context.thresholds
    overhead = spot_overhead_fraction(thresholds)
    offers = _offers()
    window_s = Decimal((context.window_end - context.window_start).total_seconds())
    findings = []
    for record in _training_jobs_merged(_per_resource(_candidate_rows(context))):
        running_share = Decimal(record["billed_s"]) / window_s if window_s else Decimal(1)
        if running_share >= thresholds.always_on_hours_share:
            continue
        findings.append(_finding(context, record, running_share, overhead, offers))
    return findings


def _training_jobs_merged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SageMaker training jobs are one resource each; one finding per (account, type, region)."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    kept = []
    for record in records:
        if record["service"] != "AmazonSageMaker":
            kept.append(record | {"resources": (record["ResourceId"],)})
            continue
        key = (record["account"], record["instance_type"], record["region"])
        group = merged.get(key)
        if group is None:
            merged[key] = record | {"resources": (record["ResourceId"],)}
            continue
        group["resources"] += (record["ResourceId"],)
        for field in ("on_demand_cost", "line_items", "runs", "billed_s"):
            group[field] += record[field]
        group["first_start"] = min(group["first_start"], record["first_start"])
        group["last_end"] = max(group["last_end"], record["last_end"])
    return kept + list(merged.values())


def _finding(
    context: AnalysisContext,
    record: dict[str, Any],
    running_share: Decimal,
    overhead: Decimal,
    offers: dict[tuple[str, str, str], GpuOffer],
) -> Finding:
    provider, instance_type, region = record["provider"], record["instance_type"], record["region"]
    on_demand = Decimal(record["on_demand_cost"])
    offer = offers.get((provider, instance_type, region))
    evidence: dict[str, Any] = {
        "on_demand_cost_usd": on_demand,
        "monthly_on_demand_cost_usd": context.monthly(on_demand).quantize(CENT),
        "line_items": record["line_items"],
        "runs_started": record["runs"],
        "billed_hours": (Decimal(record["billed_s"]) / 3600).quantize(CENT),
        "running_share_of_window": running_share.quantize(Decimal("0.001")),
        "workload_tag": record["workload"],
        "first_charge": _iso(record["first_start"]),
        "last_charge": _iso(record["last_end"]),
        "window_days": context.window_days,
    }
    assumptions: dict[str, Any] = {
        "spot_interruptions_per_hour": context.thresholds.spot_interruptions_per_hour,
        "checkpoint_minutes": context.thresholds.checkpoint_minutes,
        "restart_minutes": context.thresholds.restart_minutes,
        "interruption_overhead_fraction": overhead,
        "always_on_hours_share": context.thresholds.always_on_hours_share,
    }
    warnings: tuple[str, ...] = ()
    monthly_savings = Decimal(0)
    if offer is None or offer.spot_usd_per_hour is None:
        warnings = (
            f"missing catalog price: no spot price for {instance_type} in {region} ({provider}); "
            f"{context.monthly(on_demand).quantize(CENT)} USD/month of on-demand not priced (1)",
        )
    else:
        saving = spot_saving(on_demand, offer, overhead)
        monthly_savings = max(context.monthly(saving.savings_usd), Decimal(0)).quantize(CENT)
        evidence |= {
            "instance_hours": saving.instance_hours.quantize(CENT),
            "spot_cost_usd": saving.spot_cost_usd.quantize(CENT),
        }
        assumptions |= {
            "catalog_on_demand_usd_per_hour": offer.on_demand_usd_per_hour,
            "catalog_spot_usd_per_hour": offer.spot_usd_per_hour,
        }
    confidence, reason = _confidence(record)
    scope = {
        key: str(value)
        for key, value in (
            ("account", record["account"]),
            ("team", record["team"]),
            ("project", record["project"]),
            ("env", record["workload"]),
        )
        if value
    }
    return Finding(
        kind=KIND,
        title=f"Run {instance_type} {record['workload'] or 'training'} jobs on spot ({region})",
        provider=provider,
        resources=record["resources"],
        monthly_savings_usd=monthly_savings,
        confidence=confidence,
        confidence_reason=reason,
        remediation=_remediation(provider, record["service"], instance_type),
        scope=scope,
        evidence=evidence,
        assumptions=assumptions,
        warnings=warnings,
        monthly_cost_usd=context.monthly(on_demand).quantize(CENT),
    )


def _confidence(record: dict[str, Any]) -> tuple[Confidence, str]:
    if record["service"] == "AmazonSageMaker":
        return "medium", (
            f"{len(record['resources'])} SageMaker training jobs: batch work by nature, but "
            "managed spot needs the script to checkpoint"
        )
    if record["runs"] >= 2:
        return "high", (
            f"{record['runs']} separate runs tagged {record['workload']!r}: jobs that stop and "
            "restart can resume from a checkpoint"
        )
    return "medium", (
        "one run in the window; the job is tagged as interruptible work but whether it "
        "checkpoints is not visible in billing"
    )


def _remediation(provider: str, service: str | None, instance_type: str) -> Remediation:
    action = (
        "Checkpoint the job (costrail.spot picks the interval) and run it on spot capacity; "
        "keep on-demand only for deadline-bound runs."
    )
    if service == "AmazonSageMaker":
        return Remediation(
            action + " Enable managed spot training on the training job.",
            "aws sagemaker create-training-job ... --enable-managed-spot-training "
            "--stopping-condition MaxRuntimeInSeconds=86400,MaxWaitTimeInSeconds=172800 "
            "--checkpoint-config S3Uri=s3://<bucket>/checkpoints/",
            "aws-cli",
        )
    if provider == "gcp":
        return Remediation(
            action,
            f"gcloud compute instances create <name> --machine-type={instance_type} "
            "--provisioning-model=SPOT --instance-termination-action=STOP",
            "gcloud",
        )
    if provider == "azure":
        return Remediation(
            action,
            f"az vm create ... --size {instance_type} --priority Spot "
            "--eviction-policy Deallocate --max-price -1",
            "az",
        )
    return Remediation(
        action,
        'resource "aws_instance" "training" {\n'
        f'  instance_type = "{instance_type}"\n'
        "  instance_market_options {\n"
        '    market_type = "spot"\n'
        "    spot_options {\n"
        '      instance_interruption_behavior = "stop"\n'
        '      spot_instance_type             = "persistent"\n'
        "    }\n"
        "  }\n"
        "}",
        "terraform",
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None
