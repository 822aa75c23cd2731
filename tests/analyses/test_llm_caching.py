"""Prompt-caching opportunity on hand-built `llm_requests` rows (prices from the catalog)."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses import analyses
from costrail.analyses.llm_common import catalog
from costrail.warehouse import Warehouse
from tests.analyses.llm_fixtures import llm_context, request

KIND = "llm_prompt_caching"
PREFIX_TOKENS = 10_240


def _sonnet_rates():  # type: ignore[no-untyped-def]
    return catalog().lookup("anthropic", "claude-sonnet-4-5").rates(12_000)


def test_prefix_resent_within_the_ttl_counts_as_hits_net_of_the_write_premium(
    warehouse: Warehouse,
) -> None:
    rows = [request(seconds) for seconds in (0, 60, 120, 180)]

    [finding] = analyses.get(KIND)(llm_context(warehouse, rows))

    rates = _sonnet_rates()
    hits, writes = 3 * PREFIX_TOKENS, 1 * PREFIX_TOKENS
    expected = hits * (rates.input - rates.cached_input) - writes * (
        rates.cache_write - rates.input
    )
    assert finding.evidence["tokens_that_would_be_cache_hits"] == hits
    assert finding.evidence["tokens_written_to_cache_on_misses"] == writes
    assert finding.evidence["net_saving_in_window_usd"] == expected.quantize(Decimal("0.01"))
    assert finding.resources == ("llm:anthropic/claude-sonnet-4-5/feature=support-chat",)


def test_prefix_resent_after_the_ttl_is_not_a_hit(warehouse: Warehouse) -> None:
    rows = [request(seconds) for seconds in (0, 400, 800, 1200)]

    assert analyses.get(KIND)(llm_context(warehouse, rows)) == []


def test_write_premium_on_every_miss_can_cancel_the_saving(warehouse: Warehouse) -> None:
    """Pairs 60 s apart, pairs an hour apart: one hit per write, and a 1.25x write premium
    against a 0.9x read saving leaves a positive net of 0.9 - 0.25 per pair."""
    rows = [request(pair * 3600 + offset) for pair in range(10) for offset in (0, 60)]

    [finding] = analyses.get(KIND)(llm_context(warehouse, rows))

    rates = _sonnet_rates()
    premium = 10 * PREFIX_TOKENS * (rates.cache_write - rates.input)
    saving = 10 * PREFIX_TOKENS * (rates.input - rates.cached_input)
    [prefix] = finding.evidence["prefixes"]
    assert prefix["write_premium_usd"] == premium.quantize(Decimal("0.01"))
    assert prefix["net_saving_usd"] == (saving - premium).quantize(Decimal("0.01"))


def test_tokens_already_read_from_the_cache_are_not_claimed(warehouse: Warehouse) -> None:
    rows = [request(0, cache_write_tokens=PREFIX_TOKENS)] + [
        request(seconds, cached_input_tokens=PREFIX_TOKENS) for seconds in (60, 120, 180)
    ]

    assert analyses.get(KIND)(llm_context(warehouse, rows)) == []


def test_prefix_shorter_than_the_haiku_minimum_is_not_cacheable(warehouse: Warehouse) -> None:
    rows = [
        request(seconds, model="claude-haiku-4-5", input_tokens=1_800, prefix=(("p", 1_536),))
        for seconds in range(0, 600, 30)
    ]

    assert analyses.get(KIND)(llm_context(warehouse, rows)) == []


def test_openai_prefix_has_no_write_premium(warehouse: Warehouse) -> None:
    rows = [
        request(seconds, provider="openai", model="gpt-4o", prefix=(("p", 4_096),))
        for seconds in (0, 400, 460)
    ]

    [finding] = analyses.get(KIND)(llm_context(warehouse, rows))

    rates = catalog().lookup("openai", "gpt-4o").rates(12_000)
    assert finding.evidence["prefixes"][0]["write_premium_usd"] == Decimal("0.00")
    expected = 4_096 * (rates.input - rates.cached_input)
    assert finding.evidence["net_saving_in_window_usd"] == expected.quantize(Decimal("0.01"))
