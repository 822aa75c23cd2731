"""What the LLM analyses share: the window over `llm_requests`, catalog prices, resource IDs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, Thresholds
from costrail.config import load_config
from costrail.findings import Finding
from costrail.llm.usage import TokenUsage
from costrail.pricing.llm import LlmPrices, ModelPrice, TierRates, UnknownModelError
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.warehouse.store import Warehouse

#: a context whose costs table is empty has its window end at the epoch
_NO_COSTS_BEFORE = datetime(1971, 1, 1)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LlmWindow:
    """The requests an LLM analysis judges, and how many days of traffic they cover.

    The window is the context's (the last `lookback_days` before the newest charge); when the
    warehouse holds no bills it is the `lookback_days` before the newest request. Amounts are
    scaled to a 30-day month by the days the requests actually cover inside the window (from
    the first request, or the window start if earlier, to the window end), so two weeks of
    telemetry are not read as a quiet month.
    """

    requests: ir.Table
    start: datetime
    end: datetime
    covered_days: Decimal

    def monthly(self, amount_usd: Decimal) -> Decimal:
        if self.covered_days <= 0:
            return Decimal(0)
        return amount_usd * Decimal(30) / self.covered_days


def llm_window(context: AnalysisContext) -> LlmWindow | None:
    """The window's requests, or None when the warehouse has no LLM requests in it."""
    table = context.llm_requests
    if table is None:
        return None
    end, start = context.window_end, context.window_start
    if end.replace(tzinfo=None) < _NO_COSTS_BEFORE:
        newest = table.time.max().to_pyarrow().as_py()
        if newest is None:
            return None
        end = newest + timedelta(microseconds=1)
        start = end - timedelta(days=context.thresholds.lookback_days)
    requests = table.filter(table.time >= start, table.time < end)
    first = requests.time.min().to_pyarrow().as_py()
    if first is None:
        return None
    covered = end - max(start, first)
    return LlmWindow(requests, start, end, Decimal(covered.total_seconds()) / Decimal(86400))


@cache
def catalog() -> LlmPrices:
    """The LLM price catalog with costrail.yaml's `llm_prices` overrides and aliases — the
    prices ingestion used (loaded once per process)."""
    return LlmPrices.load(config=load_config())


def lookup(prices: LlmPrices, provider: str, model: str) -> ModelPrice | None:
    """The model's prices, or None when the catalog does not know it (the caller warns)."""
    try:
        return prices.lookup(provider, model)
    except UnknownModelError:
        return None


@dataclass
class TokenTotals:
    """Summed tokens of a group of requests, in the OTel convention of `llm_requests`."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> TokenTotals:
        return cls(**{name: int(row.get(name) or 0) for name in TOKEN_COLUMNS})

    def usage(self) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens,
            cached_input_tokens=self.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens,
            output_tokens=self.output_tokens,
        )

    def as_evidence(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in TOKEN_COLUMNS}


TOKEN_COLUMNS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
)


def token_sums(table: ir.Table) -> dict[str, ir.Value]:
    """Aggregations summing every token column (nulls count as 0)."""
    return {name: table[name].fill_null(0).sum() for name in TOKEN_COLUMNS}


def seen_bounds(table: ir.Table) -> dict[str, ir.Value]:
    """Aggregations of a group's first and last request time (`first_seen`, `last_seen`)."""
    return {"first_seen": table.time.min(), "last_seen": table.time.max()}


def python_rows(table: ir.Table) -> list[dict[str, Any]]:
    """A small grouped result brought to Python, one dict per row."""
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()
    return rows


def rates_for(
    price: ModelPrice, tokens: TokenTotals, requests: int, batch: bool = False
) -> TierRates:
    """The tier a group of requests is priced at: that of its average request (long-context
    tiers depend on one request's input, never on a sum of many)."""
    average_input = tokens.input_tokens // max(requests, 1)
    return price.rates(average_input, batch=batch)


def rate_evidence(price: ModelPrice, rates: TierRates, *names: str) -> dict[str, Any]:
    """The per-million-token rates a finding used, and where the catalog got them."""
    evidence: dict[str, Any] = {
        f"{name}_usd_per_mtok": getattr(rates, name) * Decimal(1_000_000) for name in names
    }
    evidence["model"] = price.model
    evidence["price_source"] = price.source or "costrail LLM price catalog"
    return evidence


def feature_resource(provider: str, model: str, feature: str | None) -> str:
    """`llm:<provider>/<model>/feature=<f>`: the ID LLM findings on a feature's traffic use."""
    return f"llm:{provider}/{model}/feature={feature or '(none)'}"


def feature_scope(provider: str, model: str, feature: str | None) -> dict[str, str]:
    """The scope of a finding on one feature's traffic to one model."""
    return {"provider": provider, "model": model, "feature": feature or "(none)"}


def key_resource(api_key: str | None) -> str:
    """`llm:key=<id>`: the ID of an API key (an alias or hash, never the secret)."""
    return f"llm:key={api_key or '(none)'}"


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


def window_evidence(window: LlmWindow) -> dict[str, Any]:
    return {
        "window_start": window.start,
        "window_end": window.end,
        "covered_days": window.covered_days.quantize(Decimal("0.01")),
    }


#: one analysis over a window: its findings, None where a candidate came to nothing
WindowFindings = Callable[[LlmWindow, Thresholds], Iterable[Finding | None]]


def llm_findings(context: AnalysisContext, find: WindowFindings) -> list[Finding]:
    """`find` over the context's LLM window, largest saving first (empty without requests)."""
    window = llm_window(context)
    if window is None:
        return []
    found = [f for f in find(window, context.thresholds) if f is not None]
    return sorted(found, key=lambda f: f.monthly_savings_usd, reverse=True)


def llm_requests_of(warehouse: Warehouse) -> ir.Table | None:
    """The warehouse's `llm_requests` table, or None when it holds no request (so the LLM
    analyses stay silent on a bills-only warehouse)."""
    table = warehouse.read("llm_requests", LLM_REQUESTS_SCHEMA)
    return table if int(table.count().to_pyarrow().as_py()) > 0 else None
