"""LLM API spend and unit cost by model, user, team, feature and key (informational findings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, analyses
from costrail.analyses.llm_common import LlmWindow, llm_window, money, window_evidence
from costrail.findings import Finding, Remediation
from costrail.schema.costs import MONEY

KIND = "llm_spend"
DIMENSIONS = ("model", "feature", "team", "user", "api_key")
#: rows listed per dimension in the evidence (the rest are summed as "(others)")
TOP_ROWS = 15


def _measures(table: ir.Table) -> dict[str, ir.Value]:
    unpriced = table.cost_usd.isnull() | (table.cost_source == "unpriced")
    return {
        "requests": table.count(),
        "input_tokens": table.input_tokens.fill_null(0).sum(),
        "output_tokens": table.output_tokens.fill_null(0).sum(),
        "cost_usd": table.cost_usd.fill_null(0).sum().cast(MONEY),
        "unpriced_requests": unpriced.cast("int64").sum(),
    }


def _breakdown(window: LlmWindow, dimension: str) -> dict[str, list[dict[str, Any]]]:
    """Per provider: the dimension's values with their requests, tokens and dollars."""
    table = window.requests
    grouped = table.group_by(
        provider=table.provider, value=table[dimension].fill_null("(none)")
    ).aggregate(**_measures(table))
    records = grouped.order_by([ibis.desc("cost_usd"), "value"]).to_pyarrow().to_pylist()
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_provider.setdefault(record["provider"], []).append(_unit_costs(window, record))
    return by_provider


def _unit_costs(window: LlmWindow, record: dict[str, Any]) -> dict[str, Any]:
    cost = Decimal(record["cost_usd"] or 0)
    requests = int(record["requests"])
    tokens = int(record["input_tokens"] or 0) + int(record["output_tokens"] or 0)
    return {
        "value": record.get("value"),
        "requests": requests,
        "input_tokens": int(record["input_tokens"] or 0),
        "output_tokens": int(record["output_tokens"] or 0),
        "cost_usd": money(cost),
        "monthly_cost_usd": money(window.monthly(cost)),
        "cost_per_1k_requests_usd": money(cost * 1000 / requests) if requests else None,
        "cost_per_mtok_usd": money(cost * 1_000_000 / tokens) if tokens else None,
        "unpriced_requests": int(record["unpriced_requests"] or 0),
    }


def _top(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rows) <= TOP_ROWS:
        return rows
    rest = rows[TOP_ROWS:]
    others = {
        "value": f"(others: {len(rest)})",
        "requests": sum(r["requests"] for r in rest),
        "cost_usd": sum((r["cost_usd"] for r in rest), Decimal(0)),
        "monthly_cost_usd": sum((r["monthly_cost_usd"] for r in rest), Decimal(0)),
    }
    return [*rows[:TOP_ROWS], others]


def _finding(
    window: LlmWindow, total: dict[str, Any], breakdowns: dict[str, list[dict[str, Any]]]
) -> Finding:
    provider = total["value"]
    monthly = total["monthly_cost_usd"]
    top_model = breakdowns["model"][0]["value"] if breakdowns["model"] else "?"
    warnings: tuple[str, ...] = ()
    if total["unpriced_requests"]:
        warnings = (
            f"{total['unpriced_requests']} requests have no price (model missing from the "
            "catalog): their cost is not in these totals",
        )
    return Finding(
        kind=KIND,
        title=f"{provider} LLM API spend: ${monthly:,}/month over {total['requests']:,} "
        f"requests (most on {top_model})",
        provider=provider,
        resources=(),
        monthly_savings_usd=Decimal(0),
        monthly_cost_usd=monthly,
        confidence="high",
        confidence_reason="summed from per-request costs (provider-reported or catalog-priced)",
        remediation=Remediation(
            action="Review the biggest models, features and keys; set budgets per key or "
            "feature in the costrail guard; see the caching, batch, downgrade and runaway "
            "findings for the savings in this traffic.",
            snippet=f"costrail findings --kind llm_spend --json  # provider {provider}",
            snippet_kind="costrail",
        ),
        scope={"provider": provider},
        evidence={
            **window_evidence(window),
            "total": total,
            **{f"by_{dimension}": _top(rows) for dimension, rows in breakdowns.items()},
        },
        assumptions={
            "cost": "the cost_usd of each request as ingested (cost_source says whether the "
            "provider reported it or costrail priced it from the catalog)",
            "monthly": "window spend × 30 / days of traffic in the window",
        },
        warnings=warnings,
    )


@analyses.register(KIND)
def llm_spend(context: AnalysisContext) -> list[Finding]:
    """One informational finding per LLM provider: spend and unit costs broken down."""
    window = llm_window(context)
    if window is None:
        return []
    totals = _breakdown(window, "provider")
    per_dimension = {dimension: _breakdown(window, dimension) for dimension in DIMENSIONS}
    findings = []
    for provider, rows in totals.items():
        breakdowns = {d: per_dimension[d].get(provider, []) for d in DIMENSIONS}
        findings.append(_finding(window, rows[0], breakdowns))
    return sorted(findings, key=lambda f: f.monthly_cost_usd or Decimal(0), reverse=True)
