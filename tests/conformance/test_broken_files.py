"""Deliberately broken FOCUS files fail the rules they break, with rule ids, counts and rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from costrail.conformance import check_file
from tests.conformance.focus_files import MANDATORY_ROWS, focus_rows, write_csv, write_parquet


def test_well_formed_minimal_file_has_no_errors(tmp_path: Path) -> None:
    report = check_file(write_csv(tmp_path / "focus.csv", focus_rows()))

    assert report.errors == []
    assert report.ok
    assert {result.rule_id for result in report.warnings} == {
        "CostAndUsage-D-027-O",  # ChargeFrequency is RECOMMENDED
        "CostAndUsage-D-033-O",  # InvoiceId is RECOMMENDED
        "CostAndUsage-D-042-O",  # ServiceSubcategory is RECOMMENDED
    }


def test_missing_mandatory_column_fails_its_presence_rule(tmp_path: Path) -> None:
    report = check_file(write_csv(tmp_path / "focus.csv", focus_rows(BillingCurrency=None)))

    presence = report.result("CostAndUsage-D-035-M")
    assert (presence.status, presence.kind, presence.failing_count) == ("failed", "presence", 1)
    assert "BillingCurrency" in (presence.reason or "")
    assert report.result("BillingCurrency-C-004-M").skip_kind == "column_absent"
    assert not report.ok


def test_unknown_charge_category_fails_the_allowed_values_rule_at_its_row(
    tmp_path: Path,
) -> None:
    rows = focus_rows(ChargeCategory=["Usage", "Usages", "Tax"])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    allowed = report.result("ChargeCategory-C-003-M")
    assert (allowed.status, allowed.kind, allowed.failing_count) == ("failed", "allowed_values", 1)
    assert allowed.example is not None
    assert (allowed.example.row, allowed.example.values) == (2, {"ChargeCategory": "Usages"})
    assert report.result("ChargeCategory-C-002-M").status == "passed"


def test_text_in_a_decimal_column_fails_type_format_and_value_rules(tmp_path: Path) -> None:
    rows = focus_rows(BilledCost=["4.00", "4.00", "0,80 USD"])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    for rule_id in ("BilledCost-C-001-M", "BilledCost-C-002-M", "BilledCost-C-004-M"):
        result = report.result(rule_id)
        assert (result.status, result.failing_count) == ("failed", 1), rule_id
        assert result.example is not None and result.example.row == 3, rule_id
    assert report.result("BilledCost-C-001-M").kind == "type"


def test_null_in_a_mandatory_column_fails_its_nullability_rule(tmp_path: Path) -> None:
    rows = focus_rows(ServiceName=["GPU Instances", "", "Tax"])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    result = report.result("ServiceName-C-003-M")
    assert (result.status, result.kind, result.failing_count) == ("failed", "nullability", 1)


def test_parquet_decimal_column_typed_as_string_fails_the_type_rule(tmp_path: Path) -> None:
    arrays = {
        name: pa.array([value or None for value in values])
        for name, values in MANDATORY_ROWS.items()
    }
    path = write_parquet(tmp_path / "focus.parquet", arrays)

    report = check_file(path)

    result = report.result("BilledCost-C-001-M")
    assert (result.status, result.failing_count) == ("failed", 3)
    assert report.result("BillingAccountId-C-002-M").status == "passed"  # strings are strings


def test_parquet_with_focus_types_passes_the_type_rules(tmp_path: Path) -> None:
    arrays = {
        name: pa.array([value or None for value in values])
        for name, values in MANDATORY_ROWS.items()
    }
    for name in ("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity"):
        arrays[name] = arrays[name].cast(pa.decimal128(38, 12))
    for name in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        arrays[name] = pa.array(
            [value.replace("Z", "+00:00") for value in MANDATORY_ROWS[name]]
        ).cast(pa.timestamp("us", tz="UTC"))
    path = write_parquet(tmp_path / "focus.parquet", arrays)

    report = check_file(path)

    failed_types = [r.rule_id for r in report.with_status("failed") if r.kind in ("type", "format")]
    assert failed_types == []
    assert report.result("ChargePeriodStart-C-002-M").status == "passed"


def test_date_time_without_t_and_z_fails_the_format_rule_only(tmp_path: Path) -> None:
    rows = focus_rows(
        ChargePeriodStart=["2024-09-01 00:00:00", "2024-09-01T01:00:00Z", "2024-09-01T00:00:00Z"]
    )

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    assert report.result("ChargePeriodStart-C-001-M").status == "passed"
    assert report.result("ChargePeriodStart-C-002-M").failing_count == 1


def test_header_only_file_is_checked_with_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(",".join(MANDATORY_ROWS) + "\n", encoding="utf-8")

    report = check_file(path)

    assert report.rows == 0
    assert report.errors == []
