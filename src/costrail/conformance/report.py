"""The outcome of a conformance check: one result per model rule, with counts and examples."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Literal

from costrail.conformance.predicates import SkipKind

Status = Literal["passed", "failed", "skipped"]
Severity = Literal["error", "warning"]
#: What a rule is about, for filtering results: presence, type, nullability, allowed_values,
#: format, validation, composite (a rule made of other rules).
RuleKind = Literal[
    "presence", "type", "nullability", "allowed_values", "format", "validation", "composite"
]


@dataclass(frozen=True)
class FailureExample:
    """The first failing row (by row number when the data has one) and the values involved.

    `row` is the 1-based data row of the file (header not counted); `values` holds the columns
    the rule reads, as text. For per-value rules (`CheckDistinctCount`) `row` is None and
    `values` names the offending value.
    """

    row: int | None
    values: dict[str, str | None]


@dataclass(frozen=True)
class RuleResult:
    """One model rule's outcome.

    `failing_count` counts rows for row rules, distinct values for `CheckDistinctCount`, and is
    1 for a failed dataset rule (a missing column). `reason` says why a rule was skipped or
    which parts of a composite failed. `erratum` is set when costrail corrected the model's
    encoding of this rule (see `costrail.conformance.errata`).
    """

    rule_id: str
    status: Status
    kind: RuleKind
    keyword: str
    severity: Severity
    check: str | None
    column: str
    requirement: str
    failing_count: int | None = None
    example: FailureExample | None = None
    reason: str | None = None
    skip_kind: SkipKind | None = None
    erratum: str | None = None


@dataclass(frozen=True)
class ConformanceReport:
    """Every rule of the FOCUS model, evaluated against one dataset.

    `applicability` is the set of criteria the rules were evaluated under; `applicability_inferred`
    says whether it was inferred from the columns present (see `check_table`).
    `unprefixed_custom_columns` lists columns that are neither FOCUS 1.2 columns nor `x_`-prefixed
    (FOCUS requires the prefix on custom columns).
    """

    source: str
    focus_version: str
    rows: int
    columns: tuple[str, ...]
    applicability: frozenset[str]
    applicability_inferred: bool
    results: tuple[RuleResult, ...]
    unprefixed_custom_columns: tuple[str, ...] = field(default=())

    def result(self, rule_id: str) -> RuleResult:
        for result in self.results:
            if result.rule_id == rule_id:
                return result
        raise KeyError(rule_id)

    def with_status(self, status: Status) -> list[RuleResult]:
        return [result for result in self.results if result.status == status]

    @property
    def errors(self) -> list[RuleResult]:
        """Failed MUST / MUST NOT rules: the data is not FOCUS-conformant."""
        return [r for r in self.results if r.status == "failed" and r.severity == "error"]

    @property
    def warnings(self) -> list[RuleResult]:
        """Failed SHOULD / RECOMMENDED rules."""
        return [r for r in self.results if r.status == "failed" and r.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No evaluated MUST rule failed (skipped rules were not evaluated: `skipped_by_kind`)."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        tally = Counter(result.status for result in self.results)
        return {status: tally.get(status, 0) for status in ("passed", "failed", "skipped")}

    def skipped_by_kind(self) -> dict[str, int]:
        tally = Counter(str(r.skip_kind) for r in self.results if r.status == "skipped")
        return dict(sorted(tally.items()))

    def to_dict(self) -> dict[str, object]:
        """Plain data for `--json` output."""
        return {
            "source": self.source,
            "focus_version": self.focus_version,
            "rows": self.rows,
            "columns": list(self.columns),
            "applicability": sorted(self.applicability),
            "applicability_inferred": self.applicability_inferred,
            "ok": self.ok,
            "counts": self.counts(),
            "skipped_by_kind": self.skipped_by_kind(),
            "unprefixed_custom_columns": list(self.unprefixed_custom_columns),
            "results": [asdict(result) for result in self.results],
        }
