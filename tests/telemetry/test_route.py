"""`costrail ingest DIR`: the telemetry route claims telemetry next to a billing export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.sources.routes import split_paths
from costrail.telemetry.route import ROUTE_NAME
from costrail.warehouse import connect
from tests.telemetry.helpers import FIXTURES

runner = CliRunner()
BILL = Path(__file__).resolve().parents[1] / "fixtures" / "gcp" / "billing_export.csv"


def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(BILL, folder / "billing_export.csv")
    for name in ("dcgm-a100-node.prom", "a10g-box.csv", "query_range-gpu-util.json"):
        shutil.copy(FIXTURES / name, folder / name)
    return folder


def test_route_claims_telemetry_files_and_leaves_the_bill(tmp_path: Path) -> None:
    folder = mixed_folder(tmp_path)
    split = split_paths([folder])
    assert sorted(path.name for path in split.routed[ROUTE_NAME]) == [
        "a10g-box.csv",
        "dcgm-a100-node.prom",
        "query_range-gpu-util.json",
    ]
    assert split.billing == [folder]


def test_ingest_of_a_mixed_folder_loads_bill_and_telemetry(tmp_path: Path) -> None:
    folder = mixed_folder(tmp_path)
    url = str(tmp_path / "w.duckdb")
    result = runner.invoke(app, ["ingest", "-w", url, "--json", str(folder)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    telemetry = payload["routes"][ROUTE_NAME]
    assert {name: source["rows"] for name, source in telemetry["sources"].items()} == {
        "dcgm-exposition": 4,
        "nvidia-smi": 4,
        "prometheus": 4,
    }
    assert payload["partitions"], "the billing export was loaded too"
    store = connect(url)
    assert int(store.costs().count().execute()) > 0
    store.close()


def test_telemetry_report_lines_are_printed(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", "-w", str(tmp_path / "w.duckdb"), str(FIXTURES / "dcgm-a100-node.prom")]
    )
    assert result.exit_code == 0, result.output
    assert "loaded 4 GPU samples from dcgm-exposition" in result.output
    assert "blank DCGM value" in result.output


def test_prometheus_options_without_the_prometheus_argument_are_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", "-w", str(tmp_path / "w.duckdb"), "--since", "7d", str(BILL)]
    )
    assert result.exit_code == 2
    assert "--since" in result.output


def test_ingest_prometheus_without_url_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "-w", str(tmp_path / "w.duckdb"), "prometheus"])
    assert result.exit_code == 2
    assert "--url" in result.output


def test_a_plain_csv_with_a_timestamp_column_is_not_taken_for_nvidia_smi(
    tmp_path: Path,
) -> None:
    from costrail.telemetry.detect import detect

    path = tmp_path / "requests.csv"
    path.write_text("timestamp,model,input_tokens\n2026-11-02T10:00:00Z,gpt-4o,12\n")
    assert detect(path) is None
    assert detect(FIXTURES / "a10g-box.csv") == "nvidia-smi"
    assert detect(FIXTURES / "a10g-noheader.csv") == "nvidia-smi"
