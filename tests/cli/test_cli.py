"""The command line: JSON output that machines can read, exit codes CI can gate on."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from costrail.cli.main import app
from tests.conftest import FOCUS_SAMPLE

runner = CliRunner()


def test_ingest_json_reports_reconciled_periods(tmp_path: Path) -> None:
    url = str(tmp_path / "w.duckdb")

    result = runner.invoke(app, ["ingest", "--warehouse", url, "--json", str(FOCUS_SAMPLE)])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert all(partition["reconciled"] for partition in report["partitions"])
    total = sum(Decimal(partition["loaded_total"]) for partition in report["partitions"])
    assert total == Decimal("20.52022672899")


def test_explore_json_is_a_list_with_money_as_exact_strings(tmp_path: Path) -> None:
    url = str(tmp_path / "w.duckdb")
    runner.invoke(app, ["ingest", "-w", url, str(FOCUS_SAMPLE)])

    result = runner.invoke(app, ["explore", "-w", url, "--by", "x_Provider", "--json"])

    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)
    assert {group["x_Provider"] for group in groups} == {"aws", "azure", "oci"}
    assert all(isinstance(group["BilledCost"], str) for group in groups)
    assert sum(Decimal(group["BilledCost"]) for group in groups) == Decimal("20.52022672899")


def test_ingest_of_a_bad_file_exits_non_zero_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("what,is,this\n1,2,3\n")

    result = runner.invoke(app, ["ingest", "-w", str(tmp_path / "w.duckdb"), str(bad)])

    assert result.exit_code == 3
    assert str(bad) in result.output


def test_explore_with_an_unknown_column_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["explore", "-w", str(tmp_path / "w.duckdb"), "--by", "Nope"])

    assert result.exit_code == 2
    assert "unknown column" in result.output


def test_default_warehouse_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COSTRAIL_WAREHOUSE", str(tmp_path / "env.duckdb"))

    runner.invoke(app, ["ingest", str(FOCUS_SAMPLE)])

    assert (tmp_path / "env.duckdb").exists()
