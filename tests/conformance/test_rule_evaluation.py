"""How the checker reads the model: conditions, inherited scopes, applicability, honest skips."""

from __future__ import annotations

import json
from pathlib import Path

from costrail.conformance import check_file
from tests.conformance.focus_files import focus_rows, write_csv


def test_condition_limits_a_rule_to_the_rows_it_names(tmp_path: Path) -> None:
    """PricingQuantity MUST be null when ChargeCategory is "Tax": the Usage rows are not judged."""
    rows = focus_rows(PricingQuantity=["1", "1", "1"], PricingUnit=["Hours", "Hours", "Hours"])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    result = report.result("PricingQuantity-C-004-C")
    assert (result.status, result.failing_count) == ("failed", 1)
    assert result.example is not None and result.example.row == 3


def test_composite_condition_reaches_the_rules_under_it(tmp_path: Path) -> None:
    """ConsumedQuantity-C-006-C (not null) sits under "When ChargeCategory is Usage": the null
    on the Tax row is allowed, the null on a Usage row is not."""
    rows = focus_rows(ConsumedQuantity=["1", "", ""], ConsumedUnit=["Hours", "", ""])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    result = report.result("ConsumedQuantity-C-006-C")
    assert (result.status, result.failing_count) == ("failed", 1)
    assert result.example is not None and result.example.row == 2
    assert result.erratum is not None  # evaluated under the corrected condition


def test_corrected_allowed_values_accept_used_and_unused(tmp_path: Path) -> None:
    rows = focus_rows(
        CommitmentDiscountId=["cd-1", "cd-1", ""],
        CommitmentDiscountStatus=["Used", "Unused", ""],
    )

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    result = report.result("CommitmentDiscountStatus-C-005-M")
    assert result.status == "passed"
    assert "Used" in (result.erratum or "")


def test_applicability_is_inferred_from_the_columns_present(tmp_path: Path) -> None:
    rows = focus_rows(Tags=['{"team":"ml"}', "", '{"team":"ml"}'])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    assert report.applicability_inferred
    assert "TAGGING_SUPPORTED" in report.applicability
    assert "COMMITMENT_DISCOUNT_SUPPORTED" not in report.applicability
    assert report.result("Tags-C-001-M").status == "passed"


def test_rules_need_their_declared_applicability(tmp_path: Path) -> None:
    rows = focus_rows(Tags=['{"team":"ml"}', "", "not json"])

    report = check_file(write_csv(tmp_path / "focus.csv", rows), applicability=[])

    skipped = report.result("Tags-C-001-M")
    assert (skipped.status, skipped.skip_kind) == ("skipped", "not_applicable")
    assert "TAGGING_SUPPORTED" in (skipped.reason or "")
    declared = check_file(tmp_path / "focus.csv", applicability=["TAGGING_SUPPORTED"])
    assert declared.result("Tags-C-001-M").failing_count == 1


def test_key_value_rule_rejects_arrays_nested_objects_and_duplicate_keys(tmp_path: Path) -> None:
    rows = focus_rows(Tags=['["ml"]', '{"team":{"name":"ml"}}', '{"team":"a","team":"b"}'])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    assert report.result("Tags-C-001-M").failing_count == 3


def test_unsupported_check_function_is_skipped_never_passed(tmp_path: Path) -> None:
    report = check_file(write_csv(tmp_path / "focus.csv", focus_rows()))

    result = report.result("PricingUnit-C-003-O")
    assert (result.status, result.skip_kind, result.check) == (
        "skipped",
        "unsupported",
        "FormatUnit",
    )


def test_dynamic_and_permissive_rules_are_skipped_with_their_reason(tmp_path: Path) -> None:
    rows = focus_rows(Tags=['{"team":"ml"}', "", ""])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    assert report.result("BilledCost-C-006-M").skip_kind == "dynamic"  # "in the BillingCurrency"
    assert report.result("Tags-C-002-O").skip_kind == "permissive"  # "Tags MAY be null"
    assert all(result.reason for result in report.with_status("skipped"))


def test_report_converts_to_plain_data_for_json(tmp_path: Path) -> None:
    report = check_file(write_csv(tmp_path / "focus.csv", focus_rows()))

    document = json.loads(json.dumps(report.to_dict()))

    assert document["ok"] is True
    assert document["counts"] == report.counts()
    assert len(document["results"]) == 621


def test_composite_with_unevaluated_parts_is_not_reported_as_passed(tmp_path: Path) -> None:
    report = check_file(write_csv(tmp_path / "focus.csv", focus_rows()))

    whole = report.result("BilledCost-C-000-M")  # includes two dynamic rules
    assert (whole.status, whole.skip_kind) == ("skipped", "incomplete")
    assert "BilledCost-C-006-M" in (whole.reason or "")


def test_composite_fails_when_a_part_fails(tmp_path: Path) -> None:
    rows = focus_rows(ChargeCategory=["Usage", "Usages", "Tax"])

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    assert report.result("ChargeCategory-C-000-M").status == "failed"
    assert report.result("CostAndUsage-D-000-M").status == "failed"


def test_rule_the_engine_cannot_evaluate_is_skipped_and_the_rest_still_run(
    tmp_path: Path,
) -> None:
    """ListUnitPrice × PricingQuantity overflows DECIMAL(38) for absurd values."""
    rows = focus_rows(
        ListUnitPrice=["1e20", "4", ""],
        PricingQuantity=["100000", "1", ""],
        ChargeCategory=["Usage", "Usages", "Tax"],
    )

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    assert report.result("ListCost-C-009-C").skip_kind == "engine_error"
    assert report.result("ChargeCategory-C-003-M").failing_count == 1
    assert report.result("ListUnitPrice-C-002-M").status == "passed"  # E notation is numeric


def test_product_rule_compares_exactly(tmp_path: Path) -> None:
    rows = focus_rows(
        ListUnitPrice=["4", "3.999", ""],
        ListCost=["4.00", "4.00", "0.80"],
    )

    report = check_file(write_csv(tmp_path / "focus.csv", rows))

    result = report.result("ListCost-C-009-C")
    assert (result.status, result.failing_count) == ("failed", 1)
    assert result.example is not None and result.example.row == 2
