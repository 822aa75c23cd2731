"""End to end: the demo company's native exports load, and every total equals truth.json.

The same check runs on DuckDB and on Spark (local mode): both engines run the same readers'
Ibis expressions and must agree with the generator's exact totals to the cent.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.explore import ExploreQuery, explore
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.demo_cache import demo_folder

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_folder(False)


def _truth(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / "truth.json").read_text(encoding="utf-8")))


def _provider_paths(directory: Path) -> list[Path]:
    return [directory / name for name in ("aws", "gcp", "azure")]


def _assert_matches_truth(warehouse: Warehouse, truth: dict[str, Any]) -> None:
    billed = truth["totals"]["billed_cost"]
    by_provider_month = explore(warehouse.costs(), ExploreQuery(by=("x_Provider", "month")))
    loaded = {(g["x_Provider"], g["month"]): g["BilledCost"] for g in by_provider_month}
    expected = {
        (provider, month): Decimal(amount)
        for provider, months in billed["by_provider_month"].items()
        for month, amount in months.items()
    }
    assert loaded.keys() == expected.keys()
    for key, amount in expected.items():
        assert abs(loaded[key] - amount) < CENT, key  # type: ignore[operator]
    (total,) = explore(warehouse.costs(), ExploreQuery())
    assert abs(total["BilledCost"] - Decimal(billed["total"])) < CENT  # type: ignore[operator]


def test_demo_totals_equal_truth_on_duckdb(demo_dir: Path, tmp_path: Path) -> None:
    warehouse = connect(str(tmp_path / "w.duckdb"))

    report = ingest(warehouse, _provider_paths(demo_dir))

    assert all(partition.reconciled for partition in report.partitions)
    _assert_matches_truth(warehouse, _truth(demo_dir))


def test_every_planted_resource_appears_in_the_loaded_costs(demo_dir: Path, tmp_path: Path) -> None:
    warehouse = connect(str(tmp_path / "w.duckdb"))
    ingest(warehouse, _provider_paths(demo_dir))
    # LLM items name request traffic (`llm:…`), not billed resources
    planted = {
        rid
        for item in _truth(demo_dir)["planted"]
        for rid in item["resources"]
        if not item["signal"].startswith("llm")
    }

    costs = warehouse.costs()
    found = set(costs.filter(costs.ResourceId.isin(list(planted))).ResourceId.execute().unique())

    assert planted and found == planted


@pytest.mark.spark
@pytest.mark.slow  # the whole demo on Spark (~50 s): CI runs it in `make test-slow`
def test_demo_totals_equal_truth_on_spark(
    demo_dir: Path, tmp_path: Path, spark_session: Any
) -> None:
    warehouse = connect(f"spark://{tmp_path / 'spark'}", spark=spark_session)

    report = ingest(warehouse, _provider_paths(demo_dir))

    assert all(partition.reconciled for partition in report.partitions)
    _assert_matches_truth(warehouse, _truth(demo_dir))


def test_demo_command_prints_the_summary_and_matches_truth(tmp_path: Path) -> None:
    out = tmp_path / "demo"

    result = CliRunner().invoke(app, ["demo", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "Spend by provider" in result.output
    assert "equal truth.json to the cent" in result.output
    assert (out / "warehouse.duckdb").exists()


def test_clean_demo_has_nothing_planted_and_costs_less(demo_dir: Path, tmp_path: Path) -> None:
    clean_dir = demo_folder(True)
    clean, wasteful = _truth(clean_dir), _truth(demo_dir)

    assert clean["planted"] == []
    assert Decimal(clean["totals"]["billed_cost"]["total"]) < Decimal(
        wasteful["totals"]["billed_cost"]["total"]
    )
