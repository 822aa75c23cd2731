"""Always-on dev GPUs: non-production GPU instances and notebooks billed nights and weekends."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS

KIND = "idle_gpu_instance"
#: tag keys that name a resource's environment (CUR 2.0 drops the `user_` prefix on load)
ENV_TAG_KEYS = ("env", "Env", "ENV", "environment", "Environment", "ENVIRONMENT")
#: consumed units that count instance-hours, and those that count seconds
HOUR_UNITS = ("hrs", "hr", "hours", "hour", "1 hour", "h")
SECOND_UNITS = ("seconds", "second", "s")
HOURS_PER_WEEK = Decimal(168)
HOURS_TYPE = dt.Decimal(38, 6)


def first_tag(tags: ir.MapValue, keys: tuple[str, ...]) -> ir.StringValue:
    """The first of `keys` present in the tag map (tag keys are case-sensitive in the clouds)."""
    return ibis.coalesce(*(tags.get(key) for key in keys))


def quantity_where(rows: ir.Table, condition: ir.BooleanValue) -> ir.NumericValue:
    """PricingQuantity on the rows that match, an exact zero elsewhere, so one sum splits usage."""
    zero = ibis.literal(0).cast(rows.PricingQuantity.type())
    return condition.ifelse(rows.PricingQuantity.fill_null(0), zero)  # type: ignore[return-value]


def cost_where(rows: ir.Table, condition: ir.BooleanValue) -> ir.NumericValue:
    """EffectiveCost on the rows that match, an exact zero elsewhere (money keeps its decimal)."""
    zero = ibis.literal(0).cast(rows.EffectiveCost.type())
    return condition.ifelse(rows.EffectiveCost, zero)  # type: ignore[return-value]


def running_hours_per_period(rows: ir.Table) -> ir.Table:
    """Hours each resource ran in each charge period.

    Hourly rows (AWS, GCP) give one period per hour; daily rows (Azure) carry the hours run in
    ConsumedQuantity. The smallest hour-like quantity of the period's rows, capped at the
    period's length, is the running time (a GCP VM's vCPU SKU counts vCPU-seconds, its GPU SKU
    GPU-seconds: the cap turns both into one hour); without one, the whole period counts.
    """
    unit = rows.ConsumedUnit.lower()
    quantity = rows.ConsumedQuantity.cast("float64")
    hours = ibis.cases(
        (unit.isin(HOUR_UNITS), quantity),
        (unit.isin(SECOND_UNITS), quantity / 3600),
        else_=ibis.null("float64"),
    )
    period_hours = (
        rows.ChargePeriodEnd.epoch_seconds() - rows.ChargePeriodStart.epoch_seconds()
    ).cast("float64") / 3600
    per_period = rows.mutate(_hours=hours, _period_hours=period_hours).group_by(
        "ResourceId", "ChargePeriodStart"
    )
    grouped = per_period.aggregate(
        quantity_hours=lambda t: t._hours.min(), period_hours=lambda t: t._period_hours.max()
    )
    hours = ibis.least(grouped.quantity_hours.fill_null(grouped.period_hours), grouped.period_hours)
    # exact decimals from here on, so that sums do not depend on an engine's summation order
    return grouped.mutate(hours=hours.round(6).cast(HOURS_TYPE))


def candidate_rows(context: AnalysisContext) -> list[dict[str, Any]]:
    """Per non-production GPU resource: cost, running hours, tags (a few rows to Python)."""
    costs = context.in_window()
    rows = costs.filter(
        costs.ResourceId.notnull(),
        costs.ChargeCategory.isin(("Usage", "Credit")),
    )
    env = first_tag(rows.Tags, ENV_TAG_KEYS).lower()
    rows = rows.mutate(
        _env=env,
        _gpu=(rows.x_GpuModel.notnull() | (rows.x_GpuCount.fill_null(0) > 0)).cast("int32"),
        _team=first_tag(rows.Tags, TEAM_TAG_KEYS),
        _project=first_tag(rows.Tags, PROJECT_TAG_KEYS),
    )
    per_resource = rows.group_by("ResourceId").aggregate(
        provider=rows.x_Provider.max(),
        account=rows.SubAccountId.max(),
        region=rows.RegionId.max(),
        instance_type=rows.x_InstanceType.max(),
        gpu_model=rows.x_GpuModel.max(),
        env=rows._env.max(),
        team=rows._team.max(),
        project=rows._project.max(),
        gpu=rows._gpu.max(),
        cost_usd=rows.EffectiveCost.sum(),
        line_items=rows.count(),
    )
    wanted = per_resource.filter(
        per_resource.gpu == 1, per_resource.env.isin(context.thresholds.non_production_envs)
    )
    usage = rows.filter(rows.ChargeCategory == "Usage").semi_join(wanted, "ResourceId")
    hours = running_hours_per_period(usage)
    hours_per_resource = hours.group_by("ResourceId").aggregate(
        running_hours=hours.hours.sum(), periods=hours.count()
    )
    joined = wanted.inner_join(hours_per_resource, "ResourceId")
    result: list[dict[str, Any]] = joined.to_pyarrow().to_pylist()
    return result


def schedule_savings_usd(
    cost_usd: Decimal, running_hours: Decimal, window_hours: Decimal, scheduled_per_week: Decimal
) -> Decimal:
    """Cost of the hours beyond a working-week schedule, at the resource's own hourly cost."""
    if running_hours <= 0:
        return Decimal(0)
    scheduled_hours = scheduled_per_week * window_hours / HOURS_PER_WEEK
    surplus_hours = max(running_hours - scheduled_hours, Decimal(0))
    return cost_usd * surplus_hours / running_hours


def remediation_for(provider: str, resource_id: str, region: str | None) -> Remediation:
    """A stop/start schedule in each cloud's own tooling."""
    name = resource_id.rstrip("/").split("/")[-1]
    if provider == "gcp":
        zone = resource_id.split("/zones/")[1].split("/")[0] if "/zones/" in resource_id else "ZONE"
        return Remediation(
            action="Stop the VM outside working hours (instance schedule or idle shutdown).",
            snippet=(
                f"gcloud compute resource-policies create instance-schedule dev-hours "
                f'--region={zone.rsplit("-", 1)[0]} --vm-start-schedule="0 8 * * MON-FRI" '
                f'--vm-stop-schedule="0 18 * * MON-FRI" --timezone=UTC\n'
                f"gcloud compute instances add-resource-policies {name} "
                f"--resource-policies=dev-hours --zone={zone}"
            ),
            snippet_kind="gcloud",
        )
    if provider == "azure":
        group = (
            resource_id.split("/resourceGroups/")[1].split("/")[0]
            if "/resourceGroups/" in resource_id
            else "RG"
        )
        return Remediation(
            action="Deallocate the VM outside working hours (auto-shutdown plus a start schedule).",
            snippet=f"az vm auto-shutdown --resource-group {group} --name {name} --time 1800",
            snippet_kind="az",
        )
    return Remediation(
        action="Stop the instance outside working hours (EventBridge Scheduler).",
        snippet=(
            f"aws scheduler create-schedule --name stop-{name}-evenings "
            f'--schedule-expression "cron(0 18 ? * MON-FRI *)" --flexible-time-window Mode=OFF '
            f'--target \'{{"Arn":"arn:aws:scheduler:::aws-sdk:ec2:stopInstances",'
            f'"RoleArn":"arn:aws:iam::ACCOUNT:role/scheduler-ec2",'
            f'"Input":"{{\\"InstanceIds\\":[\\"{name}\\"]}}"}}\''
            + (f" --region {region}" if region else "")
        ),
        snippet_kind="aws-cli",
    )


def finding_for(context: AnalysisContext, row: dict[str, Any]) -> Finding | None:
    """The schedule finding for one always-on resource, or None if it is not always-on."""
    thresholds = context.thresholds
    window_hours = context.window_days * 24
    running_hours = Decimal(str(row["running_hours"]))
    if window_hours <= 0 or running_hours < thresholds.always_on_hours_share * window_hours:
        return None
    cost_usd = Decimal(row["cost_usd"])
    saving = schedule_savings_usd(
        cost_usd, running_hours, window_hours, thresholds.scheduled_hours_per_week
    )
    monthly_saving = context.monthly(saving).quantize(Decimal("0.01"))
    if monthly_saving < thresholds.min_monthly_savings_usd:
        return None
    resource = row["ResourceId"]
    kind_of = row["instance_type"] or row["gpu_model"] or "GPU"
    scope = {
        key: str(row[key])
        for key in ("account", "team", "project", "env")
        if row.get(key) is not None
    }
    hourly = cost_usd / running_hours
    return Finding(
        kind=KIND,
        title=f"{row['env']} {kind_of} runs nights and weekends: {resource}",
        provider=row["provider"],
        resources=(resource,),
        monthly_savings_usd=monthly_saving,
        monthly_cost_usd=context.monthly(cost_usd).quantize(Decimal("0.01")),
        confidence="medium",
        confidence_reason=(
            "billing shows the resource running almost every hour in a non-production "
            "environment; whether anyone uses it at night needs utilisation data"
        ),
        remediation=remediation_for(row["provider"], resource, row["region"]),
        scope=scope,
        evidence={
            "instance_type": row["instance_type"],
            "gpu_model": row["gpu_model"],
            "env_tag": row["env"],
            "window_start": context.window_start,
            "window_end": context.window_end,
            "window_hours": window_hours.quantize(Decimal("0.01")),
            "running_hours": running_hours.quantize(Decimal("0.01")),
            "running_share": (running_hours / window_hours).quantize(Decimal("0.001")),
            "cost_in_window_usd": cost_usd,
            "cost_per_running_hour_usd": hourly.quantize(Decimal("0.0001")),
            "savings_in_window_usd": saving.quantize(Decimal("0.01")),
            "line_items": row["line_items"],
            "charge_periods": row["periods"],
        },
        assumptions={
            "scheduled_hours_per_week": thresholds.scheduled_hours_per_week,
            "always_on_hours_share": thresholds.always_on_hours_share,
            "non_production_envs": list(thresholds.non_production_envs),
            "hourly_cost": "the resource's own effective cost (credits included) per running hour",
        },
    )


@analyses.register(KIND)
def idle_gpu_instance(context: AnalysisContext) -> list[Finding]:
    """Dev/staging GPU resources billed (nearly) every hour → savings of a schedule."""
    findings = [finding_for(context, row) for row in candidate_rows(context)]
    return sorted(
        (finding for finding in findings if finding is not None),
        key=lambda finding: finding.monthly_savings_usd,
        reverse=True,
    )
