"""The `budgets:` section of costrail.yaml and the evaluation of each budget against the warehouse.

A budget is a scope, a period, an amount and thresholds. Evaluation sums actual spend to date
(exact decimals, in the engine) and asks `costrail.timeseries` for the period-end projection;
the crossed thresholds are what alerts and actions key on.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import ibis.expr.types as ir
from pydantic import Field, RootModel, field_validator, model_validator

from costrail.config import Section, register_section
from costrail.errors import CostrailError
from costrail.policy.scope import Scope

Metric = Literal["EffectiveCost", "BilledCost"]
HUNDRED = Decimal(100)


class CustomPeriod(Section):
    """A fixed window; `end` is the last day included."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> CustomPeriod:
        if self.end < self.start:
            raise ValueError("period end is before its start")
        return self


class Thresholds(Section):
    """Percentages of the amount: on spend to date (`actual`) and on the period-end forecast."""

    actual: list[Decimal] = Field(default_factory=lambda: [Decimal(50), Decimal(80), HUNDRED])
    forecast: list[Decimal] = Field(default_factory=lambda: [HUNDRED])

    @field_validator("actual", "forecast")
    @classmethod
    def _positive_sorted(cls, values: list[Decimal]) -> list[Decimal]:
        if any(value <= 0 for value in values):
            raise ValueError("thresholds are percentages above 0 (e.g. 50, 80, 100, 120)")
        return sorted(set(values))


class Budget(Section):
    """One entry of `budgets:`."""

    name: str = Field(min_length=1)
    amount: Decimal = Field(gt=0, description="USD for the whole period")
    period: Literal["month", "quarter"] | CustomPeriod = "month"
    scope: Scope = Field(default_factory=Scope)
    metric: Metric = "EffectiveCost"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    channels: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    #: actions run once actual spend reaches this percentage of the amount
    actions_at_pct: Decimal = Field(default=HUNDRED, gt=0)

    @field_validator("amount", mode="before")
    @classmethod
    def _exact_amount(cls, value: Any) -> Any:
        """YAML reads `1000.10` as a float; go through its text so no binary noise gets in."""
        return str(value) if isinstance(value, float) else value

    def window(self, as_of: date) -> tuple[date, date]:
        """First and last day (inclusive) of the period containing `as_of`."""
        if isinstance(self.period, CustomPeriod):
            return self.period.start, self.period.end
        if self.period == "month":
            last = calendar.monthrange(as_of.year, as_of.month)[1]
            return as_of.replace(day=1), as_of.replace(day=last)
        first_month = 3 * ((as_of.month - 1) // 3) + 1
        start = date(as_of.year, first_month, 1)
        last_month = first_month + 2
        end = date(as_of.year, last_month, calendar.monthrange(as_of.year, last_month)[1])
        return start, end


@register_section("budgets")
class BudgetsSection(RootModel[list[Budget]]):
    """`budgets:` is a list; names are unique because alert state is keyed by them."""

    root: list[Budget] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, value: Any) -> Any:
        return [] if value == {} else value

    @model_validator(mode="after")
    def _unique_names(self) -> BudgetsSection:
        seen: set[str] = set()
        for budget in self.root:
            if budget.name in seen:
                raise ValueError(f"budget name {budget.name!r} is used twice")
            seen.add(budget.name)
        return self


@dataclass(frozen=True)
class Forecast:
    """Period-end projection of the scope's spend, with its intervals (USD)."""

    expected_usd: Decimal
    lo80_usd: Decimal
    hi80_usd: Decimal
    lo95_usd: Decimal
    hi95_usd: Decimal


@dataclass(frozen=True)
class BudgetStatus:
    """Where one budget stands on `as_of`; percentages are of `budget.amount`."""

    budget: Budget
    period_start: date
    period_end: date
    as_of: date
    actual_usd: Decimal
    forecast: Forecast | None
    forecast_note: str | None
    #: day on which cumulative spend first reached each crossed actual threshold
    crossed_actual: dict[Decimal, date] = field(default_factory=dict)
    crossed_forecast: list[Decimal] = field(default_factory=list)

    @property
    def period_label(self) -> str:
        return f"{self.period_start.isoformat()}..{self.period_end.isoformat()}"

    @property
    def actual_pct(self) -> Decimal:
        return (self.actual_usd / self.budget.amount * HUNDRED).quantize(Decimal("0.1"))

    @property
    def forecast_pct(self) -> Decimal | None:
        if self.forecast is None:
            return None
        return (self.forecast.expected_usd / self.budget.amount * HUNDRED).quantize(Decimal("0.1"))

    @property
    def breached(self) -> bool:
        return self.actual_usd >= self.budget.amount

    @property
    def forecast_breached(self) -> bool:
        return self.forecast is not None and self.forecast.expected_usd >= self.budget.amount

    @property
    def actions_due(self) -> bool:
        return self.actual_usd * HUNDRED >= self.budget.amount * self.budget.actions_at_pct

    def to_dict(self) -> dict[str, object]:
        forecast = None
        if self.forecast is not None:
            forecast = {
                "expected_usd": self.forecast.expected_usd,
                "lo80_usd": self.forecast.lo80_usd,
                "hi80_usd": self.forecast.hi80_usd,
                "lo95_usd": self.forecast.lo95_usd,
                "hi95_usd": self.forecast.hi95_usd,
                "pct": self.forecast_pct,
            }
        return {
            "budget": self.budget.name,
            "scope": self.budget.scope.describe(),
            "metric": self.budget.metric,
            "amount_usd": self.budget.amount,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "as_of": self.as_of,
            "actual_usd": self.actual_usd,
            "actual_pct": self.actual_pct,
            "forecast": forecast,
            "forecast_note": self.forecast_note,
            "crossed_actual_pct": {str(k): v for k, v in self.crossed_actual.items()},
            "crossed_forecast_pct": [str(value) for value in self.crossed_forecast],
            "breached": self.breached,
            "forecast_breached": self.forecast_breached,
        }


def newest_charge_day(costs: ir.Table) -> date | None:
    """The day of the newest charge: the default `as_of`, so a lagging export is not read as
    a sudden drop in spend."""
    newest = costs.ChargePeriodStart.max().to_pyarrow().as_py()
    if newest is None:
        return None
    return newest.date() if isinstance(newest, datetime) else newest


def evaluate(costs: ir.Table, budget: Budget, as_of: date) -> BudgetStatus:
    """Actual spend to `as_of` (inclusive), the period-end forecast, and crossed thresholds."""
    start, end = budget.window(as_of)
    scoped = budget.scope.apply(costs)
    daily = _daily_totals(scoped, budget.metric, start, min(as_of, end))
    actual_usd = sum(daily.values(), Decimal(0))
    forecast, note = _forecast(scoped, budget.metric, start, end, as_of)
    crossed = _crossing_days(daily, budget.amount, budget.thresholds.actual)
    crossed_forecast: list[Decimal] = []
    if forecast is not None:
        crossed_forecast = [
            pct
            for pct in budget.thresholds.forecast
            if forecast.expected_usd * HUNDRED >= budget.amount * pct
        ]
    return BudgetStatus(
        budget=budget,
        period_start=start,
        period_end=end,
        as_of=as_of,
        actual_usd=actual_usd,
        forecast=forecast,
        forecast_note=note,
        crossed_actual=crossed,
        crossed_forecast=crossed_forecast,
    )


def _daily_totals(scoped: ir.Table, metric: str, first: date, last: date) -> dict[date, Decimal]:
    """Spend per charge day in [first, last]; one small grouped result."""
    if last < first:
        return {}
    day = scoped.ChargePeriodStart.date()
    window = scoped.filter(
        (scoped.ChargePeriodStart >= datetime.combine(first, datetime.min.time()))
        & (
            scoped.ChargePeriodStart
            < datetime.combine(last + timedelta(days=1), datetime.min.time())
        )
    )
    grouped = (
        window.mutate(day=day)
        .group_by("day")
        .aggregate(spend=window[metric].sum())
        .order_by("day")
        .to_pyarrow()
        .to_pylist()
    )
    return {
        _as_date(row["day"]): Decimal(row["spend"]) for row in grouped if row["spend"] is not None
    }


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[no-any-return]


def _crossing_days(
    daily: dict[date, Decimal], amount_usd: Decimal, thresholds_pct: list[Decimal]
) -> dict[Decimal, date]:
    crossed: dict[Decimal, date] = {}
    running = Decimal(0)
    for day in sorted(daily):
        running += daily[day]
        for pct in thresholds_pct:
            if pct not in crossed and running * HUNDRED >= amount_usd * pct:
                crossed[pct] = day
    return crossed


def _forecast(
    scoped: ir.Table, metric: str, start: date, end: date, as_of: date
) -> tuple[Forecast | None, str | None]:
    """The projection from `costrail.timeseries`; None with the reason when it cannot be made."""
    try:
        from costrail.timeseries import project_period, scope_series
    except ImportError as error:
        return None, f"forecasting unavailable: {error}"
    try:
        series = scope_series(scoped, metric=metric)
        # the forecaster's period end is exclusive; ours is the last day included
        projections = project_period(series, start, end + timedelta(days=1), as_of=as_of)
    except (CostrailError, ValueError, ArithmeticError, LookupError) as error:
        return None, f"no forecast: {error}"
    if not projections:
        return None, "no forecast: no history in scope"
    projection = projections[0]
    return (
        Forecast(
            expected_usd=Decimal(projection.expected_total_usd),
            lo80_usd=Decimal(projection.lo80_usd),
            hi80_usd=Decimal(projection.hi80_usd),
            lo95_usd=Decimal(projection.lo95_usd),
            hi95_usd=Decimal(projection.hi95_usd),
        ),
        None,
    )
