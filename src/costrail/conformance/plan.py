"""Turn each model rule into a query plan: a row predicate, a grouped count, a composite, or a skip.

Conditions and applicability criteria flow down from composites to the rules under them, so
"When PricingQuantity is not null, …" limits every rule it contains.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import ibis.expr.types as ir

from costrail.conformance.model import PERMISSIVE_KEYWORDS, ModelRule, RequirementsModel
from costrail.conformance.predicates import (
    Dataset,
    NotEvaluable,
    SkipKind,
    holds,
    referenced_columns,
    violation,
)
from costrail.conformance.report import Status


@dataclass(frozen=True)
class RowCheck:
    """Rows where `predicate` is true violate the rule (its conditions already applied)."""

    predicate: ir.BooleanValue
    columns: tuple[str, ...]


@dataclass(frozen=True)
class GroupCheck:
    """Each non-null `key` value must have exactly `expected` distinct `counted` values."""

    key: str
    counted: str
    expected: int
    scope: ir.BooleanValue | None


@dataclass(frozen=True)
class CompositeCheck:
    """A rule made of other rules (`CheckModelRule` items) joined by AND or OR."""

    operator: str
    children: tuple[str, ...]


@dataclass(frozen=True)
class Settled:
    """Decided without a query: a skip, or a column-presence outcome."""

    status: Status
    reason: str | None = None
    skip_kind: SkipKind | None = None
    failing_count: int | None = None


Plan = RowCheck | GroupCheck | CompositeCheck | Settled


def infer_applicability(model: RequirementsModel, columns: Collection[str]) -> frozenset[str]:
    """Criteria implied by the columns present (see `check_table`)."""
    criteria_by_column: dict[str, list[frozenset[str]]] = {}
    for rule in model.rules.values():
        if rule.check_function == "ColumnPresent":
            column = str(rule.requirement["ColumnName"])
            criteria_by_column.setdefault(column, []).append(frozenset(rule.applicability))
    implied: set[str] = set()
    for column, criteria_sets in criteria_by_column.items():
        if column in columns:
            implied |= frozenset.intersection(*criteria_sets)
    return frozenset(implied)


class Planner:
    """Turns each rule into a query plan, inheriting conditions and applicability from parents."""

    def __init__(self, model: RequirementsModel, data: Dataset, declared: frozenset[str]) -> None:
        self.model = model
        self.data = data
        self.declared = declared
        self._missing: dict[str, tuple[str, ...]] = {}
        self._scopes: dict[str, ir.BooleanValue | NotEvaluable | None] = {}

    def plan(self, rule_id: str) -> Plan:
        rule = self.model.rule(rule_id)
        if rule.keyword in PERMISSIVE_KEYWORDS:
            return Settled(
                "skipped", f"{rule.keyword}: a permission, nothing to check", "permissive"
            )
        missing = self.missing_criteria(rule_id)
        if missing:
            return Settled(
                "skipped", f"applicability not declared: {', '.join(missing)}", "not_applicable"
            )
        if rule.is_dynamic:
            return Settled(
                "skipped", "dynamic: the model has no data check for this requirement", "dynamic"
            )
        references = rule.references()
        if references:
            operator = "OR" if rule.check_function == "OR" else "AND"
            return CompositeCheck(operator, references)
        if rule.check_function == "ColumnPresent":
            return self._presence(rule)
        try:
            return self._query_plan(rule)
        except NotEvaluable as error:
            return Settled("skipped", error.reason, error.kind)

    def _presence(self, rule: ModelRule) -> Settled:
        column = str(rule.requirement["ColumnName"])
        if column in self.data.columns:
            return Settled("passed")
        return Settled("failed", f"column {column} is not in the data", failing_count=1)

    def _query_plan(self, rule: ModelRule) -> RowCheck | GroupCheck:
        scope = self.scope(rule.rule_id)
        if rule.check_function == "CheckDistinctCount":
            spec = rule.requirement
            key, counted = str(spec["ColumnAName"]), str(spec["ColumnBName"])
            for name in (key, counted):
                self.data.column(name)  # raises when absent
            return GroupCheck(key, counted, int(spec["ExpectedCount"]), scope)
        predicate = violation(rule.requirement, self.data)
        if scope is not None:
            predicate = predicate & scope
        columns = referenced_columns(rule.requirement) + referenced_columns(rule.condition)
        return RowCheck(predicate, tuple(dict.fromkeys(columns)))

    def missing_criteria(self, rule_id: str) -> tuple[str, ...]:
        """Criteria this rule (or every path of parents to it) needs but were not declared."""
        if rule_id not in self._missing:
            rule = self.model.rule(rule_id)
            own = tuple(name for name in rule.applicability if name not in self.declared)
            parents = self.model.parents.get(rule_id, ())
            inherited: tuple[str, ...] = ()
            if parents:
                candidates = [self.missing_criteria(parent) for parent in parents]
                inherited = () if any(not c for c in candidates) else candidates[0]
            self._missing[rule_id] = tuple(dict.fromkeys(own + inherited))
        return self._missing[rule_id]

    def scope(self, rule_id: str) -> ir.BooleanValue | None:
        """Rows a rule applies to: its own condition and (any of) its parents' scopes.

        None means every row. A composite's condition ("When PricingQuantity is not null, …")
        therefore reaches every rule under it.
        """
        if rule_id not in self._scopes:
            try:
                self._scopes[rule_id] = self._compute_scope(rule_id)
            except NotEvaluable as error:
                self._scopes[rule_id] = error
        scope = self._scopes[rule_id]
        if isinstance(scope, NotEvaluable):
            raise scope
        return scope

    def _compute_scope(self, rule_id: str) -> ir.BooleanValue | None:
        rule = self.model.rule(rule_id)
        own = holds(rule.condition, self.data) if rule.condition else None
        parents = self.model.parents.get(rule_id, ())
        parent_scopes = [self.scope(parent) for parent in parents]
        limited = [scope for scope in parent_scopes if scope is not None]
        inherited: ir.BooleanValue | None = None
        if limited and len(limited) == len(parent_scopes):
            inherited = limited[0]
            for scope in limited[1:]:
                inherited = inherited | scope
        if own is None:
            return inherited
        return own if inherited is None else own & inherited
