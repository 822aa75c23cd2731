"""Model-downgrade candidates on hand-built `llm_requests` rows."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses import Thresholds, analyses
from costrail.analyses.llm_common import catalog
from costrail.analyses.llm_downgrade import cheaper_model
from costrail.warehouse import Warehouse
from tests.analyses.llm_fixtures import llm_context, request

KIND = "llm_model_downgrade"


def _classifier(output_tokens: int, model: str = "gpt-4o") -> list[dict[str, object]]:
    return [
        request(
            step * 60,
            provider="openai",
            model=model,
            input_tokens=600,
            output_tokens=output_tokens,
            prefix=(),
            feature="ticket-classifier",
        )
        for step in range(300)
    ]


def test_short_output_feature_on_a_premium_model_is_repriced_on_the_cheaper_one(
    warehouse: Warehouse,
) -> None:
    [finding] = analyses.get(KIND)(llm_context(warehouse, _classifier(output_tokens=3)))

    current = catalog().lookup("openai", "gpt-4o")
    cheaper = catalog().lookup("openai", "gpt-4o-mini")
    per_request = 600 * (current.input_usd_per_token - cheaper.input_usd_per_token) + 3 * (
        current.output_usd_per_token - cheaper.output_usd_per_token
    )
    assert finding.evidence["cheaper_model"] == "gpt-4o-mini"
    assert finding.monthly_savings_usd == (300 * per_request).quantize(Decimal("0.01"))
    assert finding.confidence in ("low", "medium")
    assert "canary" in finding.remediation.action and "shadow" in finding.remediation.action


def test_long_output_feature_is_not_a_candidate(warehouse: Warehouse) -> None:
    assert analyses.get(KIND)(llm_context(warehouse, _classifier(output_tokens=400))) == []


def test_a_feature_already_on_the_cheaper_model_is_not_a_candidate(
    warehouse: Warehouse,
) -> None:
    rows = _classifier(output_tokens=3, model="gpt-4o-mini")

    assert analyses.get(KIND)(llm_context(warehouse, rows)) == []


def test_the_map_picks_the_longest_matching_premium_name() -> None:
    thresholds = Thresholds()

    assert cheaper_model(thresholds, "claude-sonnet-4-5-20250929") == "claude-haiku-4-5"
    assert cheaper_model(thresholds, "gemini-2.5-pro") == "gemini-2.5-flash"
    assert cheaper_model(thresholds, "gpt-4o-mini") is None
