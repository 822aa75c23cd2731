"""The per-host scaffolding the GPU waste analyses share: run per host, cost GPU-hours, assemble.

Each of gpu_idle, gpu_zombie, gpu_low_utilisation and gpu_oversized decides what is wasted on one
host; how the hosts are walked, how wasted GPU-hours become monthly dollars and which figures
every such finding carries (host evidence, price source, warnings) is the same, so it lives here
once and the four findings stay comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from costrail.analyses.base import AnalysisContext
from costrail.analyses.gpu_cost import (
    GpuUsage,
    HostPrice,
    Span,
    by_host,
    gpu_usage,
    host_evidence,
    host_prices,
    monthly_factor,
    scope_of,
    usd,
    warnings_for,
)
from costrail.findings import Confidence, Finding, Remediation

#: one analysis's verdict on one host: a finding, or None when nothing there is worth reporting
HostFinding = Callable[[AnalysisContext, Span, list[GpuUsage], HostPrice], Finding | None]


def per_host_findings(context: AnalysisContext, finding_for: HostFinding) -> list[Finding]:
    """`finding_for` on every host with telemetry, largest saving first (empty without any)."""
    span, usages = gpu_usage(context)
    if span is None or not usages:
        return []
    prices = host_prices(context, span, usages)
    found = [finding_for(context, span, g, prices[h]) for h, g in by_host(usages).items()]
    return sorted((f for f in found if f), key=lambda f: f.monthly_savings_usd, reverse=True)


def wasted_saving(
    context: AnalysisContext,
    gpus: list[GpuUsage],
    wasted: list[GpuUsage],
    hours_of: Callable[[GpuUsage], int],
    price: HostPrice,
) -> tuple[dict[str, Decimal], Decimal] | None:
    """Monthly dollars per wasted GPU (its wasted hours × its share of a GPU × $/GPU-hour, scaled
    to 30 days by the host's telemetry span; `gpus`: every GPU on the host) and their sum.

    None when nothing is wasted, or the sum is under the minimum saving — unless the host has no
    price, where the finding is kept to say so."""
    if not wasted:
        return None
    factor = monthly_factor(gpus)
    hourly = price.usd_per_gpu_hour or Decimal(0)
    by_gpu = {g.label: usd(hourly * g.slice_fraction * hours_of(g) * factor) for g in wasted}
    saving = sum(by_gpu.values(), Decimal(0))
    if saving < context.thresholds.min_monthly_savings_usd and price.usd_per_gpu_hour is not None:
        return None
    return by_gpu, saving


def host_finding(
    *,
    kind: str,
    title: str,
    span: Span,
    gpus: list[GpuUsage],
    price: HostPrice,
    saving: Decimal,
    confidence: Confidence,
    confidence_reason: str,
    remediation: Remediation,
    evidence: Mapping[str, Any],
    assumptions: Mapping[str, Any],
    scope_gpus: list[GpuUsage] | None = None,
) -> Finding:
    """A finding on one host: the shared host evidence, then `evidence`, then the saving by
    resource; `assumptions` then the price source; the month's cost of every GPU observed.
    `scope_gpus` (default: all of `gpus`) are the GPUs whose namespaces and pods scope it."""
    hourly = price.usd_per_gpu_hour or Decimal(0)
    observed_hours = sum(g.observed_hours for g in gpus)
    return Finding(
        kind=kind,
        title=title,
        provider=price.provider,
        resources=(price.resource_id,),
        monthly_savings_usd=saving,
        monthly_cost_usd=usd(hourly * observed_hours * monthly_factor(gpus)),
        confidence=confidence,
        confidence_reason=confidence_reason,
        remediation=remediation,
        scope=scope_of(gpus if scope_gpus is None else scope_gpus, price),
        evidence={
            **host_evidence(gpus, price, span),
            **evidence,
            "savings_by_resource": {price.resource_id: saving},
        },
        assumptions={**assumptions, "price_source": price.source},
        warnings=warnings_for(price),
    )
