"""Hand-built `llm_requests` rows, stored through the warehouse, and a context over them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa

from costrail.analyses import AnalysisContext, Thresholds
from costrail.analyses.llm_common import catalog
from costrail.llm.usage import TokenUsage
from costrail.schema.costs import COSTS_SCHEMA
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.warehouse import Warehouse

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
END = START + timedelta(days=30)


def request(
    seconds: float,
    *,
    provider: str = "anthropic",
    model: str = "claude-sonnet-4-5",
    input_tokens: int = 12_000,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    output_tokens: int = 300,
    prefix: tuple[tuple[str, int], ...] = (("sys-a", 10_240),),
    feature: str = "support-chat",
    api_key: str = "key-app",
    user: str = "u1",
    batch: bool = False,
    streamed: bool = True,
    status: str = "ok",
    request_id: str | None = None,
) -> dict[str, Any]:
    """One request `seconds` after START, priced from the catalog like a reader would."""
    usage = TokenUsage(
        input_tokens=input_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        output_tokens=output_tokens,
    )
    cost = catalog().cost_usd(provider, model, usage, batch=batch) if status == "ok" else 0
    return {
        "time": START + timedelta(seconds=seconds),
        "request_id": request_id or f"req-{provider}-{seconds}-{feature}-{api_key}",
        "provider": provider,
        "model": model,
        "operation": "chat",
        "input_tokens": input_tokens,
        "cached_input_tokens": cached_input_tokens,
        "cache_write_tokens": cache_write_tokens,
        "cache_write_1h_tokens": 0,
        "output_tokens": output_tokens,
        "reasoning_tokens": 0,
        "batch": batch,
        "streamed": streamed,
        "latency_ms": 900.0,
        "status": status,
        "http_status": 200 if status == "ok" else 429,
        "cost_usd": Decimal(cost),
        "cost_source": "catalog",
        "user": user,
        "team": "support",
        "feature": feature,
        "api_key": api_key,
        "prefix_hashes": [h for h, _ in prefix],
        "prefix_tokens": [t for _, t in prefix],
        "prompt_text": None,
        "trace_id": None,
        "span_id": None,
        "source": "otel",
        "source_file": "test",
        "ingest_id": "test",
    }


def stored(warehouse: Warehouse, rows: list[dict[str, Any]]) -> Any:
    """The rows written to and read back from the warehouse's `llm_requests` table."""
    arrow = pa.Table.from_pylist(rows, schema=LLM_REQUESTS_SCHEMA.to_pyarrow())
    warehouse.replace("llm_requests", ibis.memtable(arrow), LLM_REQUESTS_SCHEMA, ("request_id",))
    return warehouse.read("llm_requests", LLM_REQUESTS_SCHEMA)


def llm_context(
    warehouse: Warehouse, rows: list[dict[str, Any]], thresholds: Thresholds | None = None
) -> AnalysisContext:
    """A 30-day context over the rows (no bills), as `report_for` would build it."""
    return AnalysisContext(
        costs=warehouse.read("costs_empty", COSTS_SCHEMA),
        engine=warehouse.engine,
        window_start=START,
        window_end=END,
        thresholds=thresholds or Thresholds(min_monthly_savings_usd=Decimal(0)),
        llm_requests=stored(warehouse, rows),
    )
