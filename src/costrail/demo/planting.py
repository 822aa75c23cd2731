"""Bookkeeping of planted waste: exact cost per billing period of the rows that embody it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

import numpy as np

from costrail.demo.money import E10, exact_sum, units_to_decimal
from costrail.demo.planted_texts import planted_texts
from costrail.demo.timeline import IntArray, Timeline
from costrail.demo.truth import PlantedAnomaly, PlantedItem


class CostRows(Protocol):
    """Anything with rows: their start hours and billed cost units."""

    @property
    def start_hour(self) -> IntArray: ...

    @property
    def cost_units(self) -> IntArray: ...


def period_costs(timeline: Timeline, batches: Sequence[CostRows]) -> IntArray:
    """Exact cost units of `batches` per billing period (an int64 array, one entry per period)."""
    totals = [0] * len(timeline.periods)
    for batch in batches:
        periods = timeline.period_of_hours(batch.start_hour)
        for index in range(len(timeline.periods)):
            totals[index] += exact_sum(batch.cost_units[periods == index])
    return np.array(totals, dtype=np.int64)


@dataclass(frozen=True)
class Planted:
    """A planted item while generating: costs are integer units of 1/`scale` USD per period."""

    kind: str
    provider: str
    resources: tuple[str, ...]
    cost_units: IntArray
    savings_units: IntArray
    scale: int = E10
    #: set for planted cost anomalies (see `with_anomaly`)
    anomaly: PlantedAnomaly | None = None

    @classmethod
    def of_rows(
        cls,
        timeline: Timeline,
        kind: str,
        provider: str,
        resources: Iterable[str],
        wasted: Sequence[CostRows],
        fixed: Sequence[CostRows] = (),
        scale: int = E10,
    ) -> Planted:
        """Waste that costs what the `wasted` rows bill; fixed, the `fixed` rows would be billed
        instead (none when the fix is to stop paying), so the saving is the difference."""
        cost = period_costs(timeline, wasted)
        savings = cost - period_costs(timeline, fixed) if fixed else cost
        return cls(kind, provider, tuple(resources), cost, savings, scale)

    def with_anomaly(
        self, timeline: Timeline, batches: Sequence[CostRows], root_cause: str
    ) -> Planted:
        """This item as a planted cost anomaly: its days are the first and last UTC day on
        which `batches` bill anything; `root_cause` is `dimension=value`."""
        hours = np.concatenate([b.start_hour[b.cost_units != 0] for b in batches])
        first, last = (timeline.at(int(h)).date().isoformat() for h in (hours.min(), hours.max()))
        return replace(self, anomaly=PlantedAnomaly(first, last, root_cause))

    def to_truth(self, timeline: Timeline) -> PlantedItem:
        def by_period(units: IntArray) -> dict[str, Decimal]:
            return {
                p: units_to_decimal(int(u), self.scale)
                for p, u in zip(timeline.periods, units, strict=True)
            }

        text = planted_texts()[(self.provider, self.kind)]
        return PlantedItem(
            kind=self.kind,
            provider=self.provider,
            resources=self.resources,
            description=text.description,
            cost_by_period=by_period(self.cost_units),
            savings_by_period=by_period(self.savings_units),
            fix=text.fix,
            signal=text.signal,
            anomaly=self.anomaly,
        )
