"""Zombie GPU allocations: a pod holds a GPU with no process, no memory and no work."""

from __future__ import annotations

from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.gpu_cost import GpuUsage, HostPrice, Span
from costrail.analyses.gpu_findings import host_finding, per_host_findings, wasted_saving
from costrail.findings import Finding, Remediation

KIND = "gpu_zombie"


def finding_for(
    context: AnalysisContext, span: Span, gpus: list[GpuUsage], price: HostPrice
) -> Finding | None:
    zombies = [g for g in gpus if g.zombie_hours > 0 and g.pod]
    priced = wasted_saving(context, gpus, zombies, lambda g: g.zombie_hours, price)
    if priced is None:
        return None
    by_gpu, saving = priced
    thresholds = context.thresholds
    pods = sorted({(g.namespace or "default", g.pod or "") for g in zombies})
    return host_finding(
        kind=KIND,
        title=f"{len(pods)} pod(s) hold {len(zombies)} GPU(s) without using them on {gpus[0].host}",
        span=span,
        gpus=gpus,
        price=price,
        saving=saving,
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
        evidence={
            "zombie_pods": [f"{ns}/{pod}" for ns, pod in pods],
            "zombie_hours_by_gpu": {g.label: g.zombie_hours for g in zombies},
            "peak_memory_mib_by_gpu": {g.label: g.peak_memory_mib for g in zombies},
            "monthly_zombie_usd_by_gpu": by_gpu,
        },
        assumptions={
            "gpu_zombie_memory_mib": thresholds.gpu_zombie_memory_mib,
            "gpu_zombie_min_hours": thresholds.gpu_zombie_min_hours,
            "monthly": "zombie GPU-hours × $/GPU-hour × 30 days ÷ days of telemetry",
        },
        scope_gpus=zombies,
    )


@analyses.register(KIND)
def gpu_zombie(context: AnalysisContext) -> list[Finding]:
    """Per host: GPU-hours held by a pod (Kubernetes labels present) that does nothing."""
    return per_host_findings(context, finding_for)
