"""Runaway LLM traffic (loops, retry storms, spend spikes) on hand-built `llm_requests` rows."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses import analyses
from costrail.warehouse import Warehouse
from tests.analyses.llm_fixtures import llm_context, request

KIND = "llm_runaway"
LOOP_PREFIX = (("agent-step", 1_024), ("agent-step-2", 2_048))


def _steady(days: int = 10) -> list[dict[str, object]]:
    """One request every 10 minutes, day and night, on key-agent."""
    return [
        request(step * 600, provider="openai", model="gpt-4.1", api_key="key-agent", prefix=())
        for step in range(days * 144)
    ]


def _loop(start_s: int, minutes: int, per_minute: int) -> list[dict[str, object]]:
    return [
        request(
            start_s + minute * 60 + i * (60 / per_minute),
            provider="openai",
            model="gpt-4.1",
            api_key="key-agent",
            input_tokens=2_500,
            prefix=LOOP_PREFIX,
        )
        for minute in range(minutes)
        for i in range(per_minute)
    ]


def test_steady_traffic_is_not_flagged(warehouse: Warehouse) -> None:
    assert analyses.get(KIND)(llm_context(warehouse, _steady())) == []


def test_a_loop_resending_one_prefix_is_found_with_the_cost_of_its_excess(
    warehouse: Warehouse,
) -> None:
    loop = _loop(start_s=9 * 86_400, minutes=30, per_minute=60)

    [finding] = analyses.get(KIND)(llm_context(warehouse, _steady() + loop))

    loop_usd = sum((Decimal(r["cost_usd"]) for r in loop), Decimal(0))  # type: ignore[arg-type]
    excess = loop_usd * 59 / 60
    assert finding.resources == ("llm:key=key-agent",)
    assert finding.evidence["storm_minutes"] == 30
    assert finding.evidence["storm_excess_usd"] == excess.quantize(Decimal("0.01"))


def test_a_retry_storm_of_errors_is_found(warehouse: Warehouse) -> None:
    storm = [
        request(
            9 * 86_400 + i,
            provider="openai",
            model="gpt-4.1",
            api_key="key-agent",
            prefix=(),
            status="rate_limit_exceeded" if i % 10 else "ok",
        )
        for i in range(600)
    ]

    [finding] = analyses.get(KIND)(llm_context(warehouse, _steady() + storm))

    assert finding.evidence["storm_errors"] == 540


def test_an_hour_far_above_the_keys_baseline_is_a_spike(warehouse: Warehouse) -> None:
    burst = [
        request(
            9 * 86_400 + i * 15,
            provider="openai",
            model="gpt-4.1",
            api_key="key-agent",
            input_tokens=20_000,
            prefix=(),
            user=f"u{i}",
        )
        for i in range(200)
    ]

    [finding] = analyses.get(KIND)(llm_context(warehouse, _steady() + burst))

    assert finding.evidence["storm_minutes"] == 0
    assert finding.evidence["spike_excess_usd"] > 0
