"""Group-by over the costs table: the engine behind `costrail explore` and the demo summary.

Dimensions are FOCUS or `x_` columns, `tag:KEY` (a tag value), `month` (billing period, as
YYYY-MM) or `day` (charge day). Money comes back as exact decimals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from costrail.errors import ConfigError
from costrail.schema.costs import COSTS_SCHEMA, MONEY, TIMESTAMP

METRICS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
PSEUDO_DIMENSIONS = ("month", "day")
_CLAUSE = re.compile(
    r"^\s*(tag:[^=!<>~]+?|[A-Za-z_][A-Za-z0-9_]*)\s*(!=|>=|<=|=|~|>|<)\s*(.*?)\s*$"
)


@dataclass(frozen=True)
class ExploreQuery:
    """One explore request. `until` is exclusive; both bounds apply to ChargePeriodStart."""

    by: tuple[str, ...] = ()
    metric: str = "BilledCost"
    where: str | None = None
    since: date | None = None
    until: date | None = None


def dimension(costs: ir.Table, name: str) -> ir.Value:
    """The expression for one `--by` dimension; raises `ConfigError` for an unknown name."""
    if name.startswith("tag:"):
        key = name.removeprefix("tag:")
        if not key:
            raise ConfigError("tag: needs a key, e.g. --by tag:team")
        return costs.Tags.get(key)
    if name == "month":
        return costs.BillingPeriodStart.strftime("%Y-%m")
    if name == "day":
        return costs.ChargePeriodStart.date().cast("string")
    if name not in COSTS_SCHEMA:
        known = ", ".join([*COSTS_SCHEMA.names, *PSEUDO_DIMENSIONS, "tag:KEY"])
        raise ConfigError(f"unknown column {name!r}; choose from {known}")
    return costs[name]


def parse_where(costs: ir.Table, text: str) -> list[ir.BooleanValue]:
    """`COL=V and tag:team!=ml and x_GpuModel~H100`: clauses joined by ' and '.

    Operators: = != > >= < <= and ~ (contains, case-insensitive). Values may be quoted.
    """
    predicates: list[ir.BooleanValue] = []
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if not match:
            raise ConfigError(
                f"cannot read --where clause {clause!r}; write COLUMN=VALUE, COLUMN!=VALUE, "
                "COLUMN~TEXT or COLUMN>NUMBER, joined with ' and '"
            )
        column_name, operator, raw_value = match.groups()
        value_text = raw_value.strip().strip("'\"")
        column = dimension(costs, column_name.strip())
        predicates.append(_predicate(column, operator, value_text))
    return predicates


def _predicate(column: ir.Value, operator: str, value_text: str) -> ir.BooleanValue:
    value: object = value_text
    if column.type().is_decimal() or column.type().is_numeric():
        try:
            value = Decimal(value_text)
        except ArithmeticError as error:
            raise ConfigError(f"{value_text!r} is not a number") from error
    elif column.type().is_timestamp():
        value = ibis.literal(value_text).cast(TIMESTAMP)
    if operator == "~":
        return column.cast("string").lower().contains(value_text.lower())  # type: ignore[attr-defined, no-any-return]
    comparisons = {
        "=": lambda c, v: c == v,
        "!=": lambda c, v: (c != v) | c.isnull(),
        ">": lambda c, v: c > v,
        ">=": lambda c, v: c >= v,
        "<": lambda c, v: c < v,
        "<=": lambda c, v: c <= v,
    }
    return comparisons[operator](column, value)  # type: ignore[no-any-return]


def explore(costs: ir.Table, query: ExploreQuery) -> list[dict[str, object]]:
    """Rows of {dimension…, metric, rows}, largest metric first; money as `Decimal`."""
    if query.metric not in METRICS:
        raise ConfigError(f"unknown metric {query.metric!r}; choose from {', '.join(METRICS)}")
    filtered = costs
    if query.where:
        filtered = filtered.filter(parse_where(costs, query.where))
    if query.since:
        filtered = filtered.filter(filtered.ChargePeriodStart >= _instant(query.since))
    if query.until:
        filtered = filtered.filter(filtered.ChargePeriodStart < _instant(query.until))
    groups = {name: dimension(filtered, name) for name in query.by}
    aggregates = {
        query.metric: filtered[query.metric].sum().cast(MONEY),
        "rows": filtered.count(),
    }
    if groups:
        result = filtered.group_by(**groups).aggregate(**aggregates)
        result = result.order_by([ibis.desc(query.metric), *groups])
    else:
        result = filtered.aggregate(**aggregates)
    records = result.to_pyarrow().to_pylist()
    return [_normalise(record, query.metric) for record in records]


def _instant(day: date) -> ir.Value:
    return ibis.literal(datetime(day.year, day.month, day.day)).cast(TIMESTAMP)


def _normalise(record: dict[str, object], metric: str) -> dict[str, object]:
    value = record.get(metric)
    record[metric] = Decimal(0) if value is None else Decimal(str(value))
    return record
