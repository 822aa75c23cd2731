"""Model-downgrade candidates: short-output, classification-like work on premium models.

A feature whose answers are a handful of tokens (p95 output ≤ 20 by default: labels, yes/no,
extracted IDs) rarely needs a frontier model. The saving re-prices the feature's own tokens on
the cheaper model of the same provider and family (`Thresholds.llm_downgrade_map`, e.g.
gpt-4o → gpt-4o-mini, Claude Sonnet/Opus → Haiku, Gemini Pro → Flash) from the catalog. It is a
candidate, not a certainty: quality must be checked before switching, so confidence is low or
medium and the remediation says how to A/B test it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ibis

from costrail.analyses.base import AnalysisContext, Thresholds, analyses
from costrail.analyses.llm_common import (
    LlmWindow,
    TokenTotals,
    catalog,
    feature_resource,
    feature_scope,
    llm_findings,
    lookup,
    money,
    python_rows,
    rate_evidence,
    rates_for,
    seen_bounds,
    token_sums,
    window_evidence,
)
from costrail.findings import Finding, Remediation

KIND = "llm_model_downgrade"
#: fewer requests than this are too few to judge a feature's outputs
MIN_REQUESTS = 100
#: p95 output at or below this many tokens reads as a label: medium confidence
LABEL_TOKENS = 5


def cheaper_model(thresholds: Thresholds, model: str) -> str | None:
    """The configured cheaper model for `model` (longest matching name prefix), if any."""
    name = model.rsplit("/", 1)[-1].lower()
    matches = [
        (source, target)
        for source, target in thresholds.llm_downgrade_map
        if name.startswith(source) and not name.startswith(target)
    ]
    if not matches:
        return None
    return max(matches, key=lambda pair: len(pair[0]))[1]


def feature_rows(window: LlmWindow) -> list[dict[str, Any]]:
    """Per (provider, model, feature, batch): requests, p95 output tokens, token sums."""
    table = window.requests
    table = table.filter(table.status.isnull() | (table.status == "ok"))
    table = table.mutate(batch=table.batch.fill_null(False))
    grouped = table.group_by(["provider", "model", "feature", "batch"]).aggregate(
        requests=table.count(),
        p95_output_tokens=table.output_tokens.fill_null(0).quantile(0.95),
        max_output_tokens=table.output_tokens.max(),
        operation=table.operation.max(),
        **seen_bounds(table),
        **token_sums(table),
    )
    return python_rows(grouped.order_by(ibis.desc("requests")))


def _finding(
    window: LlmWindow, thresholds: Thresholds, rows: list[dict[str, Any]], target: str
) -> Finding | None:
    first = rows[0]
    provider, model, feature = first["provider"], first["model"], first["feature"]
    prices = catalog()
    current, cheaper = lookup(prices, provider, model), lookup(prices, provider, target)
    if current is None or cheaper is None:
        return None
    now_usd = then_usd = Decimal(0)
    for row in rows:
        tokens, requests, batch = TokenTotals.of(row), int(row["requests"]), bool(row["batch"])
        now_usd += rates_for(current, tokens, requests, batch).cost_usd(tokens.usage())
        then_usd += rates_for(cheaper, tokens, requests, batch).cost_usd(tokens.usage())
    monthly = money(window.monthly(now_usd - then_usd))
    if monthly < thresholds.min_monthly_savings_usd or then_usd >= now_usd:
        return None
    requests = sum(int(r["requests"]) for r in rows)
    p95 = max(float(r["p95_output_tokens"] or 0) for r in rows)
    totals = TokenTotals.of({k: sum(int(r[k] or 0) for r in rows) for k in first if "tokens" in k})
    label_like = p95 <= LABEL_TOKENS
    return Finding(
        kind=KIND,
        title=f"{feature or 'Unnamed feature'} sends short-output work to {model}: "
        f"{target} would cost {then_usd / now_usd:.0%} as much",
        provider=provider,
        resources=(feature_resource(provider, model, feature),),
        monthly_savings_usd=monthly,
        monthly_cost_usd=money(window.monthly(now_usd)),
        confidence="medium" if label_like else "low",
        confidence_reason=f"p95 output is {p95:.0f} tokens over {requests:,} requests "
        "(classification/extraction-like), but answer quality on the cheaper model is "
        "unmeasured: A/B test before switching",
        remediation=Remediation(
            action=f"Evaluate {target} on this feature before switching: replay a labelled eval "
            "set through both models, then shadow live traffic (log both answers, serve the "
            "current one), then canary 5–10 % of requests, comparing accuracy and escalations. "
            "Switch with a gateway alias so rollback is one line.",
            snippet=(
                "# costrail.yaml — gateway route alias: the app keeps asking for the old name\n"
                "guard:\n"
                "  aliases:\n"
                f'    "{model}": "{target}"   # feature {feature}; canary first, then 100 %'
            ),
            snippet_kind="yaml",
        ),
        scope=feature_scope(provider, model, feature),
        evidence={
            **window_evidence(window),
            "requests": requests,
            "p95_output_tokens": p95,
            "max_output_tokens": max(int(r["max_output_tokens"] or 0) for r in rows),
            "tokens": totals.as_evidence(),
            "cost_in_window_usd": money(now_usd),
            "cost_on_cheaper_model_usd": money(then_usd),
            "cheaper_model": target,
            "prices": rate_evidence(
                current, rates_for(current, totals, requests), "input", "output"
            ),
            "cheaper_prices": rate_evidence(
                cheaper, rates_for(cheaper, totals, requests), "input", "output"
            ),
        },
        assumptions={
            "max_p95_output_tokens": thresholds.llm_downgrade_max_p95_output_tokens,
            "min_requests": MIN_REQUESTS,
            "same_tokens": "the cheaper model is assumed to use the same input and output "
            "tokens (same tokenizer family)",
            "quality": "not measured by costrail",
        },
    )


def _findings(window: LlmWindow, thresholds: Thresholds) -> Iterator[Finding | None]:
    by_feature: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
    for row in feature_rows(window):
        by_feature.setdefault((row["provider"], row["model"], row["feature"]), []).append(row)
    for (_, model, _), rows in by_feature.items():
        target = cheaper_model(thresholds, model)
        requests = sum(int(r["requests"]) for r in rows)
        p95 = max(float(r["p95_output_tokens"] or 0) for r in rows)
        if target is None or requests < MIN_REQUESTS:
            continue
        if p95 > thresholds.llm_downgrade_max_p95_output_tokens:
            continue
        yield _finding(window, thresholds, rows, target)


@analyses.register(KIND)
def llm_model_downgrade(context: AnalysisContext) -> list[Finding]:
    """Short-output features on premium models → the saving on the mapped cheaper model."""
    return llm_findings(context, _findings)
