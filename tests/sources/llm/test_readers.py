"""Each LLM usage reader on fixtures in the provider's real wire shape (tests/fixtures/llm)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costrail.errors import InputError
from costrail.pricing.llm import LlmPrices
from costrail.sources.base import LoadWarnings
from costrail.sources.llm import anthropic_usage, jsonl, litellm, openai_usage
from costrail.sources.llm.common import read_json
from costrail.sources.llm.otel import spans_to_rows

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "llm"


@pytest.fixture(scope="module")
def prices() -> LlmPrices:
    return LlmPrices.load()


def _otlp() -> dict[str, Any]:
    return json.loads((FIXTURES / "otel_genai_spans.json").read_text())


def _by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["request_id"]: row for row in rows}


def test_otel_spans_map_genai_attributes_to_request_rows() -> None:
    rows = _by_id(spans_to_rows(_otlp(), source_file="spans.json"))
    openai = rows["chatcmpl-AbC123"]
    assert (openai["provider"], openai["model"], openai["operation"]) == (
        "openai",
        "gpt-4o-2024-08-06",
        "chat",
    )
    assert (openai["input_tokens"], openai["cached_input_tokens"], openai["output_tokens"]) == (
        2000,
        1024,
        100,
    )
    assert openai["time"] == dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    assert openai["latency_ms"] == 1250
    assert (openai["user"], openai["team"], openai["feature"], openai["api_key"]) == (
        "u-ana",
        "support",
        "triage",
        "key-support",
    )
    assert openai["prefix_hashes"] == ["9f2c1a7b3d4e5f60", "0a1b2c3d4e5f6789"]
    assert openai["prefix_tokens"] == [1024, 1152]


def test_otel_non_genai_spans_are_skipped_and_counted() -> None:
    warnings = LoadWarnings()
    rows = spans_to_rows(_otlp(), warnings=warnings)
    assert len(rows) == 4
    assert warnings.counts["spans without GenAI attributes skipped"] == 1


def test_otel_error_span_keeps_its_error_type_and_http_status() -> None:
    rows = _by_id(spans_to_rows(_otlp()))
    failed = rows["1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f:b1c2d3e4f5a6b7c8"]
    assert (failed["status"], failed["http_status"]) == ("rate_limit_exceeded", 429)


def test_otel_older_gen_ai_system_names_the_provider() -> None:
    rows = _by_id(spans_to_rows(_otlp()))
    assert rows["8e9f0a1b2c3d4e5f60718293a4b5c6d7:c0ffee0000000002"]["provider"] == (
        "azure.ai.openai"
    )


def test_otel_cache_counted_outside_input_is_added_back_with_a_warning() -> None:
    document = _otlp()
    span = document["resourceSpans"][1]["scopeSpans"][0]["spans"][0]
    for attribute in span["attributes"]:
        if attribute["key"] == "gen_ai.usage.input_tokens":
            attribute["value"] = {"intValue": "500"}  # Anthropic's raw, cache-exclusive count
    warnings = LoadWarnings()
    row = _by_id(spans_to_rows(document, warnings=warnings))["msg_01XFDUDYJgAACzvnptvVoYEL"]
    assert row["input_tokens"] == 500 + 3000 + 1500
    assert any("added back" in message for message in warnings.counts)


def test_otel_bad_int_value_names_the_span_and_attribute() -> None:
    document = copy.deepcopy(_otlp())
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][2]
    span["attributes"].append({"key": "gen_ai.usage.output_tokens", "value": {"intValue": "x"}})
    with pytest.raises(InputError) as caught:
        spans_to_rows(document, source_file="spans.json")
    assert (caught.value.file, caught.value.row, caught.value.column) == (
        "spans.json",
        3,
        "gen_ai.usage.output_tokens",
    )


def test_openai_usage_buckets_become_priced_rows_with_request_counts(prices: LlmPrices) -> None:
    path = FIXTURES / "openai_usage_completions.json"
    rows = openai_usage.usage_rows(read_json(path), path, prices)
    first = rows[0]
    assert first["request_id"].startswith("bucket:openai-usage:")
    assert first["request_count"] == 600
    assert first["time"] == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert first["cost_usd"] == Decimal("4.00")  # 800k x 2.5 + 400k x 1.25 + 150k x 10 per M
    assert rows[1]["batch"] is True and rows[1]["cost_usd"] == Decimal("0.30")
    assert rows[2]["cost_usd"] is None  # unknown model: the store marks it unpriced


def test_openai_usage_bucket_ids_are_stable_across_reads(prices: LlmPrices) -> None:
    path = FIXTURES / "openai_usage_completions.json"
    first = [row["request_id"] for row in openai_usage.usage_rows(read_json(path), path, prices)]
    again = [row["request_id"] for row in openai_usage.usage_rows(read_json(path), path, prices)]
    assert first == again and len(set(first)) == len(first)


def test_openai_costs_page_gives_exact_dollar_amounts_per_model() -> None:
    path = FIXTURES / "openai_costs.json"
    rows = openai_usage.cost_rows(read_json(path), path)
    assert rows[0]["model"] == "gpt-4o-2024-08-06"
    assert sum(row["cost_usd"] for row in rows) == Decimal("6.25")


def test_anthropic_usage_uses_long_context_rates_for_the_200k_1m_window(
    prices: LlmPrices,
) -> None:
    path = FIXTURES / "anthropic_usage_report.json"
    rows = anthropic_usage.usage_rows(read_json(path), path, prices)
    standard, long_context, batch = rows
    assert standard["input_tokens"] == 100_000 + 1_000_000 + 200_000 + 50_000
    assert standard["cost_usd"] == Decimal("2.25")
    assert long_context["cost_usd"] == Decimal("6.225")  # 1M x $6/M + 10k x $22.50/M
    assert batch["batch"] is True and batch["cost_usd"] == Decimal("0.50")


def test_anthropic_cost_report_amounts_are_cents_converted_to_dollars() -> None:
    path = FIXTURES / "anthropic_cost_report.json"
    rows = anthropic_usage.cost_rows(read_json(path), path)
    assert rows[0]["cost_usd"] == Decimal("6.30")  # "630.00" cents
    assert sum(row["cost_usd"] for row in rows) == Decimal("9.975")


def test_litellm_spend_logs_keep_spend_and_reprice_zero_spend_calls() -> None:
    warnings = LoadWarnings()
    rows = _by_id(litellm.spend_rows(FIXTURES / "litellm_spend_logs.csv", warnings))
    kept = rows["chatcmpl-9xQ1"]
    assert (kept["cost_usd"], kept["cost_source"]) == (Decimal("0.00472"), "provider")
    assert (kept["cached_input_tokens"], kept["api_key"], kept["feature"]) == (
        1024,
        "support-bot",
        "support-chat",
    )
    streamed = rows["chatcmpl-9xQ2"]
    assert streamed["cost_usd"] is None and streamed["streamed"] is True
    assert sum(warnings.counts.values()) == 1
    assert rows["emb-77"]["operation"] == "embeddings"


def test_litellm_json_export_reads_like_the_csv(tmp_path: Path) -> None:
    import csv

    with (FIXTURES / "litellm_spend_logs.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    path = tmp_path / "spend.json"
    path.write_text(json.dumps(records))
    rows = litellm.spend_rows(path, LoadWarnings())
    assert [row["request_id"] for row in rows] == ["chatcmpl-9xQ1", "chatcmpl-9xQ2", "emb-77"]


def test_generic_jsonl_derives_a_stable_id_when_none_is_given() -> None:
    rows = jsonl.request_rows(FIXTURES / "requests.jsonl")
    again = jsonl.request_rows(FIXTURES / "requests.jsonl")
    assert rows[0]["request_id"] == "req-001"
    assert rows[1]["request_id"].startswith("line:")
    assert rows[1]["request_id"] == again[1]["request_id"]


def test_generic_jsonl_unknown_field_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"time": "2026-11-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 1}\n'
        '{"time": "2026-11-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 1, "tokns": 2}\n'
    )
    with pytest.raises(InputError) as caught:
        jsonl.request_rows(path)
    assert (caught.value.row, caught.value.column) == (2, "tokns")
