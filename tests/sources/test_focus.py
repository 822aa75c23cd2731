"""The FOCUS reader on real public files: totals, quirks as counted warnings, spec examples."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from costrail.errors import InputError
from costrail.warehouse import Warehouse
from costrail.warehouse.load import ingest
from tests.conftest import FOCUS_SAMPLE, SPEC_EXAMPLES


def _column_total(path: Path, column: str) -> Decimal:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(
            (Decimal(row[column]) for row in csv.DictReader(handle) if row.get(column)),
            Decimal(0),
        )


def test_focus_sample_loads_all_rows_and_reconciles_to_its_billed_cost(
    warehouse: Warehouse,
) -> None:
    report = ingest(warehouse, [FOCUS_SAMPLE])

    costs = warehouse.costs()
    assert costs.count().execute() == 1000
    assert costs.BilledCost.sum().execute() == Decimal("20.52022672899")
    assert all(partition.reconciled for partition in report.partitions)
    assert sum(p.source_total for p in report.partitions) == Decimal("20.52022672899")


def test_focus_sample_quirks_are_reported_as_counted_warnings(warehouse: Warehouse) -> None:
    report = ingest(warehouse, [FOCUS_SAMPLE])

    counts = report.warnings.counts
    assert counts["the text 'NULL' read as a missing value in ChargeClass"] == 1000
    assert counts["ChargePeriodStart without 'T' or time zone read as UTC"] == 1000
    assert (
        counts["ChargeFrequency values in non-standard casing normalised to the FOCUS spelling"] > 0
    )


def test_null_text_and_casing_are_normalised_in_the_loaded_rows(warehouse: Warehouse) -> None:
    ingest(warehouse, [FOCUS_SAMPLE])

    costs = warehouse.costs()
    assert costs.filter(costs.ChargeClass == "NULL").count().execute() == 0
    frequencies = set(costs.ChargeFrequency.execute().dropna().unique())
    assert frequencies <= {"One-Time", "Recurring", "Usage-Based"}


def test_tags_json_becomes_a_string_map(warehouse: Warehouse) -> None:
    ingest(warehouse, [FOCUS_SAMPLE])

    costs = warehouse.costs()
    tagged = costs.filter(costs.Tags.get("env") == "prod")
    assert tagged.count().execute() > 0


#: Two spec tables write an impossible hour (`2023-02-01T30:00:00Z`) in ChargePeriodEnd.
IMPOSSIBLE_HOUR = "2023-02-01T30:00:00Z"
SPEC_TABLES = sorted((SPEC_EXAMPLES / "commitment_discount_scenarios").glob("*.csv")) + sorted(
    (SPEC_EXAMPLES / "commitment_discount_flexibility").glob("*.csv")
)


def _with_valid_hours(example: Path, tmp_path: Path) -> Path:
    """The spec table, with its one impossible hour replaced by the next billing-period end."""
    text = example.read_text(encoding="utf-8")
    if IMPOSSIBLE_HOUR not in text:
        return example
    fixed = tmp_path / example.name
    fixed.write_text(text.replace(IMPOSSIBLE_HOUR, "2023-02-02T06:00:00Z"), encoding="utf-8")
    return fixed


@pytest.mark.parametrize("example", SPEC_TABLES, ids=lambda path: path.stem)
def test_spec_commitment_example_gives_the_effective_cost_it_documents(
    warehouse: Warehouse, example: Path, tmp_path: Path
) -> None:
    ingest(warehouse, [_with_valid_hours(example, tmp_path)])

    costs = warehouse.costs()
    assert costs.EffectiveCost.sum().execute() == _column_total(example, "EffectiveCost")
    assert costs.BilledCost.sum().execute() == _column_total(example, "BilledCost")


def test_spec_table_with_an_impossible_hour_is_rejected_naming_file_row_and_column(
    warehouse: Warehouse,
) -> None:
    example = (
        SPEC_EXAMPLES
        / "commitment_discount_scenarios"
        / "commitment_discount_purchase_scenario_2.csv"
    )

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [example])

    assert (raised.value.file, raised.value.row, raised.value.column) == (
        str(example),
        3,
        "ChargePeriodEnd",
    )
    assert warehouse.costs().count().execute() == 0


def test_missing_mandatory_column_is_named_and_nothing_loads(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    broken = tmp_path / "focus.csv"
    broken.write_text(
        "BilledCost,ChargePeriodStart,ChargeCategory\n1.00,2024-01-01T00:00:00Z,Usage\n"
    )

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [broken], format_name="focus")

    assert raised.value.column == "BillingPeriodStart"
    assert warehouse.costs().count().execute() == 0
