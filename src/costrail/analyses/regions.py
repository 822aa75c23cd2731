"""Region price differences: the same GPU instance type listed cheaper in another allowed region.

Only regions named in `Thresholds.movable_regions` take part, as the current region and as the
target: moving a workload is a decision (data residency, latency, capacity) the bill cannot
make, so with the default empty list this analysis finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from costrail.analyses.allocation import TEAM_KEY_SPELLINGS, tag_value
from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation
from costrail.pricing.gpu_offers import gpu_offers

#: Providers whose catalogs price whole GPU machines per region.
CATALOG_PROVIDERS = ("aws", "azure", "gcp")


@dataclass(frozen=True)
class RegionalUsage:
    """On-demand usage of one resource of one instance type in one region, over the window."""

    provider: str
    account_id: str | None
    resource_id: str
    instance_type: str
    region: str
    cost_usd: Decimal
    lines: int
    team: str | None
    env: str | None


@dataclass(frozen=True)
class RegionMove:
    """The cheapest allowed region for a usage, with both list prices (USD per hour)."""

    target_region: str
    current_usd_per_hour: Decimal
    target_usd_per_hour: Decimal

    @property
    def price_ratio(self) -> Decimal:
        return self.target_usd_per_hour / self.current_usd_per_hour


def catalog_on_demand_prices(provider: str) -> dict[tuple[str, str], Decimal]:
    """(instance type, region) → on-demand USD/hour; the cheapest offer where several exist."""
    prices: dict[tuple[str, str], Decimal] = {}
    for offer in gpu_offers(provider):
        key = (offer.instance_type, offer.region)
        if key not in prices or offer.on_demand_usd_per_hour < prices[key]:
            prices[key] = offer.on_demand_usd_per_hour
    return prices


def cheapest_move(
    instance_type: str,
    region: str,
    movable_regions: tuple[str, ...],
    prices: dict[tuple[str, str], Decimal],
) -> RegionMove | None:
    """The allowed region listing `instance_type` cheapest, if cheaper than `region`; else None.

    None also when the current region has no catalog price (nothing to compare with).
    """
    current = prices.get((instance_type, region))
    if current is None or current <= 0:
        return None
    candidates = [
        (price, target)
        for target in movable_regions
        if target != region and (price := prices.get((instance_type, target))) is not None
    ]
    if not candidates:
        return None
    price, target = min(candidates)
    if price >= current:
        return None
    return RegionMove(target, current, price)


def move_saving_usd(cost_usd: Decimal, move: RegionMove) -> Decimal:
    """What the same usage would cost less in the target region, at the ratio of list prices.

    Scaling the billed cost (not hours × list price) keeps any negotiated discount in the
    result and works for providers that bill one machine as several SKUs.
    """
    return cost_usd * (Decimal(1) - move.price_ratio)


def regional_usage(costs: ir.Table, regions: tuple[str, ...]) -> list[RegionalUsage]:
    """On-demand usage per resource, instance type and region, for the listed regions."""
    rows = costs.filter(
        (costs.ChargeCategory == "Usage")
        & (costs.x_PurchaseOption == "OnDemand")
        & costs.x_InstanceType.notnull()
        & costs.ResourceId.notnull()
        & costs.RegionId.isin(regions)
        & costs.x_Provider.isin(CATALOG_PROVIDERS)
    )
    grouped = rows.group_by(
        provider=rows.x_Provider,
        account_id=rows.SubAccountId,
        resource_id=rows.ResourceId,
        instance_type=rows.x_InstanceType,
        region=rows.RegionId,
    ).aggregate(
        cost=rows.EffectiveCost.sum(),
        lines=rows.count(),
        team=tag_value(rows.Tags, TEAM_KEY_SPELLINGS).max(),
        env=rows.Tags.get("env").max(),
    )
    return [_usage(row) for row in grouped.to_pyarrow().to_pylist()]


def _usage(row: dict[str, Any]) -> RegionalUsage:
    return RegionalUsage(
        provider=row["provider"],
        account_id=row["account_id"],
        resource_id=row["resource_id"],
        instance_type=row["instance_type"],
        region=row["region"],
        cost_usd=row["cost"] or Decimal(0),
        lines=int(row["lines"]),
        team=row["team"],
        env=row["env"],
    )


@analyses.register("region_price_difference")
def region_price_difference(context: AnalysisContext) -> list[Finding]:
    """Resources whose instance type lists cheaper in another movable region."""
    movable = context.thresholds.movable_regions
    if len(movable) < 2:
        return []
    found: list[Finding] = []
    prices = {provider: catalog_on_demand_prices(provider) for provider in CATALOG_PROVIDERS}
    for usage in regional_usage(context.in_window(), movable):
        move = cheapest_move(usage.instance_type, usage.region, movable, prices[usage.provider])
        if move is not None and usage.cost_usd > 0:
            found.append(_finding(context, usage, move))
    return sorted(found, key=lambda finding: finding.resources)


def _finding(context: AnalysisContext, usage: RegionalUsage, move: RegionMove) -> Finding:
    monthly_cost_usd = context.monthly(usage.cost_usd)
    monthly_savings_usd = move_saving_usd(monthly_cost_usd, move)
    scope = {"account": usage.account_id} if usage.account_id else {}
    scope.update({k: v for k, v in (("team", usage.team), ("env", usage.env)) if v})
    return Finding(
        kind="region_price_difference",
        title=(
            f"{usage.resource_id} ({usage.instance_type}) lists "
            f"{((1 - move.price_ratio) * 100).quantize(Decimal('0.1'))}% cheaper in "
            f"{move.target_region} than in {usage.region}"
        ),
        provider=usage.provider,
        resources=(usage.resource_id,),
        monthly_savings_usd=monthly_savings_usd,
        monthly_cost_usd=monthly_cost_usd,
        confidence="medium",
        confidence_reason="catalog list prices; capacity, latency and moving the data with the "
        "workload are not priced",
        remediation=Remediation(
            f"Run {usage.instance_type} in {move.target_region} instead of {usage.region} "
            "(both are allowed regions); move or replicate the data it reads first.",
            f'# Terraform: provider region = "{move.target_region}"',
            "terraform",
        ),
        scope=scope,
        evidence={
            "instance_type": usage.instance_type,
            "current_region": usage.region,
            "target_region": move.target_region,
            "window_cost_usd": usage.cost_usd,
            "lines": usage.lines,
            "savings_by_resource": {usage.resource_id: monthly_savings_usd},
        },
        assumptions={
            "movable_regions": list(context.thresholds.movable_regions),
            "current_usd_per_hour": move.current_usd_per_hour,
            "target_usd_per_hour": move.target_usd_per_hour,
            "price_source": f"costrail.pricing catalog ({usage.provider}), on-demand list",
            "window_days": str(context.window_days),
            "purchase_option": "OnDemand usage only (commitments and Spot are not moved)",
        },
    )
