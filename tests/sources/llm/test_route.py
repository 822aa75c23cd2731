"""The `llm` ingest route: content claims in a mixed folder, idempotent re-ingest, reconciling."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.errors import InputError
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.sources.llm.costs import reconcile
from costrail.sources.llm.route import classify, load
from costrail.sources.routes import split_paths
from costrail.warehouse import Warehouse, connect
from tests.conftest import FOCUS_SAMPLE

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "llm"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No costrail.yaml or installed price map from the developer's machine."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COSTRAIL_CONFIG", raising=False)
    monkeypatch.setenv("COSTRAIL_DATA_DIR", str(tmp_path / "data"))


def _llm_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    shutil.copytree(FIXTURES, folder)
    return folder


def _totals(warehouse: Warehouse) -> dict[str, Any]:
    table = warehouse.read("llm_requests", LLM_REQUESTS_SCHEMA)
    row = table.aggregate(rows=table.count(), cost=table.cost_usd.sum()).to_pyarrow()
    return row.to_pylist()[0]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("otel_genai_spans.json", "otel"),
        ("openai_usage_completions.json", "openai-usage"),
        ("openai_costs.json", "openai-costs"),
        ("anthropic_usage_report.json", "anthropic-usage"),
        ("anthropic_cost_report.json", "anthropic-costs"),
        ("litellm_spend_logs.csv", "litellm"),
        ("requests.jsonl", "jsonl"),
    ],
)
def test_each_fixture_is_claimed_as_its_format(name: str, kind: str) -> None:
    assert classify(FIXTURES / name) == kind


def test_mixed_folder_routes_llm_files_and_leaves_billing_to_the_pipeline(
    tmp_path: Path,
) -> None:
    folder = _llm_folder(tmp_path)
    shutil.copy(FOCUS_SAMPLE, folder / "focus_sample.csv")
    split = split_paths([folder])
    assert sorted(path.name for path in split.routed["llm"]) == sorted(
        path.name for path in FIXTURES.iterdir()
    )
    assert split.billing == [folder]
    assert classify(folder / "focus_sample.csv") is None


def test_ingest_command_loads_every_llm_file_in_a_folder(tmp_path: Path) -> None:
    folder = _llm_folder(tmp_path)
    url = str(tmp_path / "wh.duckdb")
    result = CliRunner().invoke(app, ["ingest", str(folder), "-w", url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["routes"]["llm"]
    assert report["requests_written"] == 16
    assert report["warnings"]["unpriced model 'gpt-9-experimental' (openai): cost left null"] == 1


def test_reingest_replaces_rows_and_never_double_counts(tmp_path: Path) -> None:
    folder = _llm_folder(tmp_path)
    warehouse = connect(str(tmp_path / "wh.duckdb"))
    files = sorted(folder.iterdir())
    load(warehouse, files)
    first = _totals(warehouse)
    load(warehouse, files)
    assert _totals(warehouse) == first
    assert first["rows"] == 16


def test_reconciliation_reports_computed_minus_reported_per_day_and_model(
    tmp_path: Path,
) -> None:
    folder = _llm_folder(tmp_path)
    warehouse = connect(str(tmp_path / "wh.duckdb"))
    report = load(warehouse, sorted(folder.iterdir()))
    lines = {(line.provider, str(line.day), line.model): line for line in reconcile(warehouse)}
    mini = lines[("openai", "2026-11-01", "gpt-4o-mini-2024-07-18")]
    assert (mini.computed_usd, mini.reported_usd) == (Decimal("0.30"), Decimal("0.25"))
    assert mini.difference_usd == Decimal("0.05") and not mini.matches
    assert lines[("openai", "2026-11-01", "gpt-4o-2024-08-06")].matches
    web_search = lines[("anthropic", "2026-11-01", None)]  # non-token cost: nothing computed
    assert web_search.difference_usd == -1
    assert any("gpt-4o-mini-2024-07-18" in line for line in report.lines())


def test_bad_file_fails_the_whole_load_naming_file_row_and_field(tmp_path: Path) -> None:
    folder = _llm_folder(tmp_path)
    bad = folder / "zz_broken_usage.json"
    page = json.loads((FIXTURES / "openai_usage_completions.json").read_text())
    page["data"][0]["results"][1]["output_tokens"] = "lots"
    bad.write_text(json.dumps(page))
    warehouse = connect(str(tmp_path / "wh.duckdb"))
    with pytest.raises(InputError) as caught:
        load(warehouse, sorted(folder.iterdir()))
    assert (Path(str(caught.value.file)).name, caught.value.row, caught.value.column) == (
        "zz_broken_usage.json",
        2,
        "output_tokens",
    )
    assert _totals(warehouse)["rows"] == 0


@pytest.mark.spark
def test_reingest_on_spark_replaces_rows_and_reconciles(tmp_path: Path, spark_session: Any) -> None:
    warehouse = connect(f"spark://{tmp_path / 'wh'}", spark=spark_session)
    files = [FIXTURES / "openai_usage_completions.json", FIXTURES / "openai_costs.json"]
    load(warehouse, files)
    report = load(warehouse, files)
    assert _totals(warehouse)["rows"] == 4
    assert [line.model for line in report.reconciliation if not line.matches] == [
        "gpt-4o-mini-2024-07-18"
    ]


def test_collector_file_export_numbers_spans_across_lines(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "otel_genai_spans.json").read_text())
    broken = json.loads(json.dumps(document))
    span = broken["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"].append({"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1.5"}})
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps(document) + "\n" + json.dumps(broken) + "\n")
    assert classify(path) == "otel"
    with pytest.raises(InputError) as caught:
        load(connect(str(tmp_path / "wh.duckdb")), [path])
    assert (caught.value.row, caught.value.column) == (6, "gen_ai.usage.input_tokens")
