"""Decide each rule's result from its evaluated outcome; composites from their parts."""

from __future__ import annotations

from dataclasses import dataclass

from costrail.conformance.model import ModelRule, RequirementsModel
from costrail.conformance.plan import CompositeCheck, Plan
from costrail.conformance.predicates import SkipKind
from costrail.conformance.report import FailureExample, RuleKind, RuleResult, Status


@dataclass(frozen=True)
class Outcome:
    """What evaluating one rule found, before it is dressed as a `RuleResult`."""

    status: Status
    failing_count: int | None = None
    example: FailureExample | None = None
    reason: str | None = None
    skip_kind: SkipKind | None = None


class Resolver:
    """Turns outcomes into results, deciding composites from their parts (memoised)."""

    #: Skips that mean "nothing is required here" rather than "not evaluated". An absent column's
    #: rules count as vacuous because its own presence rule already decides whether it must exist.
    VACUOUS: frozenset[str] = frozenset({"not_applicable", "permissive", "column_absent"})

    def __init__(
        self, model: RequirementsModel, plans: dict[str, Plan], outcomes: dict[str, Outcome]
    ) -> None:
        self.model = model
        self.plans = plans
        self.outcomes = dict(outcomes)
        self._resolving: set[str] = set()

    def results(self) -> list[RuleResult]:
        return [self._result(rule_id) for rule_id in self.model.rules]

    def _result(self, rule_id: str) -> RuleResult:
        rule = self.model.rule(rule_id)
        outcome = self._outcome(rule_id)
        return RuleResult(
            rule_id=rule_id,
            status=outcome.status,
            kind=rule_kind(rule),
            keyword=rule.keyword,
            severity="error" if rule.severity == "error" else "warning",
            check=rule.check_function,
            column=rule.reference,
            requirement=rule.must_satisfy,
            failing_count=outcome.failing_count,
            example=outcome.example,
            reason=outcome.reason,
            skip_kind=outcome.skip_kind,
            erratum=rule.erratum,
        )

    def _outcome(self, rule_id: str) -> Outcome:
        if rule_id in self.outcomes:
            return self.outcomes[rule_id]
        plan = self.plans[rule_id]
        assert isinstance(plan, CompositeCheck)
        if rule_id in self._resolving:
            return Outcome(
                "skipped",
                reason="the model's rules refer to each other in a cycle",
                skip_kind="unsupported",
            )
        self._resolving.add(rule_id)
        outcome = self._composite(plan)
        self._resolving.discard(rule_id)
        self.outcomes[rule_id] = outcome
        return outcome

    def _part_state(self, rule_id: str) -> str:
        """passed / failed / vacuous / unknown, as a part of a composite."""
        outcome = self._outcome(rule_id)
        if outcome.status == "failed":
            return "failed" if self.model.rule(rule_id).severity == "error" else "passed"
        if outcome.status == "passed":
            return "passed"
        return "vacuous" if outcome.skip_kind in self.VACUOUS else "unknown"

    def _composite(self, plan: CompositeCheck) -> Outcome:
        """AND fails when a part fails; OR passes when a part passes; unevaluated parts make the
        composite incomplete rather than passed."""
        states = {child: self._part_state(child) for child in plan.children}
        failed = [child for child, state in states.items() if state == "failed"]
        unknown = [child for child, state in states.items() if state == "unknown"]
        passed = [child for child, state in states.items() if state == "passed"]
        if plan.operator == "OR" and passed:
            return Outcome("passed")
        if plan.operator == "AND" and failed:
            return Outcome("failed", reason=f"failed parts: {', '.join(failed)}")
        if unknown:
            return Outcome(
                "skipped",
                reason=f"{len(unknown)} of {len(states)} parts not evaluated: {', '.join(unknown)}",
                skip_kind="incomplete",
            )
        if failed:
            return Outcome("failed", reason=f"every alternative failed: {', '.join(failed)}")
        if passed:
            return Outcome("passed")
        return Outcome("skipped", reason="no part applies to this data", skip_kind="not_applicable")


def rule_kind(rule: ModelRule) -> RuleKind:
    """Classify a rule for reporting; allowed-value lists are told apart from other validations."""
    kinds: dict[str, RuleKind] = {
        "Presence": "presence",
        "Type": "type",
        "Nullability": "nullability",
        "Format": "format",
        "Composite": "composite",
    }
    if rule.function in kinds:
        return kinds[rule.function]
    if rule.check_function == "OR" and _is_value_list(rule):
        return "allowed_values"
    return "validation"


def _is_value_list(rule: ModelRule) -> bool:
    items = rule.requirement.get("Items", ())
    return (
        bool(items)
        and all(
            item.get("CheckFunction") == "CheckValue" and item.get("Value") is not None
            for item in items
        )
        and len({item.get("ColumnName") for item in items}) == 1
    )
