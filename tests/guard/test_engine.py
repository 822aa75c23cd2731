"""Reserve-then-settle on both state stores, driven through `GuardEngine` with a test clock."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from costrail.guard.config import GuardSection
from costrail.guard.engine import GuardCall, GuardEngine, Identity, Refused
from costrail.guard.runtime import Guard
from costrail.guard.state import GuardStore
from costrail.guard.tokens import input_token_upper_bound
from costrail.llm.usage import TokenUsage
from costrail.pricing.llm import LlmPrices


class Clock:
    def __init__(self) -> None:
        self.now_s = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture(scope="module")
def prices() -> LlmPrices:
    return LlmPrices.load()


def engine_for(store: GuardStore, prices: LlmPrices, clock: Clock) -> GuardEngine:
    settings = GuardSection.model_validate(
        {
            "budgets": [{"scope": "user", "amount_usd": "0.10", "period": "day"}],
            "reservation_lease_s": 600,
        }
    )
    return GuardEngine(settings, store, prices, clock=clock)


CALL = GuardCall(
    "openai",
    "gpt-4o",
    "chat",
    input_tokens_max=1000,
    output_tokens_max=4000,
    identity=Identity(user="ana"),
)  # worst case: $0.0025 + $0.04 = $0.0425


def test_reservation_holds_budget_until_settled(store: GuardStore, prices: LlmPrices) -> None:
    engine = engine_for(store, prices, Clock())
    engine.admit(CALL)
    engine.admit(CALL)
    with pytest.raises(Refused) as refused:
        engine.admit(CALL)
    assert refused.value.reason == "budget"


def test_settling_charges_actual_usage_and_frees_the_rest(
    store: GuardStore, prices: LlmPrices
) -> None:
    engine = engine_for(store, prices, Clock())
    admission = engine.admit(CALL)
    engine.settle(admission, TokenUsage(input_tokens=200, output_tokens=100))
    (key,) = engine.bucket_keys(CALL.identity)
    assert engine.spent_usd(key) == (Decimal("0.0015"), Decimal(0))


def test_expired_lease_stops_holding_budget(store: GuardStore, prices: LlmPrices) -> None:
    clock = Clock()
    engine = engine_for(store, prices, clock)
    engine.admit(CALL)
    engine.admit(CALL)  # both never settled: their process "crashed"
    clock.now_s += 601
    engine.admit(CALL)
    (key,) = engine.bucket_keys(CALL.identity)
    assert engine.spent_usd(key)[1] == Decimal("0.0425")


def test_stream_without_usage_is_charged_the_worst_case_never_zero(
    store: GuardStore, prices: LlmPrices
) -> None:
    engine = engine_for(store, prices, Clock())
    settlement = engine.settle(engine.admit(CALL), None)
    assert settlement.cost_usd == Decimal("0.0425")
    assert engine.counters["settled_without_usage"] == 1


def test_new_day_opens_a_new_budget(store: GuardStore, prices: LlmPrices) -> None:
    clock = Clock()
    engine = engine_for(store, prices, clock)
    engine.settle(engine.admit(CALL), None)
    engine.settle(engine.admit(CALL), None)
    clock.now_s += 86_400
    engine.admit(CALL)


def test_unknown_model_under_a_budget_is_refused_not_priced_at_zero(
    store: GuardStore, prices: LlmPrices
) -> None:
    engine = engine_for(store, prices, Clock())
    call = GuardCall("openai", "gpt-unheard-of", "chat", 10, 10, Identity(user="ana"))
    with pytest.raises(Refused) as refused:
        engine.admit(call)
    assert refused.value.reason == "unpriced"


def test_input_bound_is_at_least_the_utf8_bytes_of_the_text() -> None:
    text = "naïve café — 東京 " * 10
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    assert input_token_upper_bound(body) >= len(text.encode("utf-8"))


def test_image_part_is_charged_the_allowance_not_its_base64_size() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 100_000}}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [image]}]}
    assert input_token_upper_bound(body, media_tokens=4096) < 5000


def test_guard_from_config_prices_with_the_negotiated_overrides(tmp_path: Path) -> None:
    """A model priced only by an `llm_prices` override is admitted under a budget, at the
    override's price (without it the guard would refuse the model as unpriced)."""
    config = tmp_path / "costrail.yaml"
    config.write_text(
        "llm_prices:\n"
        "  overrides:\n"
        "    - {model: acme-tuned-1, provider: openai, input_usd_per_token: '0.000001',"
        " output_usd_per_token: '0.000002'}\n"
        "guard:\n"
        "  budgets: [{scope: key, amount_usd: '10', period: day}]\n"
        f"  store: {{kind: sqlite, path: '{tmp_path / 'guard.sqlite'}'}}\n"
    )
    guard = Guard.from_config(config, sink=lambda rows: None)
    call = GuardCall("openai", "acme-tuned-1", "chat", 1000, 500, Identity(api_key="k"))
    admission = guard.engine.admit(call)
    guard.close()
    assert admission.worst_case_usd == Decimal("0.000001") * 1000 + Decimal("0.000002") * 500
