"""GPU fleet efficiency: billed vs busy GPU-hours, idle dollars by team (information only)."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.gpu_cost import by_host, gpu_usage, host_prices, monthly_factor, usd
from costrail.findings import Finding, Remediation

KIND = "gpu_fleet_efficiency"


@analyses.register(KIND)
def gpu_fleet_efficiency(context: AnalysisContext) -> list[Finding]:
    """One summary finding over every GPU with telemetry; no saving of its own."""
    span, usages = gpu_usage(context)
    if span is None or not usages:
        return []
    prices = host_prices(context, span, usages)
    observed = sum(u.observed_hours for u in usages)
    busy = sum(u.busy_hours for u in usages)
    idle = sum(u.idle_hours + u.zombie_hours for u in usages)
    billed = Decimal(0)
    idle_by_team: dict[str, Decimal] = {}
    sources: dict[str, int] = {}
    for host, gpus in by_host(usages).items():
        price = prices[host]
        billed += price.billed_gpu_hours or Decimal(0)
        sources[price.source.split(":")[0]] = sources.get(price.source.split(":")[0], 0) + 1
        team = price.scope.get("team") or next((g.namespace for g in gpus if g.namespace), None)
        hourly = price.usd_per_gpu_hour or Decimal(0)
        idle_usd = sum(
            (hourly * g.slice_fraction * (g.idle_hours + g.zombie_hours) for g in gpus),
            Decimal(0),
        )
        key = team or "untagged"
        idle_by_team[key] = idle_by_team.get(key, Decimal(0)) + usd(idle_usd * monthly_factor(gpus))
    utilisation = busy / observed * 100 if observed else 0.0
    signals = sorted({u.signal for u in usages if u.signal})
    return [
        Finding(
            kind=KIND,
            title=f"GPU fleet: {utilisation:.0f} % effective utilisation over {observed} GPU-hours",
            provider="multi",
            resources=(),
            monthly_savings_usd=Decimal(0),
            confidence="high",
            confidence_reason="summed from every GPU's hourly telemetry",
            remediation=Remediation(
                action="See the gpu_idle, gpu_zombie, gpu_low_utilisation and gpu_oversized "
                "findings for what to change."
            ),
            evidence={
                "span_start": span.start,
                "span_end": span.end,
                "hosts": len(by_host(usages)),
                "gpus": len(usages),
                "observed_gpu_hours": observed,
                "billed_gpu_hours": billed,
                "busy_gpu_hours": round(busy, 2),
                "idle_gpu_hours": idle,
                "effective_utilisation_pct": round(utilisation, 1),
                "busy_signal": signals,
                "monthly_idle_usd_by_team": dict(sorted(idle_by_team.items())),
                "hosts_by_price_source": sources,
            },
            assumptions={"busy": "best busy signal per GPU, as a fraction, summed over hours"},
        )
    ]
