"""Prompt-caching opportunity: prompt prefixes resent within the provider's cache TTL, uncached.

Each request carries hashes of its prompt's leading token blocks (`prefix_hashes`, shortest
first, with the tokens each covers in `prefix_tokens`). A request whose prefix was already sent
to the same provider and model within the cache TTL would have read that prefix from the cache
(at the catalog's cached-input rate) instead of paying full input. With the TTL refreshed on
every use (Anthropic: 5 minutes; OpenAI: in-memory 5–10 minutes), "within the TTL" means
within the TTL of the *previous* request with that prefix — one window function in Ibis.

Net of write premiums: with a cache breakpoint at the longest shared prefix, every request that
misses the cache writes that prefix, at the catalog's cache-write rate (Anthropic: 1.25× input
for the 5-minute TTL, 2× for 1 hour; OpenAI and Gemini: no premium). Tokens the provider
already reported as cached reads or writes are never claimed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, Thresholds, analyses
from costrail.analyses.llm_common import (
    LlmWindow,
    catalog,
    feature_resource,
    feature_scope,
    llm_findings,
    lookup,
    money,
    python_rows,
    rate_evidence,
    seen_bounds,
    window_evidence,
)
from costrail.findings import Finding, Remediation
from costrail.pricing.llm import LlmPrices, ModelPrice

KIND = "llm_prompt_caching"
DEFAULT_TTL_S = 300
#: prefixes listed per finding in the evidence
TOP_PREFIXES = 10


def ttl_s(thresholds: Thresholds, provider: str) -> int:
    return dict(thresholds.llm_cache_ttl_s).get(provider, DEFAULT_TTL_S)


def _ttl_expression(thresholds: Thresholds, provider: ir.StringValue) -> ir.IntegerValue:
    cases = [(provider == name, seconds) for name, seconds in thresholds.llm_cache_ttl_s]
    if not cases:
        return ibis.literal(DEFAULT_TTL_S)
    return ibis.cases(*cases, else_=DEFAULT_TTL_S)


def _with_request_key(table: ir.Table) -> ir.Table:
    """`table` with `_rid`: a request's ID (else its span's) and time, to join prefixes back."""
    return table.mutate(
        _rid=ibis.coalesce(table.request_id, table.span_id, ibis.literal(""))
        .concat("|")
        .concat(table.time.cast("string"))
    )


def prefix_uses(window: LlmWindow, thresholds: Thresholds) -> ir.Table:
    """One row per (request, cacheable prefix) with when that prefix was last sent before."""
    table = window.requests
    table = table.filter(
        table.prefix_hashes.length() > 0,
        table.status.isnull() | (table.status == "ok"),
    )
    table = _with_request_key(table)
    exploded = table.select(
        "_rid",
        "time",
        "provider",
        "model",
        _pair=table.prefix_hashes.zip(table.prefix_tokens).unnest(),
    )
    exploded = exploded.mutate(prefix=exploded._pair.f1, tokens=exploded._pair.f2).drop("_pair")
    is_haiku = exploded.model.lower().contains("haiku")
    minimum = is_haiku.ifelse(
        thresholds.llm_cache_min_tokens_haiku, thresholds.llm_cache_min_tokens
    )
    exploded = exploded.filter(exploded.tokens >= minimum)
    same_prefix = ["provider", "model", "prefix"]
    previous = exploded.time.lag().over(ibis.window(group_by=same_prefix, order_by="time"))
    uses = exploded.count().over(ibis.window(group_by=same_prefix))
    gap_s = exploded.time.epoch_seconds() - previous.epoch_seconds()
    ttl = _ttl_expression(thresholds, exploded.provider)
    hit = previous.notnull() & (gap_s <= ttl)
    return exploded.mutate(
        _hit_tokens=hit.ifelse(exploded.tokens, 0),
        _shared_tokens=(uses >= 2).ifelse(exploded.tokens, 0),
    )


def per_request(window: LlmWindow, thresholds: Thresholds) -> ir.Table:
    """Per request: tokens that would have been read from the cache, and the prefix to cache."""
    uses = prefix_uses(window, thresholds)
    best = uses.group_by(["_rid", "provider", "model"]).aggregate(
        hit_tokens=uses._hit_tokens.max(),
        shared_tokens=uses._shared_tokens.max(),
        prefix=uses.prefix.argmax(uses._shared_tokens),
    )
    table = window.requests
    table = _with_request_key(table)
    facts = table.select(
        "_rid",
        "time",
        "feature",
        "api_key",
        input_tokens=table.input_tokens.fill_null(0),
        already_cached=table.cached_input_tokens.fill_null(0)
        + table.cache_write_tokens.fill_null(0)
        + table.cache_write_1h_tokens.fill_null(0),
    )
    joined = best.filter(best.shared_tokens > 0).join(facts, "_rid")
    claim_hit = ibis.greatest(joined.hit_tokens - joined.already_cached, 0)
    claim_write = ibis.greatest(
        joined.shared_tokens - ibis.greatest(joined.hit_tokens, joined.already_cached), 0
    )
    return joined.mutate(claim_hit=claim_hit, claim_write=claim_write)


def prefix_summaries(window: LlmWindow, thresholds: Thresholds) -> list[dict[str, Any]]:
    """Per (provider, model, longest shared prefix): requests, hits, tokens (to Python)."""
    requests = per_request(window, thresholds)
    grouped = requests.group_by(["provider", "model", "prefix"]).aggregate(
        feature=requests.feature.max(),
        features=requests.feature.nunique(),
        api_keys=requests.api_key.nunique(),
        requests=requests.count(),
        hit_requests=(requests.claim_hit > 0).cast("int64").sum(),
        hit_tokens=requests.claim_hit.sum(),
        write_tokens=requests.claim_write.sum(),
        already_cached_tokens=requests.already_cached.sum(),
        prefix_tokens=requests.shared_tokens.max(),
        input_tokens=requests.input_tokens.sum(),
        **seen_bounds(requests),
    )
    return python_rows(grouped)


def _net_savings_usd(
    row: dict[str, Any], price: ModelPrice, thresholds: Thresholds
) -> tuple[Decimal, dict[str, Any]]:
    """Dollars the prefix's hits save minus the premium its misses pay to write it."""
    average_input = int(row["input_tokens"]) // max(int(row["requests"]), 1)
    rates = price.rates(average_input)
    one_hour = ttl_s(thresholds, row["provider"]) > DEFAULT_TTL_S
    write_rate = rates.cache_write_1h if one_hour else rates.cache_write
    hit_saving = Decimal(int(row["hit_tokens"])) * (rates.input - rates.cached_input)
    write_premium = Decimal(int(row["write_tokens"])) * max(write_rate - rates.input, Decimal(0))
    names = ("input", "cached_input", "cache_write_1h" if one_hour else "cache_write")
    return hit_saving - write_premium, {
        **rate_evidence(price, rates, *names),
        "hit_saving_usd": hit_saving,
        "write_premium_usd": write_premium,
    }


def _snippet(provider: str, model: str) -> tuple[str, str]:
    if provider in ("anthropic", "aws.bedrock", "gcp.vertex_ai") or "claude" in model:
        return (
            "client.messages.create(\n"
            f'    model="{model}",\n'
            "    system=[{\n"
            '        "type": "text",\n'
            '        "text": LONG_SHARED_SYSTEM_PROMPT,\n'
            '        "cache_control": {"type": "ephemeral"},  # or {"type": "ephemeral", '
            '"ttl": "1h"}\n'
            "    }],\n"
            "    messages=messages,\n"
            "    max_tokens=1024,\n"
            ")",
            "python",
        )
    return (
        "# OpenAI caches prefixes of 1,024+ tokens automatically: keep the shared part first and\n"
        "# byte-identical, the per-request part last, and pin related calls to one cache shard\n"
        f'client.responses.create(model="{model}", input=messages,\n'
        '                        prompt_cache_key="<feature-or-tenant>")',
        "python",
    )


def _finding(
    window: LlmWindow,
    thresholds: Thresholds,
    key: tuple[str, str, str | None],
    priced: list[tuple[dict[str, Any], Decimal, dict[str, Any]]],
    price: ModelPrice,
) -> Finding:
    provider, model, feature = key
    net_usd = sum((saving for _, saving, _ in priced), Decimal(0))
    hits = sum(int(row["hit_tokens"]) for row, _, _ in priced)
    writes = sum(int(row["write_tokens"]) for row, _, _ in priced)
    requests = sum(int(row["requests"]) for row, _, _ in priced)
    hit_requests = sum(int(row["hit_requests"]) for row, _, _ in priced)
    monthly = money(window.monthly(net_usd))
    snippet, snippet_kind = _snippet(provider, model)
    ordered = sorted(priced, key=lambda item: item[1], reverse=True)
    return Finding(
        kind=KIND,
        title=f"Prompt caching on {model} ({feature or 'no feature'}): {hits:,} input tokens "
        f"resent within the cache TTL without a cache hit",
        provider=provider,
        resources=(feature_resource(provider, model, feature),),
        monthly_savings_usd=monthly,
        confidence="high" if hit_requests >= 100 else "medium",
        confidence_reason="prefix hashes show the same leading tokens sent again within the "
        "provider's cache TTL; the saving is priced from the catalog's cached-input and "
        "cache-write rates",
        remediation=Remediation(
            action="Put the shared prefix first and mark it cacheable (Anthropic: a "
            "cache_control breakpoint at its end; OpenAI/Gemini: keep it byte-identical so "
            "automatic caching hits).",
            snippet=snippet,
            snippet_kind=snippet_kind,
        ),
        scope=feature_scope(provider, model, feature),
        evidence={
            **window_evidence(window),
            "requests_with_shared_prefix": requests,
            "requests_that_would_hit": hit_requests,
            "tokens_that_would_be_cache_hits": hits,
            "tokens_written_to_cache_on_misses": writes,
            "net_saving_in_window_usd": money(net_usd),
            "prices": {
                k: v
                for k, v in ordered[0][2].items()
                if k.endswith("_per_mtok") or k in ("model", "price_source")
            },
            "prefixes": [
                {
                    "prefix_hash": row["prefix"],
                    "prefix_tokens": int(row["prefix_tokens"]),
                    "requests": int(row["requests"]),
                    "hit_requests": int(row["hit_requests"]),
                    "hit_tokens": int(row["hit_tokens"]),
                    "write_tokens": int(row["write_tokens"]),
                    "already_cached_tokens": int(row["already_cached_tokens"]),
                    "first_seen": row["first_seen"],
                    "last_seen": row["last_seen"],
                    "net_saving_usd": money(saving),
                    "hit_saving_usd": money(detail["hit_saving_usd"]),
                    "write_premium_usd": money(detail["write_premium_usd"]),
                }
                for row, saving, detail in ordered[:TOP_PREFIXES]
            ],
        },
        assumptions={
            "cache_ttl_s": ttl_s(thresholds, provider),
            "ttl_refreshed_on_hit": True,
            "min_cacheable_tokens": thresholds.llm_cache_min_tokens,
            "min_cacheable_tokens_haiku": thresholds.llm_cache_min_tokens_haiku,
            "breakpoint": "at each request's longest prefix that another request shares",
            "already_cached": "tokens reported as cached reads or writes are not claimed",
            "errors": "failed requests neither hit nor fill the cache",
        },
    )


def _findings(window: LlmWindow, thresholds: Thresholds) -> Iterator[Finding]:
    prices = catalog()
    by_feature: dict[tuple[str, str, str | None], list[Any]] = {}
    models: dict[tuple[str, str], ModelPrice | None] = {}
    for row in prefix_summaries(window, thresholds):
        price = _price(prices, models, row["provider"], row["model"])
        if price is None:
            continue
        saving, detail = _net_savings_usd(row, price, thresholds)
        if saving > 0:
            key = (row["provider"], row["model"], row["feature"])
            by_feature.setdefault(key, []).append((row, saving, detail))
    for key, priced in by_feature.items():
        price = models[(key[0], key[1])]
        assert price is not None
        finding = _finding(window, thresholds, key, priced, price)
        if finding.monthly_savings_usd >= thresholds.min_monthly_savings_usd:
            yield finding


@analyses.register(KIND)
def llm_prompt_caching(context: AnalysisContext) -> list[Finding]:
    """Per (provider, model, feature): the net saving of caching its repeated prefixes."""
    return llm_findings(context, _findings)


def _price(
    prices: LlmPrices,
    cache: dict[tuple[str, str], ModelPrice | None],
    provider: str,
    model: str,
) -> ModelPrice | None:
    if (provider, model) not in cache:
        cache[(provider, model)] = lookup(prices, provider, model)
    return cache[(provider, model)]
