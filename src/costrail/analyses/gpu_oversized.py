"""Oversized GPUs: peak memory and compute far below the card → the cheapest GPU that fits.

A smaller GPU fits when its memory holds the observed peak plus headroom, and its dense
BF16/FP16 TFLOPs run at `gpu_target_busy_pct` cover the work seen: p95 busy × this GPU's TFLOPs
(FLOPs-normalised throughput). Offers come from the shipped catalogs (per GPU-hour, on-demand),
by default of the host's own cloud; the cheapest per cloud across clouds is in the evidence.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.gpu_cost import (
    CATALOG_CLOUDS,
    GpuOfferPrice,
    GpuUsage,
    HostPrice,
    Span,
    catalog_gpu_prices,
    monthly_factor,
    spec_id_for,
    usd,
)
from costrail.analyses.gpu_findings import host_finding, per_host_findings
from costrail.findings import Finding, Remediation
from costrail.gpu.specs import GpuSpec, gpu_specs

KIND = "gpu_oversized"
MIB_PER_GIB = 1024
#: GPUs whose MIG partitions (1g.10gb and up) can serve a small inference pod
MIG_CAPABLE = ("A100", "H100", "H200", "B200", "GH200")
#: a pod this small (memory with headroom, p95 busy) fits a MIG slice or a time-sliced GPU
SMALL_POD_MIB = 10 * MIB_PER_GIB
SMALL_POD_BUSY = 0.15


def tflops(spec: GpuSpec) -> float:
    return spec.peak_tflops("bf16")


def needs(gpu: GpuUsage, spec: GpuSpec, context: AnalysisContext) -> tuple[float, float] | None:
    """(memory MiB with headroom, TFLOPs of work) when the GPU is oversized, else None."""
    thresholds = context.thresholds
    if gpu.peak_memory_mib is None or gpu.p95_busy is None or gpu.mig_profile:
        return None
    capacity_mib = gpu.memory_total_mib or spec.memory_gib * MIB_PER_GIB
    memory_mib = gpu.peak_memory_mib * (1 + thresholds.gpu_memory_headroom_pct / 100)
    if memory_mib > capacity_mib * thresholds.gpu_oversized_memory_share:
        return None
    return memory_mib, gpu.p95_busy * tflops(spec)


def fitting(
    spec: GpuSpec, memory_mib: float, work_tflops: float, clouds: tuple[str, ...], target: float
) -> list[GpuOfferPrice]:
    """Catalog offers of other GPUs that hold the memory and the work, cheapest first."""
    return [
        offer
        for offer in catalog_gpu_prices()
        if offer.offer.cloud in clouds
        and offer.spec.spec_id != spec.spec_id
        and offer.spec.memory_gib * MIB_PER_GIB >= memory_mib
        and tflops(offer.spec) * target >= work_tflops
    ]


def cheapest_by_cloud(offers: list[GpuOfferPrice]) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for offer in offers:
        best.setdefault(
            offer.offer.cloud,
            {
                "gpu": offer.spec.spec_id,
                "offer": offer.label,
                "usd_per_gpu_hour": offer.usd_per_gpu_hour,
            },
        )
    return best


def small_pod_hint(gpu: GpuUsage, spec: GpuSpec, memory_mib: float) -> str | None:
    if not gpu.pod or memory_mib > SMALL_POD_MIB or (gpu.p95_busy or 0) > SMALL_POD_BUSY:
        return None
    if spec.spec_id.split("-")[0] in MIG_CAPABLE:
        return f"{gpu.pod}: MIG 1g.10gb slice (or time-slicing) candidate"
    return f"{gpu.pod}: time-slicing candidate (shares the GPU with other small pods)"


def finding_for(
    context: AnalysisContext, span: Span, gpus: list[GpuUsage], price: HostPrice
) -> Finding | None:
    thresholds = context.thresholds
    target = thresholds.gpu_target_busy_pct / 100
    clouds = thresholds.gpu_rightsize_clouds or (
        (price.provider,) if price.provider in CATALOG_CLOUDS else CATALOG_CLOUDS
    )
    hourly = price.usd_per_gpu_hour
    if hourly is None:
        return None
    factor = monthly_factor(gpus)
    moves: dict[str, dict[str, Any]] = {}
    savings = Decimal(0)
    hints: list[str] = []
    for gpu in gpus:
        spec_id = spec_id_for(gpu.gpu_model, thresholds.gpu_default_model)
        spec = gpu_specs().get(spec_id or "")
        need = needs(gpu, spec, context) if spec else None
        if spec is None or need is None:
            continue
        hint = small_pod_hint(gpu, spec, need[0])
        if hint:
            hints.append(hint)
        offers = fitting(spec, need[0], need[1], clouds, target)
        if not offers or offers[0].usd_per_gpu_hour >= hourly:
            continue
        hours = gpu.observed_hours - gpu.idle_hours - gpu.zombie_hours
        saving = usd((hourly - offers[0].usd_per_gpu_hour) * hours * factor)
        savings += saving
        moves[gpu.label] = {
            "from": spec.spec_id,
            "to": offers[0].spec.spec_id,
            "offer": offers[0].label,
            "to_usd_per_gpu_hour": offers[0].usd_per_gpu_hour,
            "peak_memory_mib": gpu.peak_memory_mib,
            "needed_memory_mib": round(need[0]),
            "p95_busy_pct": round((gpu.p95_busy or 0) * 100, 1),
            "needed_tflops": round(need[1], 1),
            "monthly_saving_usd": saving,
            "cheapest_fit_by_cloud": cheapest_by_cloud(
                fitting(spec, need[0], need[1], CATALOG_CLOUDS, target)
            ),
        }
    if not moves or savings < thresholds.min_monthly_savings_usd:
        return None
    targets = sorted({m["to"] for m in moves.values()})
    action = (
        f"Move the workload to {', '.join(targets)} "
        f"({next(iter(moves.values()))['offer']}); memory and compute fit with headroom."
    )
    if hints:
        action += " Small pods: " + "; ".join(hints) + "."
    return host_finding(
        kind=KIND,
        title=f"{len(moves)} oversized GPU(s) on {gpus[0].host}: "
        f"{next(iter(moves.values()))['from']} → {', '.join(targets)}",
        span=span,
        gpus=gpus,
        price=price,
        saving=savings,
        confidence="medium",
        confidence_reason=(
            "peak memory and p95 compute over the whole span fit the smaller GPU with headroom; "
            "FLOPs-normalised throughput ignores memory bandwidth and kernel differences"
        ),
        remediation=Remediation(action=action),
        evidence={"moves": moves},
        assumptions={
            "gpu_memory_headroom_pct": thresholds.gpu_memory_headroom_pct,
            "gpu_oversized_memory_share": thresholds.gpu_oversized_memory_share,
            "gpu_target_busy_pct": thresholds.gpu_target_busy_pct,
            "clouds": list(clouds),
            "throughput": "needed TFLOPs = p95 busy × this GPU's dense BF16 (else FP16) TFLOPs",
        },
    )


@analyses.register(KIND)
def gpu_oversized(context: AnalysisContext) -> list[Finding]:
    """Per host: GPUs a cheaper catalog GPU could replace, with the saving."""
    return per_host_findings(context, finding_for)
