"""Idle GPUs: billed GPUs whose best busy signal stays under 5 % for hours on end."""

from __future__ import annotations

from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.gpu_cost import GpuUsage, HostPrice, Span
from costrail.analyses.gpu_findings import host_finding, per_host_findings, wasted_saving
from costrail.findings import Finding, Remediation

KIND = "gpu_idle"


def stop_remediation(price: HostPrice, whole_host: bool, pods: list[str]) -> Remediation:
    """Stop the host when every GPU idles; else give the idle GPUs back (smaller shape)."""
    name = price.resource_id.rstrip("/").split("/")[-1]
    if not whole_host:
        return Remediation(
            action=(
                "Only some GPUs on this host idle: move the work to a shape with fewer GPUs, or "
                "schedule other jobs onto the idle GPUs."
            ),
        )
    if pods:
        return Remediation(
            action="Scale the idle GPU workloads to zero (or let the autoscaler drain the node).",
            snippet="\n".join(f"kubectl scale deployment --replicas=0 {p}" for p in pods),
            snippet_kind="kubectl",
        )
    if price.provider == "azure" and "/resourceGroups/" in price.resource_id:
        group = price.resource_id.split("/resourceGroups/")[1].split("/")[0]
        return Remediation(
            action="Deallocate the idle VM (stopping inside the OS keeps billing the GPUs).",
            snippet=f"az vm deallocate --resource-group {group} --name {name}",
            snippet_kind="az",
        )
    if price.provider == "gcp":
        return Remediation(
            action="Stop the idle VM.",
            snippet=f"gcloud compute instances stop {name}",
            snippet_kind="gcloud",
        )
    return Remediation(
        action="Stop the idle instance.",
        snippet=f"aws ec2 stop-instances --instance-ids {name}",
        snippet_kind="aws-cli",
    )


def finding_for(
    context: AnalysisContext, span: Span, gpus: list[GpuUsage], price: HostPrice
) -> Finding | None:
    idle = [g for g in gpus if g.idle_hours > 0]
    priced = wasted_saving(context, gpus, idle, lambda g: g.idle_hours, price)
    if priced is None:
        return None
    by_gpu, saving = priced
    thresholds = context.thresholds
    whole_host = len(idle) == len(gpus) and all(g.idle_hours >= g.observed_hours - 1 for g in idle)
    pods = sorted({g.pod for g in idle if g.pod})
    billed = price.source == "billed"
    return host_finding(
        kind=KIND,
        title=f"{len(idle)} of {len(gpus)} GPUs idle on {gpus[0].host}",
        span=span,
        gpus=gpus,
        price=price,
        saving=saving,
        confidence="high" if billed else "medium",
        confidence_reason=(
            f"telemetry shows the GPUs under {thresholds.gpu_idle_busy_pct:g} % busy for runs of "
            f"at least {thresholds.gpu_idle_min_hours} hours; price "
            + ("from the bill" if billed else "from the catalog (no bill covers the host)")
        ),
        remediation=stop_remediation(price, whole_host, pods),
        evidence={
            "idle_gpus": [g.label for g in idle],
            "idle_hours_by_gpu": {g.label: g.idle_hours for g in idle},
            "monthly_idle_usd_by_gpu": by_gpu,
        },
        assumptions={
            "gpu_idle_busy_pct": thresholds.gpu_idle_busy_pct,
            "gpu_idle_min_hours": thresholds.gpu_idle_min_hours,
            "monthly": "idle GPU-hours × $/GPU-hour × 30 days ÷ days of telemetry",
        },
    )


@analyses.register(KIND)
def gpu_idle(context: AnalysisContext) -> list[Finding]:
    """Per host: idle GPU-hours (in long runs) × what a GPU-hour costs there."""
    return per_host_findings(context, finding_for)
