"""The SDK wrapper with the real `openai` and `anthropic` clients, pointed at the local
upstream (`tests/guard/upstream.py`, standing in for the providers, unreachable here)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

from costrail.guard import Guard, GuardedTransport, wrap
from costrail.guard.config import GuardSection
from costrail.guard.engine import Identity
from costrail.guard.state import GuardStore
from costrail.guard.wrapper import transport_classes
from costrail.pricing.llm import LlmPrices
from tests.guard.conftest import RowSink


@pytest.fixture(scope="module")
def prices() -> LlmPrices:
    return LlmPrices.load()


def make_guard(store: GuardStore, prices: LlmPrices, sink: RowSink, **settings: Any) -> Guard:
    section = GuardSection.model_validate(
        {"keys": [{"key": "sk-local", "alias": "notebook"}], **settings}
    )
    return Guard(section, store=store, prices=prices, sink=sink)


def test_openai_client_call_is_recorded_and_priced(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    client = wrap(openai.OpenAI(api_key="sk-local", base_url=upstream_url + "/v1"), guard=guard)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", max_tokens=40, messages=[{"role": "user", "content": "hello"}]
    )
    guard.recorder.close()
    (row,) = sink.rows
    assert reply.usage is not None
    assert row["output_tokens"] == reply.usage.completion_tokens
    assert row["api_key"] == "notebook" and row["source"] == "sdk"
    assert row["cost_usd"] > 0


def test_openai_client_stream_usage_is_captured(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    client = wrap(openai.OpenAI(api_key="sk-local", base_url=upstream_url + "/v1"), guard=guard)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        max_tokens=40,
        stream=True,
        messages=[{"role": "user", "content": "hello"}],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    guard.recorder.close()
    (row,) = sink.rows
    assert text == "ok!"
    assert row["streamed"] and row["status"] == "ok" and row["output_tokens"] > 0


def test_openai_client_raises_its_own_error_when_the_budget_refuses(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    guard = make_guard(
        store,
        prices,
        RowSink(),
        budgets=[{"scope": "key", "amount_usd": "0.0001", "period": "day"}],
    )
    client = wrap(openai.OpenAI(api_key="sk-local", base_url=upstream_url + "/v1"), guard=guard)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(
            model="gpt-4o", max_tokens=4000, messages=[{"role": "user", "content": "hi"}]
        )
    guard.recorder.close()
    assert raised.value.code == "insufficient_quota"
    (key,) = guard.engine.bucket_keys(Identity(api_key="notebook"))
    assert guard.engine.spent_usd(key) == (Decimal(0), Decimal(0))


def test_anthropic_client_stream_is_billed_like_the_plain_call(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    client = wrap(anthropic.Anthropic(api_key="sk-local", base_url=upstream_url), guard=guard)
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Summarise: " + "text " * 40}],
    }
    plain = client.messages.create(**request)
    with client.messages.stream(**request) as stream:
        final = stream.get_final_message()
    guard.recorder.close()
    plain_row, stream_row = sink.rows
    assert final.usage.output_tokens == plain.usage.output_tokens
    assert stream_row["streamed"] and stream_row["cost_usd"] == plain_row["cost_usd"] > 0


def test_anthropic_client_raises_rate_limit_error_past_its_rpm(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    guard = make_guard(store, prices, RowSink(), rate_limits=[{"scope": "key", "rpm": 1}])
    client = wrap(
        anthropic.Anthropic(api_key="sk-local", base_url=upstream_url, max_retries=0), guard=guard
    )
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": "hi"}],
    }
    client.messages.create(**request)
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(**request)
    guard.recorder.close()


def test_transport_classes_subclass_the_given_flavour_and_are_made_once() -> None:
    sync_class, async_class = transport_classes(httpx2)
    assert issubclass(sync_class, httpx2.BaseTransport)
    assert issubclass(async_class, httpx2.AsyncBaseTransport)
    assert not issubclass(sync_class, httpx.BaseTransport)
    assert transport_classes(httpx2) == (sync_class, async_class)
    assert transport_classes(httpx)[0] is not sync_class


def test_plain_httpx_client_is_guarded_by_the_httpx_transport(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    with httpx.Client(transport=GuardedTransport(guard), base_url=upstream_url) as client:
        response = client.post(
            "/v1/chat/completions",
            headers={"authorization": "Bearer sk-local"},
            json={
                "model": "gpt-4o-mini",
                "max_tokens": 20,
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
    guard.recorder.close()
    (row,) = sink.rows
    assert response.status_code == 200
    assert row["output_tokens"] == response.json()["usage"]["completion_tokens"]


def test_async_openai_client_call_is_recorded_and_priced(
    store: GuardStore, prices: LlmPrices, upstream_url: str
) -> None:
    sink = RowSink()
    guard = make_guard(store, prices, sink)
    client = wrap(
        openai.AsyncOpenAI(api_key="sk-local", base_url=upstream_url + "/v1"), guard=guard
    )

    async def call() -> Any:
        async with client:
            return await client.chat.completions.create(
                model="gpt-4o-mini", max_tokens=40, messages=[{"role": "user", "content": "hi"}]
            )

    reply = asyncio.run(call())
    guard.recorder.close()
    (row,) = sink.rows
    assert reply.usage is not None
    assert row["output_tokens"] == reply.usage.completion_tokens and row["cost_usd"] > 0
