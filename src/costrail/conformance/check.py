"""Evaluate the FOCUS requirements model against a file or an Ibis table.

Every row rule becomes one measure of a single aggregate query (no Python walks the rows);
`CheckDistinctCount` rules are one grouped query each; examples are fetched only for failures.
Composites (rules made of other rules) are decided from their parts. Rules that cannot be
evaluated are reported as skipped with the reason, never as passed.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir

from costrail.conformance.model import RequirementsModel, load_model
from costrail.conformance.plan import (
    GroupCheck,
    Plan,
    Planner,
    RowCheck,
    Settled,
    infer_applicability,
)
from costrail.conformance.predicates import Dataset
from costrail.conformance.report import ConformanceReport, FailureExample
from costrail.conformance.resolve import Outcome, Resolver
from costrail.errors import ConfigError, InputError
from costrail.schema.costs import FOCUS_COLUMNS
from costrail.sources import native
from costrail.sources.base import FILE_COLUMN, ROW_COLUMN, SourceFile


def check_file(
    path: Path | str,
    *,
    applicability: Collection[str] | None = None,
    model: RequirementsModel | None = None,
) -> ConformanceReport:
    """Check a FOCUS CSV or Parquet file against the FOCUS 1.2 requirements model.

    CSV values are judged as text (a decimal column must hold decimal text); Parquet values by
    their physical types. Failing rows are named by their 1-based data row. A file that cannot
    be read raises `InputError`. See `check_table` for `applicability`.
    """
    file_path = Path(path)
    kind = native.file_kind(file_path)
    if kind not in ("csv", "parquet"):
        raise InputError("a FOCUS dataset must be a CSV or Parquet file", file=file_path)
    con = ibis.duckdb.connect()
    try:
        table = native.load(con, [SourceFile.from_path(file_path, kind)])
        return check_table(
            table,
            text_encoded=kind == "csv",
            applicability=applicability,
            model=model,
            source=str(file_path),
        )
    finally:
        con.disconnect()


def check_table(
    table: ir.Table,
    *,
    text_encoded: bool = False,
    applicability: Collection[str] | None = None,
    model: RequirementsModel | None = None,
    source: str = "ibis table",
) -> ConformanceReport:
    """Check a DuckDB-backed Ibis table (e.g. `ibis.duckdb.connect().read_parquet(...)`).

    `applicability` names the model's applicability criteria the provider supports (e.g.
    `{"COMMITMENT_DISCOUNT_SUPPORTED"}`); rules needing other criteria are skipped as not
    applicable. When None, they are inferred from the columns present: a criterion counts as
    declared when a present column is only ever required or recommended under it (a
    `CommitmentDiscountId` column declares commitment-discount support). Criteria no column
    implies (such as ACCOUNT_NAMING_SUPPORTED) must be declared explicitly.

    `text_encoded` says the values are text (as read from CSV) and types are judged by parsing.
    """
    if ibis.get_backend(table).name != "duckdb":
        raise ConfigError(
            "conformance checks run on DuckDB: write the table to Parquet and use check_file"
        )
    rules_model = model or load_model()
    columns = frozenset(name for name in table.columns if name not in (FILE_COLUMN, ROW_COLUMN))
    data = Dataset(table=table, columns=columns, text_encoded=text_encoded)
    inferred = applicability is None
    declared = (
        infer_applicability(rules_model, columns)
        if applicability is None
        else frozenset(applicability)
    )
    planner = Planner(rules_model, data, declared)
    plans = {rule_id: planner.plan(rule_id) for rule_id in rules_model.rules}
    rows, outcomes = _evaluate(data, plans)
    results = Resolver(rules_model, plans, outcomes).results()
    return ConformanceReport(
        source=source,
        focus_version=rules_model.focus_version,
        rows=rows,
        columns=tuple(name for name in table.columns if name in columns),
        applicability=declared,
        applicability_inferred=inferred,
        results=tuple(results),
        unprefixed_custom_columns=tuple(
            name for name in table.columns if name in columns and _is_unprefixed_custom(name)
        ),
    )


def _is_unprefixed_custom(name: str) -> bool:
    return name not in FOCUS_COLUMNS and not name.startswith("x_")


def _evaluate(data: Dataset, plans: dict[str, Plan]) -> tuple[int, dict[str, Outcome]]:
    """Run the row checks in one aggregate, group checks one query each; settle the rest."""
    row_checks = {rule_id: plan for rule_id, plan in plans.items() if isinstance(plan, RowCheck)}
    rows, counts, errors = _count_violations(data, row_checks)
    outcomes: dict[str, Outcome] = {}
    for rule_id, plan in plans.items():
        if isinstance(plan, Settled):
            outcomes[rule_id] = Outcome(
                plan.status, plan.failing_count, None, plan.reason, plan.skip_kind
            )
        elif isinstance(plan, RowCheck):
            if rule_id in errors:
                outcomes[rule_id] = Outcome(
                    "skipped", reason=errors[rule_id], skip_kind="engine_error"
                )
            elif counts[rule_id]:
                example = _row_example(data, plan)
                outcomes[rule_id] = Outcome("failed", counts[rule_id], example)
            else:
                outcomes[rule_id] = Outcome("passed", 0)
        elif isinstance(plan, GroupCheck):
            outcomes[rule_id] = _group_outcome(data, plan)
    return rows, outcomes


def _count_violations(
    data: Dataset, checks: dict[str, RowCheck]
) -> tuple[int, dict[str, int], dict[str, str]]:
    """Violation counts per rule from one aggregate; per-rule queries only if the engine fails."""
    table = data.table
    names = {rule_id: f"m{index}" for index, rule_id in enumerate(checks)}
    measures = {names[rule_id]: _violation_count(table, check) for rule_id, check in checks.items()}
    try:
        row = table.aggregate(rows=table.count(), **measures).to_pyarrow().to_pylist()[0]
    except duckdb.Error:
        return _count_one_by_one(data, checks)
    counts = {rule_id: int(row[names[rule_id]] or 0) for rule_id in checks}
    return int(row["rows"]), counts, {}


def _violation_count(table: ir.Table, check: RowCheck) -> ir.IntegerScalar:
    """Rows where the predicate holds; a constant predicate (a column of the right physical
    type cannot break a type rule) counts all rows or none."""
    predicate = check.predicate
    if isinstance(predicate, ir.Scalar):
        return ibis.ifelse(predicate, table.count(), 0)  # type: ignore[return-value]
    return predicate.cast("int64").sum()  # type: ignore[return-value]


def _count_one_by_one(
    data: Dataset, checks: dict[str, RowCheck]
) -> tuple[int, dict[str, int], dict[str, str]]:
    table = data.table
    rows = int(table.count().to_pyarrow().as_py())
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for rule_id, check in checks.items():
        try:
            value = table.aggregate(n=_violation_count(table, check)).to_pyarrow()
        except duckdb.Error as error:
            errors[rule_id] = f"the engine could not evaluate this rule: {error}"
            continue
        counts[rule_id] = int(value.column("n")[0].as_py() or 0)
    return rows, counts, errors


def _row_example(data: Dataset, check: RowCheck) -> FailureExample:
    table = data.table
    failing = table.filter(check.predicate)
    has_row = ROW_COLUMN in table.columns
    if has_row:
        failing = failing.order_by(ROW_COLUMN)
    selections: dict[str, ir.Value] = {
        name: failing[name].cast("string") for name in check.columns if name in data.columns
    }
    if has_row:
        selections[ROW_COLUMN] = failing[ROW_COLUMN]
    found = failing.select(**selections).limit(1).to_pyarrow().to_pylist()
    first = found[0] if found else {}
    row_number = first.pop(ROW_COLUMN, None)
    return FailureExample(
        row=int(row_number) if row_number is not None else None,
        values={name: value for name, value in first.items()},
    )


def _group_outcome(data: Dataset, check: GroupCheck) -> Outcome:
    table = data.table if check.scope is None else data.table.filter(check.scope)
    keyed = table.filter(table[check.key].notnull())
    groups = keyed.group_by(check.key).aggregate(distinct_count=keyed[check.counted].nunique())
    wrong = groups.filter(groups.distinct_count != check.expected)
    count = int(wrong.count().to_pyarrow().as_py())
    if count == 0:
        return Outcome("passed", 0)
    first = (
        wrong.order_by(check.key)
        .select(key=wrong[check.key].cast("string"), distinct_count=wrong.distinct_count)
        .limit(1)
        .to_pyarrow()
        .to_pylist()[0]
    )
    example = FailureExample(
        row=None,
        values={
            check.key: first["key"],
            f"distinct {check.counted} values": str(first["distinct_count"]),
        },
    )
    return Outcome("failed", count, example)
