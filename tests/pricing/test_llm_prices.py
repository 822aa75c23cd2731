"""LLM price catalog: exact per-provider pricing, tolerant lookup, overrides, `prices` CLI."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.config import parse_config
from costrail.errors import InputError
from costrail.llm.usage import from_anthropic, from_gemini, from_openai
from costrail.pricing.llm import LlmPrices, UnknownModelError, parse_price_map


@pytest.fixture(scope="module")
def prices() -> LlmPrices:
    return LlmPrices.load()


@pytest.fixture(autouse=True)
def _no_installed_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSTRAIL_DATA_DIR", str(tmp_path / "data"))


def _price_map(tmp_path: Path, entries: dict[str, object]) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_prices_are_exact_decimals_from_the_json_text(prices: LlmPrices) -> None:
    price = prices.lookup("openai", "gpt-4o")
    assert price.input_usd_per_token == Decimal("0.0000025")
    assert price.cached_input_usd_per_token == Decimal("0.00000125")
    assert price.source == "litellm snapshot 2026-11-23"


def test_openai_cached_tokens_are_billed_at_the_cache_read_rate(prices: LlmPrices) -> None:
    usage = from_openai(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 100,
            "prompt_tokens_details": {"cached_tokens": 1024},
        }
    )
    # 976 uncached x $2.50/M + 1024 cached x $1.25/M + 100 out x $10/M
    assert prices.cost_usd("openai", "gpt-4o-2024-08-06", usage) == Decimal("0.00472")


def test_anthropic_cache_reads_and_both_write_ttls_are_priced_apart(prices: LlmPrices) -> None:
    usage = from_anthropic(
        {
            "input_tokens": 100,
            "cache_read_input_tokens": 10000,
            "cache_creation_input_tokens": 3000,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 2000,
                "ephemeral_1h_input_tokens": 1000,
            },
            "output_tokens": 500,
        }
    )
    expected = (
        100 * Decimal("3e-6")  # uncached input
        + 10000 * Decimal("3e-7")  # cache read
        + 2000 * Decimal("3.75e-6")  # 5-minute write
        + 1000 * Decimal("6e-6")  # 1-hour write
        + 500 * Decimal("1.5e-5")  # output
    )
    assert prices.cost_usd("anthropic", "claude-sonnet-4-5-20250929", usage) == expected


def test_missing_one_hour_price_falls_back_to_twice_base_input_for_claude(
    tmp_path: Path,
) -> None:
    path = _price_map(
        tmp_path,
        {
            "claude-test-1": {
                "litellm_provider": "anthropic",
                "input_cost_per_token": 1e-06,
                "output_cost_per_token": 5e-06,
                "cache_creation_input_token_cost": 1.25e-06,
            }
        },
    )
    price = LlmPrices.load(path).lookup("anthropic", "claude-test-1")
    assert price.rates(100).cache_write_1h == Decimal("0.000002")


def test_gemini_long_context_tier_applies_above_200k_input_tokens(prices: LlmPrices) -> None:
    short = from_gemini({"promptTokenCount": 200_000, "candidatesTokenCount": 1000})
    long = from_gemini({"promptTokenCount": 200_001, "candidatesTokenCount": 1000})
    assert prices.cost_usd("gcp.gemini", "gemini-2.5-pro", short) == (
        200_000 * Decimal("1.25e-6") + 1000 * Decimal("1e-5")
    )
    assert prices.cost_usd("gcp.gemini", "gemini-2.5-pro", long) == (
        200_001 * Decimal("2.5e-6") + 1000 * Decimal("1.5e-5")
    )


def test_batch_requests_use_the_catalog_batch_rates(prices: LlmPrices) -> None:
    usage = from_openai({"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000})
    cost = prices.cost_usd("openai", "gpt-4o-mini-2024-07-18", usage, batch=True)
    assert cost == Decimal("0.075") + Decimal("0.3")


def test_anthropic_batch_without_catalog_batch_price_is_half_price(prices: LlmPrices) -> None:
    usage = from_anthropic({"input_tokens": 1_000_000, "output_tokens": 1_000_000})
    standard = prices.cost_usd("anthropic", "claude-haiku-4-5-20251001", usage)
    assert prices.cost_usd("anthropic", "claude-haiku-4-5-20251001", usage, batch=True) == (
        standard / 2
    )


def test_unknown_model_raises_instead_of_pricing_at_zero(prices: LlmPrices) -> None:
    with pytest.raises(UnknownModelError, match="gpt-9-experimental"):
        prices.lookup("openai", "gpt-9-experimental")


@pytest.mark.parametrize(
    ("provider", "model", "expected_key"),
    [
        ("openai", "gpt-4o-2099-01-01", "gpt-4o"),
        (None, "openai/gpt-4o", "gpt-4o"),
        ("gcp.gemini", "gemini-2.5-pro", "gemini/gemini-2.5-pro"),
        ("aws.bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", None),
        ("aws.bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", None),
        ("azure.ai.openai", "gpt-4o", "azure/gpt-4o"),
    ],
)
def test_lookup_tolerates_dated_prefixed_and_cloud_model_ids(
    prices: LlmPrices, provider: str | None, model: str, expected_key: str | None
) -> None:
    price = prices.lookup(provider, model)
    assert price.model == (expected_key or model.lower())
    assert price.input_usd_per_token > 0


def test_bedrock_id_without_its_own_entry_resolves_to_the_claude_model(
    tmp_path: Path,
) -> None:
    path = _price_map(
        tmp_path,
        {
            "claude-test-2-20260101": {
                "litellm_provider": "anthropic",
                "input_cost_per_token": 2e-06,
                "output_cost_per_token": 8e-06,
            }
        },
    )
    price = LlmPrices.load(path).lookup("aws.bedrock", "eu.anthropic.claude-test-2-20260101-v1:0")
    assert price.model == "claude-test-2-20260101"


def test_costrail_yaml_discount_and_explicit_prices_override_the_catalog(tmp_path: Path) -> None:
    config = parse_config(
        """
llm_prices:
  overrides:
    - provider: openai
      model: gpt-4o
      discount_pct: 20
    - model: claude-sonnet-4-5-20250929
      input_usd_per_token: "0.0000025"
"""
    )
    prices = LlmPrices.load(config=config)
    discounted = prices.lookup("openai", "gpt-4o")
    assert discounted.input_usd_per_token == Decimal("0.0000025") * Decimal("0.8")
    assert discounted.source.startswith("costrail.yaml override")
    claude = prices.lookup("anthropic", "claude-sonnet-4-5-20250929")
    assert claude.input_usd_per_token == Decimal("0.0000025")
    assert claude.output_usd_per_token == Decimal("0.000015")


def test_override_prices_a_model_missing_from_the_catalog() -> None:
    config = parse_config(
        """
llm_prices:
  overrides:
    - provider: openai
      model: ft:gpt-4o:acme:support:abc123
      input_usd_per_token: "0.00000375"
      output_usd_per_token: "0.000015"
"""
    )
    price = LlmPrices.load(config=config).lookup("openai", "ft:gpt-4o:acme:support:abc123")
    assert price.output_usd_per_token == Decimal("0.000015")


def test_azure_deployment_alias_from_config_resolves_to_a_catalog_model() -> None:
    config = parse_config(
        """
llm_prices:
  aliases:
    azure.ai.openai/acme-prod-chat: azure/gpt-4o-mini
"""
    )
    price = LlmPrices.load(config=config).lookup("azure.ai.openai", "acme-prod-chat")
    assert price.model == "azure/gpt-4o-mini"


def test_worst_case_bills_all_input_at_the_dearest_rate_and_full_output(
    prices: LlmPrices,
) -> None:
    worst = prices.worst_case_usd(
        "anthropic", "claude-sonnet-4-5-20250929", input_tokens=300_000, max_output_tokens=4096
    )
    # long-context tier; a 1-hour cache write ($12/M above 200k) is the dearest input rate
    assert worst == 300_000 * Decimal("1.2e-5") + 4096 * Decimal("2.25e-5")


def test_price_map_validation_names_the_bad_entry_and_field() -> None:
    text = json.dumps({"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": "cheap"}})
    with pytest.raises(InputError, match=r"entry 'gpt-4o'.*input_cost_per_token") as caught:
        parse_price_map(text, file="new.json")
    assert caught.value.column == "gpt-4o.input_cost_per_token"


def test_prices_update_installs_a_valid_map_used_by_later_loads(tmp_path: Path) -> None:
    path = _price_map(
        tmp_path,
        {"acme-llm-1": {"litellm_provider": "openai", "input_cost_per_token": 1e-06}},
    )
    result = CliRunner().invoke(app, ["prices", "update", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entries"] == 1
    assert (
        LlmPrices.load().lookup("openai", "acme-llm-1").source.startswith("price map prices.json")
    )


def test_prices_update_rejects_a_file_that_is_not_a_price_map(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text('[{"model": "gpt-4o"}]', encoding="utf-8")
    result = CliRunner().invoke(app, ["prices", "update", str(path)])
    assert result.exit_code == 3
    assert "JSON object keyed by model name" in result.output
    assert not (tmp_path / "data" / "llm_prices.json").exists()


def test_prices_show_json_prints_per_token_prices_as_exact_strings() -> None:
    result = CliRunner().invoke(app, ["prices", "show", "gpt-4o", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["output_usd_per_token"] == "0.00001"


def test_prices_show_exits_3_for_an_unknown_model() -> None:
    result = CliRunner().invoke(app, ["prices", "show", "gpt-9-experimental"])
    assert result.exit_code == 3


def test_config_catalog_path_is_relative_to_costrail_yaml(tmp_path: Path) -> None:
    _price_map(
        tmp_path,
        {"acme-llm-2": {"litellm_provider": "openai", "input_cost_per_token": 2e-06}},
    )
    config = parse_config("llm_prices:\n  catalog: prices.json\n", tmp_path / "costrail.yaml")
    price = LlmPrices.load(config=config).lookup("openai", "acme-llm-2")
    assert price.input_usd_per_token == Decimal("0.000002")
