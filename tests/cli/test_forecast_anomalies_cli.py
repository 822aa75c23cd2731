"""`costrail forecast` and `costrail anomalies`: JSON contracts, the `--series` evaluation
entry on timestamp,value CSV files, and exit codes."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from costrail.cli.anomalies import ANOMALY_EXIT_CODE
from costrail.cli.main import app
from tests.timeseries.focus_bill import GPU_DAYS, write_bill

runner = CliRunner()


def write_series(path: Path, stamps: pd.DatetimeIndex, values: np.ndarray) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        for stamp, value in zip(stamps, values, strict=True):
            writer.writerow([stamp.strftime("%Y-%m-%d %H:%M:%S"), f"{value:.3f}"])
    return path


@pytest.fixture(scope="module")
def bill_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("bill")
    url = str(directory / "w.duckdb")
    loaded = runner.invoke(app, ["ingest", "-w", url, str(write_bill(directory / "f.csv", True))])
    assert loaded.exit_code == 0, loaded.output
    return url


def test_series_json_gives_every_timestamp_with_score_and_flag(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    daily_stamps = pd.date_range("2026-01-01", periods=60, freq="D")
    daily_values = 100 + rng.normal(0, 2, 60)
    daily_values[45] = 300
    hourly_stamps = pd.date_range("2026-01-01", periods=24 * 20, freq="h")
    hourly_values = 10 + rng.normal(0, 0.2, len(hourly_stamps))
    hourly_values[400] = 30
    daily = write_series(tmp_path / "daily.csv", daily_stamps, daily_values)
    hourly = write_series(tmp_path / "hourly.csv", hourly_stamps, hourly_values)

    result = runner.invoke(app, ["anomalies", "--series", str(daily), str(hourly), "--json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["settings"]["min_impact"] is None  # no dollar threshold on plain series
    first, second = payload["series"]
    assert first["file"] == str(daily) and len(first["timestamps"]) == 60
    assert second["file"] == str(hourly) and len(second["timestamps"]) == 24 * 20
    assert {"timestamp", "value", "expected", "score", "flagged"} <= set(first["timestamps"][0])
    assert [p["timestamp"] for p in first["timestamps"] if p["flagged"]] == ["2026-02-15T00:00:00"]
    assert [p["timestamp"] for p in second["timestamps"] if p["flagged"]] == ["2026-01-17T16:00:00"]
    assert first["timestamps"][0]["score"] is None  # not enough history yet


def test_series_drops_are_flagged_too(tmp_path: Path) -> None:
    stamps = pd.date_range("2026-01-01", periods=40, freq="D")
    values = 100 + np.random.default_rng(1).normal(0, 1, 40)
    values[30] = 20
    path = write_series(tmp_path / "drop.csv", stamps, values)

    result = runner.invoke(app, ["anomalies", "--series", str(path), "--json"])

    flagged = [p for p in json.loads(result.stdout)["series"][0]["timestamps"] if p["flagged"]]
    assert [p["timestamp"][:10] for p in flagged] == ["2026-01-31"]
    assert flagged[0]["score"] < 0


def test_a_bad_series_row_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2026-01-01,1\n2026-01-02,lots\n", encoding="utf-8")

    result = runner.invoke(app, ["anomalies", "--series", str(path), "--json"])

    assert result.exit_code == 3
    assert "row 2" in result.output and "'value'" in result.output


def test_anomalies_json_on_the_warehouse_lists_the_burst_with_root_causes(bill_url: str) -> None:
    result = runner.invoke(app, ["anomalies", "-w", bill_url, "--by", "SubAccountId", "--json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (anomaly,) = payload["anomalies"]
    assert (anomaly["first_seen"], anomaly["ds"]) == tuple(day.isoformat() for day in GPU_DAYS)
    assert Decimal(anomaly["impact_usd"]) == Decimal(1200)
    assert anomaly["root_causes"][0] == {
        "dimension": "tag:team",
        "value": "research",
        "impact_usd": "1200.00",
        "share": 1.0,
    }


def test_fail_on_anomaly_exits_non_zero_only_when_something_is_flagged(bill_url: str) -> None:
    found = runner.invoke(app, ["anomalies", "-w", bill_url, "--fail-on-anomaly"])
    quiet = runner.invoke(
        app, ["anomalies", "-w", bill_url, "--min-impact", "5000", "--fail-on-anomaly"]
    )

    assert found.exit_code == ANOMALY_EXIT_CODE
    assert quiet.exit_code == 0, quiet.output


def test_forecast_json_projects_month_end_per_scope(bill_url: str) -> None:
    result = runner.invoke(app, ["forecast", "-w", bill_url, "--by", "tag:team", "--json"])

    assert result.exit_code == 0, result.output
    projections = {p["scope"]: p for p in json.loads(result.stdout)}
    web = projections["tag:team=web"]
    assert (web["period_start"], web["period_end"], web["as_of"]) == (
        "2026-10-01",
        "2026-11-01",
        "2026-10-26",
    )
    # 26 actual days + Tue–Sat: 4 weekdays × $150 + 1 weekend day × $90 = $690 to come
    actual = Decimal(web["actual_to_date_usd"])
    assert abs(Decimal(web["expected_total_usd"]) - actual - 690) < 20
    assert (
        Decimal(web["lo95_usd"]) <= Decimal(web["expected_total_usd"]) <= Decimal(web["hi95_usd"])
    )


def test_forecast_backtest_reports_errors_and_coverage_per_model(bill_url: str) -> None:
    result = runner.invoke(app, ["forecast", "-w", bill_url, "--backtest", "--json"])

    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert {s["model"] for s in scores} == {"seasonal_naive", "trend_seasonal"}
    assert all({"mape_pct", "smape_pct", "mase", "coverage80_pct"} <= set(s) for s in scores)


def test_unknown_period_is_a_config_error(bill_url: str) -> None:
    result = runner.invoke(app, ["forecast", "-w", bill_url, "--period", "fortnight"])

    assert result.exit_code == 2
    assert "fortnight" in result.output
