"""A budget's scope: equals / in / not-in on FOCUS columns and tags → an Ibis predicate."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, model_validator

from costrail.config import Section
from costrail.schema.costs import COSTS_SCHEMA

#: columns a scope may not filter on: maps and money are not categories
_NOT_FILTERABLE = {"Tags"}


class Condition(Section):
    """One column's condition; a bare string in YAML means `equals`."""

    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_value(cls, value: Any) -> Any:
        if isinstance(value, str | int | float):
            return {"equals": str(value)}
        if isinstance(value, list):
            return {"in": [str(item) for item in value]}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [v for v in (self.equals, self.in_, self.not_in) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of: a value (equals), in: [..], not_in: [..]")
        return self

    def predicate(self, column: ir.StringValue) -> ir.BooleanValue:
        """Null (missing value or tag) equals nothing, is in nothing, and is not-in anything."""
        if self.equals is not None:
            return (column == self.equals).fill_null(False)
        if self.in_ is not None:
            return column.isin(self.in_).fill_null(False)
        assert self.not_in is not None
        return column.isnull() | ~column.isin(self.not_in)


class Scope(Section):
    """`{ServiceName: X, x_Provider: {in: [aws]}, tags: {team: research}}`; empty = everything."""

    columns: dict[str, Condition] = Field(default_factory=dict)
    tags: dict[str, Condition] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split_columns(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "columns" in value:
            return value
        tags = value.get("tags", {})
        columns = {key: item for key, item in value.items() if key != "tags"}
        unknown = sorted(k for k in columns if k not in COSTS_SCHEMA or k in _NOT_FILTERABLE)
        if unknown:
            raise ValueError(
                f"unknown cost column(s) {unknown}; use FOCUS columns such as ServiceName, "
                "x_Provider, SubAccountId, RegionId, or `tags: {key: value}`"
            )
        return {"columns": columns, "tags": tags}

    def predicate(self, costs: ir.Table) -> ir.BooleanValue:
        """All conditions AND-ed; `True` for an empty scope."""
        parts: list[ir.BooleanValue] = []
        for name, condition in self.columns.items():
            parts.append(condition.predicate(costs[name].cast("string")))
        for key, condition in self.tags.items():
            parts.append(condition.predicate(costs.Tags.get(key)))
        result: ir.BooleanValue = ibis.literal(True)
        for part in parts:
            result = result & part
        return result

    def apply(self, costs: ir.Table) -> ir.Table:
        return costs.filter(self.predicate(costs)) if (self.columns or self.tags) else costs

    def describe(self) -> str:
        """A short human text, e.g. `ServiceName=Amazon SageMaker, tag team in [a, b]`."""
        parts = [f"{name} {_text(c)}" for name, c in self.columns.items()]
        parts += [f"tag {key} {_text(c)}" for key, c in self.tags.items()]
        return ", ".join(parts) or "all spend"


def _text(condition: Condition) -> str:
    if condition.equals is not None:
        return f"= {condition.equals}"
    if condition.in_ is not None:
        return f"in [{', '.join(condition.in_)}]"
    return f"not in [{', '.join(condition.not_in or [])}]"
