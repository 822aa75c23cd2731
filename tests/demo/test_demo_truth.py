"""The ground truth matches the files: billed totals re-read from each export, to the cent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from costrail.demo import Truth, generate, generate_cur2_parquet
from tests.demo import demo_readback as readback

CENT = Decimal("0.01")


def test_aws_totals_reread_from_parquet_equal_truth(demo: tuple[Path, Truth]) -> None:
    root, truth = demo
    reread = readback.aws_billed_by_period(root)
    expected = truth.billed_by_provider_period["aws"]
    assert set(reread) == set(truth.periods)
    for period, total in reread.items():
        assert abs(total - expected[period]) < CENT, period


def test_gcp_invoice_totals_reread_from_json_lines_equal_truth(demo: tuple[Path, Truth]) -> None:
    root, truth = demo
    reread = readback.gcp_billed_by_month(root)
    assert reread == truth.billed_by_provider_period["gcp"]


def test_azure_totals_reread_from_csv_equal_truth(demo: tuple[Path, Truth]) -> None:
    root, truth = demo
    reread = readback.azure_billed_by_period(root)
    assert reread == truth.billed_by_provider_period["azure"]


def test_row_counts_in_truth_are_the_rows_written(demo: tuple[Path, Truth]) -> None:
    root, truth = demo
    aws_rows = sum(pq.read_metadata(p).num_rows for p in readback.cur2_files(root))
    assert truth.row_counts == {
        "aws": aws_rows,
        "gcp": len(readback.gcp_rows(root)),
        "azure": len(readback.azure_rows(root)),
    }


def test_truth_json_holds_exact_decimal_strings_of_the_returned_truth(
    demo: tuple[Path, Truth],
) -> None:
    root, truth = demo
    written = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    billed = written["totals"]["billed_cost"]
    assert written["company"] == "Acme AI"
    assert written["periods"] == ["2026-09", "2026-10", "2026-11"]
    assert Decimal(billed["total"]) == truth.total_billed
    assert sum(Decimal(v) for v in billed["by_provider"].values()) == truth.total_billed
    assert sum(Decimal(v) for v in billed["by_month"].values()) == truth.total_billed
    assert (
        Decimal(billed["by_provider_month"]["aws"]["2026-10"])
        == (truth.billed_by_provider_period["aws"]["2026-10"])
    )


def test_every_planted_item_has_kind_resources_cost_and_description(
    demo: tuple[Path, Truth],
) -> None:
    root, _ = demo
    planted = json.loads((root / "truth.json").read_text(encoding="utf-8"))["planted"]
    kinds = {item["kind"] for item in planted}
    assert {
        "idle_gpu_instance",
        "ondemand_should_be_spot",
        "unused_endpoint",
        "s3_cold_data_in_standard",
        "log_retention_never_expires",
        "cross_region_transfer",
        "unused_savings_plan_commitment",
        "spend_spike",
    } <= kinds
    for item in planted:
        assert item["resources"] and item["description"]
        assert Decimal(item["monthly_cost_usd"]) > 0
        assert Decimal(item["cost_by_month"][item["period"]]) == Decimal(item["monthly_cost_usd"])


def test_clean_company_has_nothing_planted_and_costs_less_at_every_provider(
    demo: tuple[Path, Truth], clean_demo: tuple[Path, Truth]
) -> None:
    _, truth = demo
    _, clean = clean_demo
    assert clean.planted == ()
    assert json.loads((clean_demo[0] / "truth.json").read_text())["planted"] == []
    for provider, total in clean.billed_by_provider().items():
        assert total < truth.billed_by_provider()[provider], provider


def test_rows_scales_the_aws_cur_to_about_that_many_rows(tmp_path: Path) -> None:
    truth = generate(tmp_path, rows=120_000, seed=3)
    assert abs(truth.row_counts["aws"] - 120_000) < 1_000
    reread = readback.aws_billed_by_period(tmp_path)
    for period, total in reread.items():
        assert abs(total - truth.billed_by_provider_period["aws"][period]) < CENT


def test_generate_cur2_parquet_writes_exactly_the_rows_asked_and_returns_their_total(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bench.snappy.parquet"
    total = generate_cur2_parquet(path, rows=25_001, seed=11)
    values = pq.read_table(path, columns=["line_item_net_unblended_cost"]).column(0).to_pylist()
    assert len(values) == 25_001
    assert sum(Decimal(repr(v)) for v in values) == total
