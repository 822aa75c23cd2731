"""Usage normalisation: each provider's documented usage object → the OTel counting convention."""

from __future__ import annotations

import pytest

from costrail.errors import InputError
from costrail.llm.usage import TokenUsage, from_anthropic, from_gemini, from_openai


def test_openai_chat_usage_keeps_cached_tokens_inside_input() -> None:
    usage = from_openai(
        {
            "prompt_tokens": 2006,
            "completion_tokens": 300,
            "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 128,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
    )
    assert usage == TokenUsage(
        input_tokens=2006, cached_input_tokens=1920, output_tokens=300, reasoning_tokens=128
    )
    assert usage.uncached_input_tokens == 86


def test_openai_responses_api_usage_is_read_from_its_own_field_names() -> None:
    usage = from_openai(
        {
            "input_tokens": 1500,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens": 700,
            "output_tokens_details": {"reasoning_tokens": 512},
            "total_tokens": 2200,
        }
    )
    assert (usage.input_tokens, usage.cached_input_tokens) == (1500, 1024)
    assert (usage.output_tokens, usage.reasoning_tokens) == (700, 512)


def test_openai_usage_with_null_details_counts_no_cache() -> None:
    usage = from_openai(
        {"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details": None}
    )
    assert usage.cached_input_tokens == 0


def test_anthropic_usage_adds_cache_reads_and_writes_back_into_input() -> None:
    usage = from_anthropic(
        {
            "input_tokens": 50,
            "cache_creation_input_tokens": 2048,
            "cache_read_input_tokens": 10000,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 1024,
                "ephemeral_1h_input_tokens": 1024,
            },
            "output_tokens": 503,
            "service_tier": "standard",
        }
    )
    assert usage.input_tokens == 50 + 10000 + 2048
    assert usage.cached_input_tokens == 10000
    assert (usage.cache_write_tokens, usage.cache_write_1h_tokens) == (1024, 1024)
    assert usage.uncached_input_tokens == 50


def test_anthropic_usage_without_ttl_breakdown_treats_writes_as_5_minute() -> None:
    usage = from_anthropic(
        {
            "input_tokens": 20,
            "cache_creation_input_tokens": 1500,
            "cache_read_input_tokens": 0,
            "output_tokens": 10,
        }
    )
    assert (usage.cache_write_tokens, usage.cache_write_1h_tokens) == (1500, 0)


def test_gemini_usage_bills_thoughts_as_output_and_keeps_cache_in_prompt() -> None:
    usage = from_gemini(
        {
            "promptTokenCount": 12000,
            "cachedContentTokenCount": 8000,
            "candidatesTokenCount": 300,
            "thoughtsTokenCount": 600,
            "totalTokenCount": 12900,
        }
    )
    assert (usage.input_tokens, usage.cached_input_tokens) == (12000, 8000)
    assert (usage.output_tokens, usage.reasoning_tokens) == (900, 600)


def test_gemini_usage_accepts_sdk_snake_case_names() -> None:
    usage = from_gemini({"prompt_token_count": 40, "candidates_token_count": 5})
    assert (usage.input_tokens, usage.output_tokens) == (40, 5)


def test_usage_whose_cache_exceeds_input_is_rejected() -> None:
    with pytest.raises(InputError, match="exceed input_tokens"):
        TokenUsage(input_tokens=10, cached_input_tokens=20)
