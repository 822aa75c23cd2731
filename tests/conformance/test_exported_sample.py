"""The real FOCUS 1.0 sample, ingested and exported as FOCUS 1.2, checked against the 1.2 model.

Every presence, type, nullability and allowed-value rule that applies passes, except the ones
listed below. Each exception is the *source's* doing, and the test proves it: either the column
does not exist in FOCUS 1.0 (the export writes every FOCUS 1.2 column, null where the source had
nothing), or the failing row count equals the count of source rows that break the rule, counted
independently from the source CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Callable

import pytest

from costrail.conformance import ConformanceReport, check_file, check_table
from costrail.export import export_focus
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.conformance.focus_files import MANDATORY_ROWS
from tests.conftest import FOCUS_SAMPLE

CORE_KINDS = ("presence", "type", "nullability", "allowed_values")

SourceRow = dict[str, str]


def _null(text: str) -> bool:
    """The sample writes missing values as empty or as the text NULL."""
    return text in ("", "NULL")


def _priced(row: SourceRow) -> bool:
    """Usage or Purchase, not a correction: the rows FOCUS requires prices and SKUs on."""
    return row["ChargeCategory"] in ("Usage", "Purchase") and row["ChargeClass"] != "Correction"


#: Rules on columns FOCUS 1.0 does not have. The export carries every FOCUS 1.2 column, so these
#: are present and null, and FOCUS 1.2 requires a value in them.
COLUMNS_NEW_IN_FOCUS_1_1_OR_1_2: dict[str, str] = {
    "BillingAccountType-C-005-C": "BillingAccountType",
    "SubAccountType-C-005-C": "SubAccountType",
    "PricingCurrency-C-004-M": "PricingCurrency",
    "PricingCurrencyEffectiveCost-C-003-M": "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice-C-005-C": "PricingCurrencyListUnitPrice",
    "CommitmentDiscountQuantity-C-005-C": "CommitmentDiscountQuantity",
    "ServiceSubcategory-C-002-M": "ServiceSubcategory",
    "SkuMeter-C-005-C": "SkuMeter",
}

#: Rules the sample's own rows break, with the source rows that break them.
SOURCE_ROWS_BREAKING: dict[str, Callable[[SourceRow], bool]] = {
    # ContractedCost is mandatory and never null; 7 Azure rows write NULL.
    "ContractedCost-C-003-M": lambda row: _null(row["ContractedCost"]),
    # Priced rows need a ContractedUnitPrice, PricingCategory and SkuPriceId.
    "ContractedUnitPrice-C-006-C": lambda row: _priced(row) and _null(row["ContractedUnitPrice"]),
    "PricingCategory-C-004-C": lambda row: _priced(row) and _null(row["PricingCategory"]),
    "SkuPriceId-C-005-C": lambda row: _priced(row) and _null(row["SkuPriceId"]),
    # ConsumedQuantity must be null on non-usage rows (credits, adjustments).
    "ConsumedQuantity-C-004-C": lambda row: (
        not _null(row["ConsumedQuantity"])
        and (
            row["ChargeCategory"] != "Usage"
            or (row["ChargeCategory"] == "Usage" and row["CommitmentDiscountStatus"] == "Unused")
        )
    ),
    # ResourceType goes with ResourceId, RegionName with RegionId: both null or both set.
    "ResourceType-C-004-C": lambda row: _null(row["ResourceId"]) and not _null(row["ResourceType"]),
    "ResourceType-C-005-C": lambda row: not _null(row["ResourceId"]) and _null(row["ResourceType"]),
    "RegionName-C-004-C": lambda row: _null(row["RegionId"]) and not _null(row["RegionName"]),
    "RegionName-C-005-C": lambda row: not _null(row["RegionId"]) and _null(row["RegionName"]),
}


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = connect(str(tmp_path_factory.mktemp("sample") / "w.duckdb"))
    ingest(warehouse, [FOCUS_SAMPLE])
    return warehouse


@pytest.fixture(scope="module", params=[".parquet", ".csv"])
def exported_report(
    request: pytest.FixtureRequest,
    sample_warehouse: Warehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> ConformanceReport:
    out = tmp_path_factory.mktemp("export") / f"focus{request.param}"
    export_focus(sample_warehouse, out)
    return check_file(out)


@pytest.fixture(scope="module")
def source_rows() -> list[SourceRow]:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_every_applicable_core_rule_passes_except_the_sources_own_gaps(
    exported_report: ConformanceReport,
) -> None:
    failed_core = {
        result.rule_id
        for result in exported_report.with_status("failed")
        if result.kind in CORE_KINDS
    }
    passed_core = [r for r in exported_report.with_status("passed") if r.kind in CORE_KINDS]

    assert failed_core == set(COLUMNS_NEW_IN_FOCUS_1_1_OR_1_2) | set(SOURCE_ROWS_BREAKING)
    assert len(passed_core) >= 150
    for rule_id in ("CostAndUsage-D-008-M", "ChargeCategory-C-003-M", "BilledCost-C-001-M"):
        assert exported_report.result(rule_id).status == "passed"


def test_exceptions_for_new_columns_are_columns_the_source_lacks(
    exported_report: ConformanceReport, source_rows: list[SourceRow]
) -> None:
    for rule_id, column in COLUMNS_NEW_IN_FOCUS_1_1_OR_1_2.items():
        result = exported_report.result(rule_id)
        assert column not in source_rows[0], rule_id
        assert result.example is not None and result.example.values[column] is None, rule_id


def test_exceptions_for_source_rows_count_exactly_the_rows_that_break_the_rule(
    exported_report: ConformanceReport, source_rows: list[SourceRow]
) -> None:
    for rule_id, breaks in SOURCE_ROWS_BREAKING.items():
        expected = sum(1 for row in source_rows if breaks(row))
        assert exported_report.result(rule_id).failing_count == expected > 0, rule_id


def test_failing_rule_names_the_first_failing_row(exported_report: ConformanceReport) -> None:
    result = exported_report.result("ContractedCost-C-003-M")

    assert result.example is not None
    assert result.example.row == 926
    assert result.example.values == {"ContractedCost": None}


def test_exported_files_carry_only_focus_and_x_prefixed_columns(
    exported_report: ConformanceReport,
) -> None:
    assert exported_report.rows == 1000
    assert exported_report.unprefixed_custom_columns == ()


def test_source_sample_is_told_apart_from_its_export_by_date_time_format() -> None:
    """The 1.0 sample writes `2024-09-01 00:00:00`: a date-time, but not FOCUS's format."""
    report = check_file(FOCUS_SAMPLE)

    assert report.result("ChargePeriodStart-C-001-M").status == "passed"
    assert report.result("ChargePeriodStart-C-002-M").failing_count == 1000
    assert report.unprefixed_custom_columns == ("Id",)


def test_warehouse_table_can_be_checked_directly(sample_warehouse: Warehouse) -> None:
    report = check_table(sample_warehouse.costs(), source="costs")

    assert report.rows == 1000
    assert report.result("Tags-C-001-M").status == "passed"
    assert report.result("ChargeCategory-C-003-M").status == "passed"


def test_mandatory_fixture_columns_match_the_models_mandatory_presence_rules() -> None:
    """Guards the small fixtures of the other tests: they hold every unconditional column."""
    report = check_file(FOCUS_SAMPLE, applicability=())
    mandatory = {
        result.column
        for result in report.results
        if result.kind == "presence" and result.keyword == "MUST" and result.skip_kind is None
    }

    assert mandatory == set(MANDATORY_ROWS) - {"PricingCategory"}
