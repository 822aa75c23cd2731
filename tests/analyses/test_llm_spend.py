"""LLM spend and unit cost by dimension on hand-built `llm_requests` rows."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses import analyses
from costrail.analyses.base import INFORMATIONAL_KINDS
from costrail.warehouse import Warehouse
from tests.analyses.llm_fixtures import llm_context, request

KIND = "llm_spend"


def test_spend_is_broken_down_by_feature_with_unit_costs(warehouse: Warehouse) -> None:
    rows = [request(i * 60, feature="chat") for i in range(10)] + [
        request(i * 60 + 1, feature="search", output_tokens=10) for i in range(5)
    ]

    [finding] = analyses.get(KIND)(llm_context(warehouse, rows))

    by_feature = {row["value"]: row for row in finding.evidence["by_feature"]}
    chat_usd = sum((r["cost_usd"] for r in rows if r["feature"] == "chat"), Decimal(0))
    assert by_feature["chat"]["requests"] == 10
    assert by_feature["chat"]["cost_usd"] == chat_usd.quantize(Decimal("0.01"))
    assert by_feature["chat"]["cost_per_1k_requests_usd"] == (chat_usd * 100).quantize(
        Decimal("0.01")
    )
    assert finding.kind in INFORMATIONAL_KINDS and finding.monthly_savings_usd == 0


def test_one_finding_per_provider(warehouse: Warehouse) -> None:
    rows = [request(0), request(1, provider="openai", model="gpt-4o", prefix=())]

    findings = analyses.get(KIND)(llm_context(warehouse, rows))

    assert sorted(f.provider for f in findings) == ["anthropic", "openai"]
