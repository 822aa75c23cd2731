"""Zombie GPU allocations: a pod holds a GPU with no process, no memory and no work."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses.base import AnalysisContext, analyses
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
from costrail.findings import Finding, Remediation

KIND = "gpu_zombie"


def finding_for(
    context: AnalysisContext, span: Span, gpus: list[GpuUsage], price: HostPrice
) -> Finding | None:
    zombies = [g for g in gpus if g.zombie_hours > 0 and g.pod]
    if not zombies:
        return None
    thresholds = context.thresholds
    factor = monthly_factor(gpus)
    hourly = price.usd_per_gpu_hour or Decimal(0)
    by_gpu = {g.label: usd(hourly * g.slice_fraction * g.zombie_hours * factor) for g in zombies}
    saving = sum(by_gpu.values(), Decimal(0))
    if saving < thresholds.min_monthly_savings_usd and price.usd_per_gpu_hour is not None:
        return None
    pods = sorted({(g.namespace or "default", g.pod or "") for g in zombies})
    evidence = host_evidence(gpus, price, span)
    evidence.update(
        zombie_pods=[f"{ns}/{pod}" for ns, pod in pods],
        zombie_hours_by_gpu={g.label: g.zombie_hours for g in zombies},
        peak_memory_mib_by_gpu={g.label: g.peak_memory_mib for g in zombies},
        monthly_zombie_usd_by_gpu=by_gpu,
        savings_by_resource={price.resource_id: saving},
    )
    return Finding(
        kind=KIND,
        title=f"{len(pods)} pod(s) hold {len(zombies)} GPU(s) without using them on {gpus[0].host}",
        provider=price.provider,
        resources=(price.resource_id,),
        monthly_savings_usd=saving,
        monthly_cost_usd=usd(hourly * sum(g.observed_hours for g in gpus) * factor),
        confidence="high" if price.source == "billed" else "medium",
        confidence_reason=(
            "the pod keeps the GPU allocated while no process runs, memory stays at "
            f"≤ {thresholds.gpu_zombie_memory_mib:g} MiB and no busy signal moves for "
            f"≥ {thresholds.gpu_zombie_min_hours} hours in a row"
        ),
        remediation=Remediation(
            action="Delete (or fix) the pods that request a GPU and never use it; the node can "
            "then scale in.",
            snippet="\n".join(f"kubectl delete pod -n {ns} {pod}" for ns, pod in pods),
            snippet_kind="kubectl",
        ),
        scope=scope_of(zombies, price),
        evidence=evidence,
        assumptions={
            "gpu_zombie_memory_mib": thresholds.gpu_zombie_memory_mib,
            "gpu_zombie_min_hours": thresholds.gpu_zombie_min_hours,
            "monthly": "zombie GPU-hours × $/GPU-hour × 30 days ÷ days of telemetry",
            "price_source": price.source,
        },
        warnings=warnings_for(price),
    )


@analyses.register(KIND)
def gpu_zombie(context: AnalysisContext) -> list[Finding]:
    """Per host: GPU-hours held by a pod (Kubernetes labels present) that does nothing."""
    span, usages = gpu_usage(context)
    if span is None or not usages:
        return []
    prices = host_prices(context, span, usages)
    found = [finding_for(context, span, g, prices[h]) for h, g in by_host(usages).items()]
    return sorted((f for f in found if f), key=lambda f: f.monthly_savings_usd, reverse=True)
