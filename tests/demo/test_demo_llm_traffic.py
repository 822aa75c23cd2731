"""The demo's LLM traffic: OTLP JSON span files the reader loads, deterministic, planted waste
that the clean company does not have."""

from __future__ import annotations

import json
from pathlib import Path

from costrail.analyses import AnalysisContext, analyses
from costrail.analyses.base import INFORMATIONAL_KINDS
from costrail.analyses.llm_common import llm_requests_of
from costrail.cli.demo import ingest_routed
from costrail.demo import Truth
from costrail.demo.ids import IdFactory
from costrail.demo.llm_traffic import build_llm_traffic
from costrail.demo.timeline import DEMO_TIMELINE
from costrail.schema.costs import COSTS_SCHEMA
from costrail.sources.llm.otel import spans_to_rows
from costrail.warehouse import connect

LLM_KINDS = ("llm_prompt_caching", "llm_batch_eligible", "llm_model_downgrade", "llm_runaway")


def _llm_files(demo: tuple[Path, Truth]) -> list[Path]:
    root, truth = demo
    return [root / name for name in truth.files["llm"]]


def test_llm_traffic_is_otlp_json_spans_within_the_size_budget(
    demo: tuple[Path, Truth],
) -> None:
    files = _llm_files(demo)

    rows = [
        row
        for path in files
        for row in spans_to_rows(json.loads(path.read_text()), source_file=str(path))
    ]

    assert 10_000 <= len(rows) <= 40_000
    assert sum(path.stat().st_size for path in files) < 30_000_000
    assert {row["provider"] for row in rows} == {"openai", "anthropic", "gcp.vertex_ai"}
    assert all(row["time"].strftime("%Y-%m") == DEMO_TIMELINE.periods[-1] for row in rows)


def test_llm_traffic_is_byte_identical_for_the_same_seed(
    demo: tuple[Path, Truth], tmp_path: Path
) -> None:
    again = build_llm_traffic(tmp_path, DEMO_TIMELINE, IdFactory(7), clean=False)

    for path in _llm_files(demo):
        assert (tmp_path / path.relative_to(demo[0])).read_bytes() == path.read_bytes()
    assert len(again.files) == len(_llm_files(demo))


def test_every_llm_waste_kind_is_planted_with_a_saving_within_its_cost(
    demo: tuple[Path, Truth],
) -> None:
    _, truth = demo
    planted = {item.kind: item for item in truth.planted if item.signal.startswith("llm")}

    assert sorted(planted) == sorted(LLM_KINDS)
    for item in planted.values():
        assert 0 < item.monthly_savings_usd <= item.monthly_cost_usd


def test_the_clean_company_has_no_llm_finding_above_fifty_dollars(
    clean_demo: tuple[Path, Truth], tmp_path: Path
) -> None:
    root, _ = clean_demo
    warehouse = connect(str(tmp_path / "w.duckdb"))
    ingest_routed(warehouse, [root / "llm"], quiet=True)
    requests = llm_requests_of(warehouse)
    assert requests is not None
    context = AnalysisContext(
        costs=warehouse.read("no_costs", COSTS_SCHEMA),
        engine=warehouse.engine,
        window_start=DEMO_TIMELINE.period_starts[-1],
        window_end=DEMO_TIMELINE.end,
        llm_requests=requests,
    )

    findings = [f for kind in LLM_KINDS for f in analyses.get(kind)(context)]

    assert [(f.kind, str(f.monthly_savings_usd)) for f in findings] == []
    assert not set(LLM_KINDS) & INFORMATIONAL_KINDS
