"""Ground truth of a generated demo: exact billed totals and every planted waste or anomaly.

Money is kept as `Decimal` built from the same integer units that were written to the files,
and serialised as strings, so a test can compare loaded totals with the truth to the cent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from costrail.demo.company import COMPANY_NAME, CURRENCY


def money_text(value: Decimal) -> str:
    """Exact plain-decimal text ('1234.5', '0', '-12.0001'), never an exponent."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass(frozen=True)
class PlantedAnomaly:
    """When a planted anomaly happened and what a detector should name as its cause: the
    first and last UTC day its rows are billed, and `root_cause` as `dimension=value` (a
    FOCUS / `x_` column as the anomaly root cause names it)."""

    first_day: str
    last_day: str
    root_cause: str


@dataclass(frozen=True)
class PlantedItem:
    """One planted waste or anomaly.

    `resources` are the IDs exactly as the native files write them (the value a reader puts in
    ResourceId). `cost_by_period` is what the planted behaviour cost in each billing period
    (list prices × usage, before tax and credits); `savings_by_period` is what the stated fix
    saves. `monthly_*` are the values of the latest period in which the item is present.
    `signal` says what in the data gives the item away (billing rows alone, or GPU telemetry).
    """

    kind: str
    provider: str
    resources: tuple[str, ...]
    description: str
    cost_by_period: dict[str, Decimal]
    savings_by_period: dict[str, Decimal]
    fix: str
    signal: str = ""
    #: set for planted cost anomalies only (their days and root cause)
    anomaly: PlantedAnomaly | None = None

    @property
    def latest_period(self) -> str:
        present = [p for p, cost in sorted(self.cost_by_period.items()) if cost != 0]
        return present[-1] if present else sorted(self.cost_by_period)[-1]

    @property
    def monthly_cost_usd(self) -> Decimal:
        return self.cost_by_period.get(self.latest_period, Decimal(0))

    @property
    def monthly_savings_usd(self) -> Decimal:
        return self.savings_by_period.get(self.latest_period, Decimal(0))

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "provider": self.provider,
            "resources": list(self.resources),
            "monthly_cost_usd": money_text(self.monthly_cost_usd),
            "monthly_savings_usd": money_text(self.monthly_savings_usd),
            "period": self.latest_period,
            "total_cost_usd": money_text(sum(self.cost_by_period.values(), Decimal(0))),
            "cost_by_month": {p: money_text(v) for p, v in sorted(self.cost_by_period.items())},
            "savings_by_month": {
                p: money_text(v) for p, v in sorted(self.savings_by_period.items())
            },
            "description": self.description,
            "signal": self.signal,
            "fix": self.fix,
        } | ({"anomaly": vars(self.anomaly)} if self.anomaly else {})


@dataclass(frozen=True)
class Truth:
    """What `generate()` wrote: billed totals per provider and period, rows, planted items."""

    seed: int
    requested_rows: int | None
    clean: bool
    periods: tuple[str, ...]
    billed_by_provider_period: dict[str, dict[str, Decimal]]
    row_counts: dict[str, int]
    planted: tuple[PlantedItem, ...]
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def total_billed(self) -> Decimal:
        return sum(
            (
                v
                for by_period in self.billed_by_provider_period.values()
                for v in by_period.values()
            ),
            Decimal(0),
        )

    def billed_by_provider(self) -> dict[str, Decimal]:
        return {
            provider: sum(by_period.values(), Decimal(0))
            for provider, by_period in self.billed_by_provider_period.items()
        }

    def billed_by_period(self) -> dict[str, Decimal]:
        return {
            period: sum(
                (
                    by_period.get(period, Decimal(0))
                    for by_period in self.billed_by_provider_period.values()
                ),
                Decimal(0),
            )
            for period in self.periods
        }

    def to_json(self) -> dict[str, object]:
        return {
            "company": COMPANY_NAME,
            "seed": self.seed,
            "rows": sum(self.row_counts.values()),
            "requested_aws_rows": self.requested_rows,
            "clean": self.clean,
            "currency": CURRENCY,
            "periods": list(self.periods),
            "totals": {
                "billed_cost": {
                    "total": money_text(self.total_billed),
                    "by_provider": {p: money_text(v) for p, v in self.billed_by_provider().items()},
                    "by_month": {p: money_text(v) for p, v in self.billed_by_period().items()},
                    "by_provider_month": {
                        provider: {p: money_text(v) for p, v in sorted(by_period.items())}
                        for provider, by_period in self.billed_by_provider_period.items()
                    },
                }
            },
            "row_counts": dict(self.row_counts),
            "files": {provider: list(paths) for provider, paths in self.files.items()},
            "planted": [item.to_json() for item in self.planted],
        }

    def write(self, path: Path) -> None:
        path.write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
