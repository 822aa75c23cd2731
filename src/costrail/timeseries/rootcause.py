"""Root cause of a cost anomaly: which dimension values (service, account, region, usage type,
instance type, resource, tag values) moved the most dollars against their own baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.explore import dimension
from costrail.schema.costs import MONEY

CENT = Decimal("0.01")
DEFAULT_DIMENSIONS = (
    "ServiceName",
    "SubAccountId",
    "RegionId",
    "x_UsageType",
    "x_InstanceType",
    "ResourceId",
    "tag:team",
    "tag:project",
)
#: when several values explain nearly the same dollars (an EC2 service jump that is one
#: instance type), the narrower one is the more useful answer: most specific first
SPECIFICITY = (
    "ResourceId",
    "x_InstanceType",
    "x_UsageType",
    "tag:project",
    "tag:team",
    "SubAccountId",
    "RegionId",
    "ServiceName",
)
#: values whose impact is at least this share of the largest explain the anomaly; among them
#: the most surprising (largest rise over its own expected spend) comes first
EXPLAINS_SHARE = Decimal("0.7")
#: a rise of 10× its own expected spend (or a value that is new) counts as fully surprising;
#: beyond that the narrower dimension wins
SURPRISE_CAP = Decimal("10")


@dataclass(frozen=True)
class RootCause:
    """One dimension value and the dollars it added over its own expected spend on the
    anomalous days; `share` is that impact over the scope's whole impact."""

    dimension: str
    value: str
    impact_usd: Decimal
    share: float

    def as_json(self) -> dict[str, Any]:
        """The fields as JSON-able values (money stays a Decimal), as findings and the CLI
        report them."""
        return {
            "dimension": self.dimension,
            "value": self.value,
            "impact_usd": self.impact_usd,
            "share": self.share,
        }


def baseline_days(days: Sequence[date], weeks: int = 4) -> list[date]:
    """The same weekdays of the `weeks` weeks before each anomalous day, minus anomalous days:
    a weekday-fair baseline."""
    anomalous = set(days)
    chosen = {day - timedelta(days=7 * k) for day in days for k in range(1, weeks + 1)}
    return sorted(chosen - anomalous)


def rank_root_causes(
    costs: ir.Table,
    days: Sequence[date],
    *,
    metric: str = "EffectiveCost",
    dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
    weeks: int = 4,
    limit: int = 5,
) -> tuple[RootCause, ...]:
    """The values with the largest positive dollar impact on `days`, best explanation first.

    `costs` must already be the anomaly's scope. For each dimension one group-by runs in the
    engine (actual on the anomalous days vs the mean of the baseline days, scaled to as many
    days); only the top `limit` values per dimension come back to Python.
    """
    if not days:
        return ()
    baseline = baseline_days(days, weeks)
    charge_day = costs.ChargePeriodStart.date()
    relevant = costs.filter(charge_day.isin([*days, *baseline]))
    on_days = relevant.ChargePeriodStart.date().isin(list(days))
    amount = relevant[metric].cast(MONEY)
    zero = ibis.literal(Decimal(0)).cast(MONEY)
    candidates: list[tuple[RootCause, Decimal]] = []
    scale = Decimal(len(days)) / Decimal(max(len(baseline), 1))
    for name in dimensions:
        value = dimension(relevant, name).cast("string")
        grouped = relevant.group_by(value=value).aggregate(
            actual=ibis.cases((on_days, amount), else_=zero).sum(),
            base=ibis.cases((~on_days, amount), else_=zero).sum(),
        )
        impact = grouped.actual - grouped.base * ibis.literal(scale).cast(MONEY)
        top = grouped.mutate(impact=impact).order_by([ibis.desc("impact"), "value"]).limit(limit)
        for row in top.to_pyarrow().to_pylist():
            if row["value"] is None or row["impact"] is None or Decimal(row["impact"]) <= 0:
                continue
            impact_usd = Decimal(row["impact"])
            expected_usd = Decimal(row["base"] or 0) * scale
            cause = RootCause(name, str(row["value"]), impact_usd, 0.0)
            candidates.append((cause, expected_usd))
    totals = (
        relevant.aggregate(
            actual=ibis.cases((on_days, amount), else_=zero).sum(),
            base=ibis.cases((~on_days, amount), else_=zero).sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    total_impact = Decimal(totals["actual"] or 0) - Decimal(totals["base"] or 0) * scale
    return tuple(_ranked(candidates, total_impact, limit))


def _surprise(impact_usd: Decimal, expected_usd: Decimal) -> Decimal:
    if expected_usd <= 0:
        return SURPRISE_CAP
    return min(impact_usd / expected_usd, SURPRISE_CAP)


def _ranked(
    candidates: list[tuple[RootCause, Decimal]], total_impact: Decimal, limit: int
) -> list[RootCause]:
    """Explaining values first (impact ≥ 70 % of the largest), most surprising — then most
    specific — among them; the rest by impact. A runaway fleet of one instance type ranks its
    instance type above its account (which also rose, but from a large base) and above each
    single instance (which explains a twelfth)."""
    if not candidates:
        return []
    largest = max(cause.impact_usd for cause, _ in candidates)
    order = {name: i for i, name in enumerate(SPECIFICITY)}

    def key(item: tuple[RootCause, Decimal]) -> tuple[int, Decimal, int, Decimal, str, str]:
        cause, expected_usd = item
        names = (cause.dimension, cause.value)  # ties: the same order on every engine
        if cause.impact_usd >= largest * EXPLAINS_SHARE:
            surprise = _surprise(cause.impact_usd, expected_usd)
            specific = order.get(cause.dimension, len(order))
            return (0, -surprise, specific, -cause.impact_usd, *names)
        return (1, Decimal(0), 0, -cause.impact_usd, *names)

    ranked = [cause for cause, _ in sorted(candidates, key=key)[:limit]]
    denominator = total_impact if total_impact > 0 else largest
    return [
        RootCause(
            c.dimension,
            c.value,
            c.impact_usd.quantize(CENT),
            round(float(c.impact_usd / denominator), 4),
        )
        for c in ranked
    ]
