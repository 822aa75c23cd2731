"""The LLM analyses give the same findings to the cent on Spark as on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from costrail.analyses import analyses
from costrail.findings import Finding
from costrail.warehouse import Warehouse, connect
from tests.analyses.llm_fixtures import llm_context, request

KINDS = (
    "llm_spend",
    "llm_prompt_caching",
    "llm_batch_eligible",
    "llm_model_downgrade",
    "llm_runaway",
)


def _rows() -> list[dict[str, Any]]:
    """Each waste once: a resent prefix, a nightly service job, a classifier, a loop."""
    chat = [request(seconds) for seconds in range(0, 3_600, 90)]
    nightly = [
        request(
            night * 86_400 + 3_600 + step * 20,
            provider="openai",
            model="gpt-4.1",
            prefix=(),
            feature="nightly",
            user="svc-etl",
            streamed=False,
        )
        for night in range(2)
        for step in range(120)
    ]
    classifier = [
        request(
            step * 97,
            provider="openai",
            model="gpt-4o",
            input_tokens=6_000,
            output_tokens=2,
            prefix=(),
            feature="classifier",
            streamed=False,
        )
        for step in range(150)
    ]
    loop = [
        request(
            86_400 + i * 1.5,
            provider="openai",
            model="gpt-4.1",
            prefix=(("loop-a", 1_024), ("loop-b", 2_048)),
            feature="agent",
            api_key="key-agent",
        )
        for i in range(400)
    ]
    return chat + nightly + classifier + loop


def _findings(warehouse: Warehouse) -> list[tuple[str, tuple[str, ...], str]]:
    context = llm_context(warehouse, _rows())
    found: list[Finding] = [f for kind in KINDS for f in analyses.get(kind)(context)]
    return sorted((f.kind, f.resources, str(f.monthly_savings_usd)) for f in found)


@pytest.mark.spark
def test_llm_findings_are_the_same_to_the_cent_on_spark(
    warehouse: Warehouse, spark_session: Any, tmp_path: Path
) -> None:
    on_duckdb = _findings(warehouse)

    on_spark = _findings(connect(f"spark://{tmp_path / 'spark'}", spark=spark_session))

    assert {kind for kind, _, _ in on_duckdb} == set(KINDS)
    assert on_spark == on_duckdb
