"""Chronically low GPU utilisation: busy, but far from full → tuning hints or consolidation.

Consolidation maths: a host's low-utilisation GPUs together do Σ mean-busy GPUs of work; run at
`gpu_target_busy_pct` that needs ⌈Σ mean-busy ÷ target⌉ GPUs. The saving is the share of
GPUs no longer needed × those GPUs' non-idle observed hours × $/GPU-hour, scaled to 30 days.
"""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.gpu_cost import (
    GpuUsage,
    HostPrice,
    Span,
    ceil_div,
    monthly_factor,
    usd,
)
from costrail.analyses.gpu_findings import host_finding, per_host_findings
from costrail.findings import Finding, Remediation

KIND = "gpu_low_utilisation"


def is_low(gpu: GpuUsage, context: AnalysisContext) -> bool:
    """Low but not idle: most hours are not idle, and mean and p95 are under the thresholds."""
    thresholds = context.thresholds
    if gpu.mean_busy is None or gpu.p95_busy is None or gpu.mig_profile:
        return False
    active_hours = gpu.observed_hours - gpu.idle_hours - gpu.zombie_hours
    return (
        active_hours * 2 > gpu.observed_hours
        and gpu.mean_busy * 100 < thresholds.gpu_low_mean_pct
        and gpu.p95_busy * 100 < thresholds.gpu_low_p95_pct
    )


def hints(low: list[GpuUsage]) -> str:
    signals = {g.signal for g in low}
    text = (
        "Raise the batch size (or micro-batch) until memory is ~80 % full, add data-loader "
        "workers / pinned memory / prefetching so the GPU is never waiting on input"
    )
    if "gpu_util" in signals:
        text += " (busy signal here is DCGM GPU util, which overstates real work)"
    return text + "; then consolidate onto fewer GPUs."


def finding_for(
    context: AnalysisContext, span: Span, gpus: list[GpuUsage], price: HostPrice
) -> Finding | None:
    low = [g for g in gpus if is_low(g, context)]
    if not low:
        return None
    thresholds = context.thresholds
    work_gpus = sum(g.mean_busy or 0.0 for g in low)
    needed = ceil_div(work_gpus, thresholds.gpu_target_busy_pct / 100)
    spare = max(len(low) - needed, 0)
    active_hours = sum(g.observed_hours - g.idle_hours - g.zombie_hours for g in low)
    factor = monthly_factor(gpus)
    hourly = price.usd_per_gpu_hour or Decimal(0)
    saving = usd(hourly * Decimal(active_hours) * spare / len(low) * factor)
    return host_finding(
        kind=KIND,
        title=f"{len(low)} GPUs on {gpus[0].host} average "
        f"{work_gpus / len(low) * 100:.0f} % busy: {needed} would do",
        span=span,
        gpus=gpus,
        price=price,
        saving=saving,
        confidence="medium",
        confidence_reason=(
            "mean and p95 of the best busy signal stay low for the whole span; consolidating "
            "assumes the work can be packed (data or pipeline parallel jobs can, one model "
            "sharded for memory may not)"
        ),
        remediation=Remediation(action=hints(low)),
        evidence={
            "low_gpus": [g.label for g in low],
            "mean_busy_pct_by_gpu": {g.label: round((g.mean_busy or 0) * 100, 1) for g in low},
            "p95_busy_pct_by_gpu": {g.label: round((g.p95_busy or 0) * 100, 1) for g in low},
            "signal_by_gpu": {g.label: g.signal for g in low},
            "gpus_needed_at_target": needed,
            "gpus_spare": spare,
        },
        assumptions={
            "gpu_low_mean_pct": thresholds.gpu_low_mean_pct,
            "gpu_low_p95_pct": thresholds.gpu_low_p95_pct,
            "gpu_target_busy_pct": thresholds.gpu_target_busy_pct,
            "savings": "spare GPUs ÷ low GPUs × their non-idle GPU-hours × $/GPU-hour × "
            "30 ÷ days of telemetry; spare = low GPUs − ⌈Σ mean busy ÷ target busy⌉",
        },
    )


@analyses.register(KIND)
def gpu_low_utilisation(context: AnalysisContext) -> list[Finding]:
    """Per host: GPUs whose mean and p95 busy stay low; saving from consolidating them."""
    found = per_host_findings(context, finding_for)
    return [f for f in found if f.monthly_savings_usd >= 0]
