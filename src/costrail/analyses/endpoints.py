"""Unused inference endpoints: real-time SageMaker endpoints billed every hour that do no work."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis

from costrail.analyses.always_on import first_tag
from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS

KIND = "unused_endpoint"
#: SageMaker real-time hosting instance-hours: `USE1-Host:ml.g5.2xlarge`
HOST_USAGE = "Host:ml."
#: SageMaker hosting data processed (the only per-request trace real-time endpoints leave)
DATA_USAGE = "Hst:Data-Bytes-"
#: data processed per instance-hour at or below which an endpoint counts as unused:
#: 1 MB/h is ~100 small JSON requests an hour
NEGLIGIBLE_GB_PER_HOST_HOUR = Decimal("0.001")


def endpoint_rows(context: AnalysisContext) -> list[dict[str, Any]]:
    """Per SageMaker endpoint: host hours and cost, data processed (a few rows to Python)."""
    costs = context.in_window()
    rows = costs.filter(
        costs.ResourceId.notnull(),
        costs.ChargeCategory == "Usage",
        costs.x_UsageType.contains(HOST_USAGE) | costs.x_UsageType.contains(DATA_USAGE),
    )
    is_host = rows.x_UsageType.contains(HOST_USAGE)
    zero = ibis.literal(0).cast(rows.ConsumedQuantity.type())
    rows = rows.mutate(
        _host_hours=is_host.ifelse(rows.ConsumedQuantity.fill_null(0), zero),
        _data_gb=is_host.ifelse(zero, rows.ConsumedQuantity.fill_null(0)),
        _host_cost=is_host.ifelse(
            rows.EffectiveCost, ibis.literal(0).cast(rows.EffectiveCost.type())
        ),
        _data_lines=(~is_host).cast("int64"),
        _host_hour=is_host.ifelse(
            rows.ChargePeriodStart.truncate("h"), ibis.null(rows.ChargePeriodStart.type())
        ),
        _team=first_tag(rows.Tags, TEAM_TAG_KEYS),
        _project=first_tag(rows.Tags, PROJECT_TAG_KEYS),
        _env=first_tag(rows.Tags, ("env", "Env", "environment", "Environment")),
    )
    per_endpoint = rows.group_by("ResourceId").aggregate(
        provider=rows.x_Provider.max(),
        account=rows.SubAccountId.max(),
        region=rows.RegionId.max(),
        instance_type=rows.x_InstanceType.max(),
        team=rows._team.max(),
        project=rows._project.max(),
        env=rows._env.max(),
        host_hours=rows._host_hours.sum(),
        host_cost_usd=rows._host_cost.sum(),
        billed_hours=rows._host_hour.nunique(),
        data_gb=rows._data_gb.sum(),
        data_line_items=rows._data_lines.sum(),
        line_items=rows.count(),
    )
    result: list[dict[str, Any]] = (
        per_endpoint.filter(per_endpoint.host_hours > 0).to_pyarrow().to_pylist()
    )
    return result


def endpoint_name(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def finding_for(context: AnalysisContext, row: dict[str, Any]) -> Finding | None:
    """The scale-to-zero finding for one endpoint, or None if it works or is not always on."""
    thresholds = context.thresholds
    window_hours = context.window_days * 24
    billed_hours = Decimal(row["billed_hours"])
    host_hours = Decimal(row["host_hours"])
    data_gb = Decimal(row["data_gb"])
    if window_hours <= 0 or billed_hours < thresholds.always_on_hours_share * window_hours:
        return None
    if data_gb > NEGLIGIBLE_GB_PER_HOST_HOUR * host_hours:
        return None
    host_cost = Decimal(row["host_cost_usd"])
    monthly = context.monthly(host_cost).quantize(Decimal("0.01"))
    if monthly < thresholds.min_monthly_savings_usd:
        return None
    resource = row["ResourceId"]
    name = endpoint_name(resource)
    no_data = row["data_line_items"] == 0
    scope = {
        k: str(row[k]) for k in ("account", "team", "project", "env") if row.get(k) is not None
    }
    return Finding(
        kind=KIND,
        title=f"SageMaker endpoint {name} ({row['instance_type']}) billed every hour, "
        + ("never invoked" if no_data else "almost no traffic"),
        provider=row["provider"],
        resources=(resource,),
        monthly_savings_usd=monthly,
        monthly_cost_usd=monthly,
        confidence="high" if no_data else "medium",
        confidence_reason=(
            "instance-hours every hour and not one data-processing line: no request carried "
            "a payload. Confirm with CloudWatch metric AWS/SageMaker Invocations "
            f"(EndpointName={name}) summing to 0 over the window"
            if no_data
            else "traffic is negligible but not zero; confirm with CloudWatch "
            f"AWS/SageMaker Invocations (EndpointName={name}) before deleting"
        ),
        remediation=Remediation(
            action=(
                "Delete the endpoint (redeploy from its endpoint config when needed), or move "
                "occasional use to serverless inference / scale-to-zero, which bills only for "
                "compute time per request."
            ),
            snippet=(
                f"aws cloudwatch get-metric-statistics --namespace AWS/SageMaker "
                f"--metric-name Invocations --dimensions Name=EndpointName,Value={name} "
                f"Name=VariantName,Value=AllTraffic --statistics Sum --period 86400 "
                f"--start-time {context.window_start:%Y-%m-%d} "
                f"--end-time {context.window_end:%Y-%m-%d}\n"
                f"aws sagemaker delete-endpoint --endpoint-name {name}"
                + (f" --region {row['region']}" if row["region"] else "")
            ),
            snippet_kind="aws-cli",
        ),
        scope=scope,
        evidence={
            "instance_type": row["instance_type"],
            "window_start": context.window_start,
            "window_end": context.window_end,
            "window_hours": window_hours.quantize(Decimal("0.01")),
            "hours_billed": int(billed_hours),
            "host_instance_hours": host_hours,
            "host_cost_in_window_usd": host_cost,
            "data_processed_gb": data_gb,
            "data_processing_line_items": row["data_line_items"],
            "line_items": row["line_items"],
            "confirming_metric": f"CloudWatch AWS/SageMaker Invocations, EndpointName={name}",
        },
        assumptions={
            "always_on_hours_share": thresholds.always_on_hours_share,
            "negligible_gb_per_host_hour": NEGLIGIBLE_GB_PER_HOST_HOUR,
            "savings": "the endpoint's whole instance-hour cost (deleted, or serverless at ~0 "
            "requests); serverless per-request compute is not subtracted",
        },
    )


@analyses.register(KIND)
def unused_endpoint(context: AnalysisContext) -> list[Finding]:
    """Real-time endpoints with instance-hours every hour and (almost) no data → scale to zero."""
    findings = [finding_for(context, row) for row in endpoint_rows(context)]
    return sorted(
        (finding for finding in findings if finding is not None),
        key=lambda finding: finding.monthly_savings_usd,
        reverse=True,
    )
