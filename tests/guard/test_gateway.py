"""The gateway end to end: an async httpx client → the gateway (ASGI) → the local upstream
(`tests/guard/upstream.py`, a stand-in for the providers, which are unreachable here)."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from costrail.guard.config import GuardSection
from costrail.guard.engine import Identity
from costrail.guard.gateway import create_app
from costrail.guard.protocol import operation_for
from costrail.guard.runtime import Guard
from costrail.guard.state import GuardStore
from costrail.llm.usage import from_anthropic, from_openai
from costrail.pricing.llm import LlmPrices
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.warehouse import connect
from tests.guard.conftest import RowSink
from tests.guard.upstream import create_upstream


@pytest.fixture(scope="module")
def prices() -> LlmPrices:
    return LlmPrices.load()


def make_guard(store: GuardStore, prices: LlmPrices, sink: RowSink, **guard: Any) -> Guard:
    settings = {
        "upstreams": {
            "oa": {"provider": "openai", "base_url": "http://upstream", "api_key": "sk-up"},
            "an": {"provider": "anthropic", "base_url": "http://upstream", "api_key": "sk-an"},
        },
        "keys": [{"key": "sk-app", "alias": "app", "team": "search"}],
        **guard,
    }
    return Guard(
        GuardSection.model_validate(settings),
        store=store,
        prices=prices,
        sink=sink,
        source="gateway",
    )


def gateway_client(
    guard: Guard, upstream: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    transport = upstream or httpx.ASGITransport(app=create_upstream())
    app = create_app(guard, upstream_transport=transport)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gateway",
        headers={"authorization": "Bearer sk-app"},
        timeout=60,
    )


def chat_body(max_tokens: int | None = 100, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": "What is the capital of France? " * 4},
        ],
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return {**body, **extra}


def spent(guard: Guard) -> tuple[Decimal, Decimal]:
    (key,) = guard.engine.bucket_keys(Identity(api_key="app", team="search"))
    return guard.engine.spent_usd(key)


BUDGET = [{"scope": "key", "amount_usd": "1.00", "period": "month"}]


def test_500_concurrent_requests_never_overspend_and_then_are_all_refused(
    store: GuardStore, prices: LlmPrices
) -> None:
    """A burst of 500 with random caps, then waves until even the cheapest request is
    refused; from then on every request, whatever its cap, is refused."""
    sink = RowSink()
    guard = make_guard(store, prices, sink, budgets=BUDGET)
    rng = random.Random(500)

    async def run() -> tuple[list[int], list[int]]:
        async with gateway_client(guard) as client:

            async def one(max_tokens: int) -> int:
                body = chat_body(max_tokens, metadata={"usage": "random"})
                return (await client.post("/v1/chat/completions", json=body)).status_code

            burst = await asyncio.gather(*(one(rng.randint(50, 4000)) for _ in range(500)))
            for _ in range(200):  # waves until the cheapest request no longer fits
                wave = await asyncio.gather(*(one(rng.randint(50, 4000)) for _ in range(50)))
                if await one(50) == 429:
                    break
                assert all(code in (200, 429) for code in wave)
            after = await asyncio.gather(*(one(rng.randint(50, 4000)) for _ in range(100)))
            return list(burst), list(after)

    burst, after = asyncio.run(run())
    guard.recorder.close()
    spent_usd, reserved_usd = spent(guard)
    assert spent_usd <= Decimal("1.00")
    assert reserved_usd == 0
    assert burst.count(200) > 0 and burst.count(429) > 0
    assert set(after) == {429}
    recorded = sum(row["cost_usd"] for row in sink.rows if row["status"] == "ok")
    assert recorded == spent_usd
    # refused only because what is left is below the cheapest request's worst case
    cheapest = guard.prepare(
        operation_for("/v1/chat/completions"),  # type: ignore[arg-type]
        chat_body(50, metadata={"usage": "random"}),
        Identity(),
        "openai",
    ).call
    worst = prices.worst_case_usd(
        "openai", "gpt-4o", input_tokens=cheapest.input_tokens_max, max_output_tokens=50
    )
    assert Decimal("1.00") - spent_usd < worst


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", chat_body(120, metadata={"cached": 64})),
        (
            "/v1/messages",
            {
                "model": "claude-sonnet-4-5",
                "max_tokens": 120,
                "metadata": {"cached": 64, "cache_write": 32},
                "messages": [{"role": "user", "content": "Summarise this. " * 20}],
            },
        ),
    ],
    ids=["openai-chat", "anthropic-messages"],
)
def test_streamed_call_is_billed_exactly_like_the_same_plain_call(
    store: GuardStore, prices: LlmPrices, path: str, body: dict[str, Any]
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)

    async def run() -> None:
        async with gateway_client(guard) as client:
            plain = await client.post(path, json=body)
            assert plain.status_code == 200
            async with client.stream("POST", path, json={**body, "stream": True}) as streamed:
                assert streamed.status_code == 200
                assert b"data:" in await streamed.aread()

    asyncio.run(run())
    guard.recorder.close()
    plain_row, stream_row = sink.rows
    assert stream_row["streamed"] and not plain_row["streamed"]
    assert stream_row["cost_usd"] == plain_row["cost_usd"] > 0
    assert stream_row["output_tokens"] == plain_row["output_tokens"]


def test_openai_stream_gets_include_usage_added(store: GuardStore, prices: LlmPrices) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)

    async def run() -> bytes:
        async with gateway_client(guard) as client:
            response = await client.post("/v1/chat/completions", json=chat_body(50, stream=True))
            return response.content

    content = asyncio.run(run())
    guard.recorder.close()
    assert b'"usage": {"prompt_tokens"' in content
    assert sink.rows[0]["status"] == "ok"


def test_openai_cached_tokens_are_priced_at_the_cached_rate(
    store: GuardStore, prices: LlmPrices
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)

    async def run() -> dict[str, Any]:
        async with gateway_client(guard) as client:
            response = await client.post(
                "/v1/chat/completions", json=chat_body(80, metadata={"cached": 1024})
            )
            return dict(response.json()["usage"])

    usage = asyncio.run(run())
    guard.recorder.close()
    price = prices.lookup("openai", "gpt-4o")
    uncached = usage["prompt_tokens"] - 1024
    expected = (
        uncached * price.input_usd_per_token
        + 1024 * price.cached_input_usd_per_token
        + usage["completion_tokens"] * price.output_usd_per_token
    )
    (row,) = sink.rows
    assert row["cached_input_tokens"] == 1024
    assert row["cost_usd"] == expected
    assert from_openai(usage).cached_input_tokens == 1024


def test_anthropic_cache_reads_and_writes_are_priced_apart(
    store: GuardStore, prices: LlmPrices
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "metadata": {"cached": 2048, "cache_write": 512},
        "messages": [{"role": "user", "content": "hello " * 50}],
    }

    async def run() -> dict[str, Any]:
        async with gateway_client(guard) as client:
            return dict((await client.post("/v1/messages", json=body)).json()["usage"])

    usage = asyncio.run(run())
    guard.recorder.close()
    price = prices.lookup("anthropic", "claude-sonnet-4-5")
    expected = (
        usage["input_tokens"] * price.input_usd_per_token
        + 2048 * price.cached_input_usd_per_token
        + 512 * price.cache_write_usd_per_token
        + usage["output_tokens"] * price.output_usd_per_token
    )
    (row,) = sink.rows
    assert row["input_tokens"] == from_anthropic(usage).input_tokens
    assert row["cost_usd"] == expected


def test_failed_upstream_call_releases_its_reservation(
    store: GuardStore, prices: LlmPrices
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink, budgets=BUDGET)

    async def run() -> int:
        async with gateway_client(guard) as client:
            body = chat_body(1000, user="fail-me")
            return (await client.post("/v1/chat/completions", json=body)).status_code

    assert asyncio.run(run()) == 500
    guard.recorder.close()
    assert spent(guard) == (Decimal(0), Decimal(0))
    assert sink.rows[0]["status"] == "upstream_error"


def test_fallback_moves_to_the_next_upstream_on_connection_error(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    sink = RowSink()
    guard = make_guard(
        store,
        prices,
        sink,
        upstreams={
            "dead": {"provider": "openai", "base_url": "http://127.0.0.1:9"},
            "live": {"provider": "openai", "base_url": upstream_url},
        },
        aliases={"smart": ["dead/gpt-4o", "live/gpt-4o-mini"]},
    )

    async def run() -> httpx.Response:
        async with gateway_client(guard, httpx.AsyncHTTPTransport()) as client:
            return await client.post("/v1/chat/completions", json=chat_body(20, model="smart"))

    response = asyncio.run(run())
    guard.recorder.close()
    assert response.status_code == 200
    assert response.json()["model"] == "gpt-4o-mini"
    assert sink.rows[0]["model"] == "gpt-4o-mini"


def test_budget_refusal_uses_the_openai_error_format(store: GuardStore, prices: LlmPrices) -> None:
    guard = make_guard(
        store,
        prices,
        RowSink(),
        budgets=[{"scope": "team", "match": "search", "amount_usd": "0.001"}],
    )

    async def run() -> httpx.Response:
        async with gateway_client(guard) as client:
            return await client.post("/v1/chat/completions", json=chat_body(4000))

    response = asyncio.run(run())
    guard.recorder.close()
    assert response.status_code == 429
    assert response.headers["x-should-retry"] == "false"
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "insufficient_quota",
        "insufficient_quota",
        None,
    )


def test_rate_limit_refusal_uses_the_anthropic_format_with_retry_after(
    store: GuardStore, prices: LlmPrices
) -> None:
    guard = make_guard(store, prices, RowSink(), rate_limits=[{"scope": "key", "rpm": 2}])
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }

    async def run() -> list[httpx.Response]:
        async with gateway_client(guard) as client:
            return [await client.post("/v1/messages", json=body) for _ in range(3)]

    first, second, third = asyncio.run(run())
    guard.recorder.close()
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert third.json() == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": third.json()["error"]["message"]},
    }
    assert int(third.headers["retry-after"]) >= 1


def test_tokens_per_minute_limit_refuses_a_request_that_would_pass_it(
    store: GuardStore, prices: LlmPrices
) -> None:
    guard = make_guard(store, prices, RowSink(), rate_limits=[{"scope": "key", "tpm": 5000}])

    async def run() -> list[int]:
        async with gateway_client(guard) as client:
            small = await client.post("/v1/chat/completions", json=chat_body(100))
            large = await client.post("/v1/chat/completions", json=chat_body(6000))
            return [small.status_code, large.status_code]

    assert asyncio.run(run()) == [200, 429]
    guard.recorder.close()


def test_identical_temperature_zero_call_is_served_from_cache(
    store: GuardStore, prices: LlmPrices
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink, cache={"enabled": True})

    async def run() -> list[httpx.Response]:
        async with gateway_client(guard) as client:
            body = chat_body(30, temperature=0)
            return [await client.post("/v1/chat/completions", json=body) for _ in range(2)]

    first, second = asyncio.run(run())
    guard.recorder.close()
    assert second.headers.get("x-costrail-cache") == "hit"
    assert second.json() == first.json()
    assert [row["status"] for row in sink.rows] == ["ok", "cache_hit"]


def test_rows_carry_prefix_hashes_and_identity_but_no_prompt(
    store: GuardStore, prices: LlmPrices
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    long_prompt = "The quick brown fox jumps over the lazy dog. " * 200

    async def run() -> None:
        async with gateway_client(guard) as client:
            body = chat_body(20, messages=[{"role": "user", "content": long_prompt}])
            headers = {"x-costrail-feature": "summary", "x-costrail-user": "ana"}
            await client.post("/v1/chat/completions", json=body, headers=headers)

    asyncio.run(run())
    guard.recorder.close()
    (row,) = sink.rows
    assert row["prefix_hashes"] and row["prefix_tokens"][0] == 1024
    assert row["prompt_text"] is None
    assert (row["api_key"], row["team"], row["user"], row["feature"]) == (
        "app",
        "search",
        "ana",
        "summary",
    )


def test_otlp_traces_endpoint_records_genai_spans(store: GuardStore, prices: LlmPrices) -> None:
    """`POST /v1/traces` with OTLP/HTTP JSON (the collector's export format)."""
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    payload = (Path(__file__).parents[1] / "fixtures/llm/otel_genai_spans.json").read_text()

    async def run() -> httpx.Response:
        async with gateway_client(guard) as client:
            return await client.post(
                "/v1/traces", content=payload, headers={"content-type": "application/json"}
            )

    response = asyncio.run(run())
    guard.recorder.close()
    assert response.status_code == 200
    assert {row["source"] for row in sink.rows} == {"otel"}
    assert "chatcmpl-AbC123" in {row["request_id"] for row in sink.rows}


def test_metrics_count_refusals(store: GuardStore, prices: LlmPrices) -> None:
    guard = make_guard(store, prices, RowSink(), rate_limits=[{"scope": "key", "rpm": 1}])

    async def run() -> str:
        async with gateway_client(guard) as client:
            for _ in range(2):
                await client.post("/v1/chat/completions", json=chat_body(10))
            return (await client.get("/metrics")).text

    text = asyncio.run(run())
    guard.recorder.close()
    assert 'costrail_guard_events_total{event="refused_rate"} 1' in text
    assert 'costrail_guard_events_total{event="admitted"} 1' in text


def test_responses_api_stream_is_billed_like_the_plain_call(
    store: GuardStore, prices: LlmPrices
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    body = {"model": "gpt-4o", "input": "Write a haiku about budgets.", "metadata": {"cached": 8}}

    async def run() -> None:
        async with gateway_client(guard) as client:
            assert (await client.post("/v1/responses", json=body)).status_code == 200
            streamed = await client.post("/v1/responses", json={**body, "stream": True})
            assert b"response.completed" in streamed.content

    asyncio.run(run())
    guard.recorder.close()
    plain_row, stream_row = sink.rows
    assert plain_row["operation"] == "responses" and plain_row["cached_input_tokens"] == 8
    assert stream_row["cost_usd"] == plain_row["cost_usd"] > 0


def test_request_without_output_cap_gets_the_default_injected(
    store: GuardStore, prices: LlmPrices
) -> None:
    """The bound only holds if the upstream cannot generate more than was reserved."""
    sink = RowSink()
    guard = make_guard(store, prices, sink, default_max_tokens=77)

    async def run() -> None:
        async with gateway_client(guard) as client:
            await client.post("/v1/chat/completions", json=chat_body(None))

    asyncio.run(run())
    guard.recorder.close()
    (row,) = sink.rows
    assert 1 <= row["output_tokens"] <= 77


def test_embeddings_are_priced_on_input_only(store: GuardStore, prices: LlmPrices) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)

    async def run() -> dict[str, Any]:
        async with gateway_client(guard) as client:
            body = {"model": "text-embedding-3-small", "input": ["costrail", "budgets"]}
            return dict((await client.post("/v1/embeddings", json=body)).json()["usage"])

    usage = asyncio.run(run())
    guard.recorder.close()
    (row,) = sink.rows
    price = prices.lookup("openai", "text-embedding-3-small")
    assert row["cost_usd"] == usage["prompt_tokens"] * price.input_usd_per_token


def test_gateway_writes_rows_to_the_warehouse_from_its_writer_process(
    tmp_path: Path, upstream_url: str
) -> None:
    """`costrail gateway` hands rows to a child process; they reach DuckDB by shutdown."""
    config = tmp_path / "costrail.yaml"
    config.write_text(
        f"warehouse: {tmp_path / 'wh.duckdb'}\n"
        "guard:\n"
        f"  upstreams: {{local: {{provider: openai, base_url: '{upstream_url}'}}}}\n"
        f"  store: {{kind: sqlite, path: '{tmp_path / 'guard.sqlite'}'}}\n"
    )
    guard = Guard.from_config(config, source="gateway")
    body = {
        "model": "gpt-4o-mini",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "hi"}],
    }

    async def scenario() -> None:
        async with gateway_client(guard, httpx.AsyncHTTPTransport()) as client:
            for _ in range(3):
                assert (await client.post("/v1/chat/completions", json=body)).status_code == 200

    asyncio.run(scenario())
    guard.close()
    warehouse = connect(str(tmp_path / "wh.duckdb"))
    requests = warehouse.read("llm_requests", LLM_REQUESTS_SCHEMA)
    assert requests.filter(requests.source == "gateway").count().execute() == 3
