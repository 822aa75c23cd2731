"""Batch-eligible LLM traffic on hand-built `llm_requests` rows."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses import Thresholds, analyses
from costrail.analyses.llm_common import TokenTotals, catalog
from costrail.warehouse import Warehouse
from tests.analyses.llm_fixtures import llm_context, request

KIND = "llm_batch_eligible"


def _nightly(batch: bool = False, user: str = "svc-enrichment") -> list[dict[str, object]]:
    """A service account calling gpt-4.1 every 20 s from 01:00 to 03:00 for three nights."""
    return [
        request(
            night * 86_400 + 3_600 + step * 20,
            provider="openai",
            model="gpt-4.1",
            input_tokens=800,
            output_tokens=200,
            prefix=(),
            feature="nightly-enrichment",
            user=user,
            streamed=False,
            batch=batch,
        )
        for night in range(3)
        for step in range(360)
    ]


def test_machine_paced_service_account_traffic_is_priced_at_the_catalog_batch_rates(
    warehouse: Warehouse,
) -> None:
    rows = _nightly()

    [finding] = analyses.get(KIND)(llm_context(warehouse, rows))

    price = catalog().lookup("openai", "gpt-4.1")
    assert price.batch_input_usd_per_token is not None
    assert price.batch_output_usd_per_token is not None
    tokens = TokenTotals(input_tokens=800 * len(rows), output_tokens=200 * len(rows))
    expected = tokens.input_tokens * (
        price.input_usd_per_token - price.batch_input_usd_per_token
    ) + tokens.output_tokens * (price.output_usd_per_token - price.batch_output_usd_per_token)
    assert finding.evidence["cost_in_window_usd"] - finding.evidence[
        "batch_cost_in_window_usd"
    ] == pytest_approx_cents(expected)
    assert finding.resources == ("llm:openai/gpt-4.1/feature=nightly-enrichment",)


def pytest_approx_cents(amount: Decimal) -> Decimal:
    """Both evidence figures are rounded to cents, so their difference may be a cent off."""
    return amount.quantize(Decimal("0.01"))


def test_requests_already_batched_are_excluded(warehouse: Warehouse) -> None:
    assert analyses.get(KIND)(llm_context(warehouse, _nightly(batch=True))) == []


def test_people_arriving_at_random_in_business_hours_are_not_flagged(
    warehouse: Warehouse,
) -> None:
    rows = [
        request(
            day * 86_400 + 9 * 3_600 + (step * step * 37) % 36_000,
            provider="openai",
            model="gpt-4.1",
            input_tokens=800,
            prefix=(),
            feature="chat",
            user=f"user-{step % 7}",
            streamed=step % 3 == 0,
        )
        for day in range(5)
        for step in range(200)
    ]

    assert analyses.get(KIND)(llm_context(warehouse, rows)) == []


def test_a_feature_configured_batch_tolerant_is_eligible_whatever_its_pace(
    warehouse: Warehouse,
) -> None:
    rows = [
        request(
            s * 977 % 86_400,
            provider="openai",
            model="gpt-4.1",
            prefix=(),
            feature="reports",
            user="alice",
            streamed=False,
        )
        for s in range(300)
    ]
    thresholds = Thresholds(
        min_monthly_savings_usd=Decimal(0), llm_batch_tolerant=("feature=reports",)
    )

    [finding] = analyses.get(KIND)(llm_context(warehouse, rows, thresholds))

    assert finding.confidence == "high"


def test_a_model_without_batch_prices_gets_no_invented_discount(warehouse: Warehouse) -> None:
    rows = [{**row, "provider": "anthropic", "model": "claude-sonnet-4-5"} for row in _nightly()]
    assert catalog().lookup("anthropic", "claude-sonnet-4-5").batch_input_usd_per_token is None

    assert analyses.get(KIND)(llm_context(warehouse, rows)) == []
