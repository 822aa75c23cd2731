"""OpenAI organisation Usage API (`/v1/organization/usage/completions`) and Costs API pages.

Usage pages hold time buckets of aggregated token counts; each result becomes one
`llm_requests` row standing for `num_model_requests` calls (`request_id` "bucket:openai-usage:…",
`request_count` set). OpenAI's `input_tokens` already include cached tokens (the stored
convention). Costs pages (`amount.value` in dollars, per `line_item` "<model>, input|output")
go to `llm_provider_costs` for reconciliation.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from costrail.errors import InputError
from costrail.pricing.llm import LlmPrices
from costrail.sources.llm.common import (
    bucket_request_id,
    price_bucket,
    token_count,
    usage_at,
    utc_from_epoch_s,
)

SOURCE = "openai-usage"
COSTS_SOURCE = "openai-costs"
USAGE_RESULT = "organization.usage.completions.result"
COSTS_RESULT = "organization.costs.result"


def page_kind(page: Any) -> str | None:
    """ "usage" or "costs" for an OpenAI organisation page, else None (cheap shape test)."""
    if not isinstance(page, Mapping) or page.get("object") != "page":
        return None
    for bucket in page.get("data") or []:
        for result in (bucket or {}).get("results") or []:
            kind = (result or {}).get("object")
            if kind == USAGE_RESULT:
                return "usage"
            if kind == COSTS_RESULT:
                return "costs"
    data = page.get("data")
    return "usage" if isinstance(data, list) and not data else None


def _results(page: Mapping[str, Any], path: Path) -> list[tuple[int, Mapping[str, Any], Any]]:
    """(row number, bucket, result) for every result; row numbers count results from 1."""
    rows: list[tuple[int, Mapping[str, Any], Any]] = []
    for bucket in page.get("data") or []:
        if not isinstance(bucket, Mapping) or "start_time" not in bucket:
            raise InputError("bucket without `start_time`", file=path, column="data[].start_time")
        for result in bucket.get("results") or []:
            rows.append((len(rows) + 1, bucket, result))
    return rows


def usage_rows(page: Mapping[str, Any], path: Path, prices: LlmPrices) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row, bucket, result in _results(page, path):
        if not isinstance(result, Mapping):
            raise InputError("result is not an object", file=path, row=row, column="results[]")
        start = utc_from_epoch_s(bucket["start_time"], file=path, row=row, column="start_time")
        requests = token_count(result, "num_model_requests", file=path, row=row)
        usage = usage_at(
            path,
            row,
            input_tokens=token_count(result, "input_tokens", file=path, row=row),
            cached_input_tokens=token_count(result, "input_cached_tokens", file=path, row=row),
            output_tokens=token_count(result, "output_tokens", file=path, row=row),
        )
        model = result.get("model")
        batch = bool(result.get("batch"))
        cost = price_bucket(
            prices,
            "openai",
            model,
            usage,
            batch=batch,
            tier_input_tokens=usage.input_tokens // max(requests, 1),
        )
        key = (
            bucket.get("start_time"),
            bucket.get("end_time"),
            model,
            result.get("project_id"),
            result.get("api_key_id"),
            result.get("user_id"),
            result.get("batch"),
            result.get("service_tier"),
        )
        rows.append(
            {
                "time": start,
                "request_id": bucket_request_id(SOURCE, *key),
                "provider": "openai",
                "model": model,
                "operation": "completions",
                "input_tokens": usage.input_tokens,
                "cached_input_tokens": usage.cached_input_tokens,
                "output_tokens": usage.output_tokens,
                "batch": batch,
                "status": "ok",
                "cost_usd": cost,
                "cost_source": "catalog" if cost is not None else None,
                "user": result.get("user_id"),
                "team": result.get("project_id"),
                "api_key": result.get("api_key_id"),
                "request_count": requests,
                "source": SOURCE,
                "source_file": str(path),
            }
        )
    return rows


def cost_rows(page: Mapping[str, Any], path: Path) -> list[dict[str, Any]]:
    """Provider-reported cost per bucket and line item (dollars, exact decimals)."""
    rows: list[dict[str, Any]] = []
    for row, bucket, result in _results(page, path):
        amount = (result or {}).get("amount")
        if not isinstance(amount, Mapping) or "value" not in amount:
            raise InputError("result without `amount.value`", file=path, row=row, column="amount")
        value = amount["value"]
        if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
            raise InputError(
                f"{value!r} is not a number", file=path, row=row, column="amount.value"
            )
        currency = str(amount.get("currency") or "usd").upper()
        if currency != "USD":
            raise InputError(
                f"currency {currency} is not USD", file=path, row=row, column="amount.currency"
            )
        line_item = result.get("line_item")
        start = utc_from_epoch_s(bucket["start_time"], file=path, row=row, column="start_time")
        rows.append(
            {
                "time": start,
                "provider": "openai",
                "model": _model_of_line_item(line_item),
                "line_item": line_item,
                "project_id": result.get("project_id"),
                "cost_usd": Decimal(value),
                "row_id": bucket_request_id(
                    COSTS_SOURCE, bucket.get("start_time"), line_item, result.get("project_id")
                ),
                "source": COSTS_SOURCE,
                "source_file": str(path),
            }
        )
    return rows


def _model_of_line_item(line_item: Any) -> str | None:
    """ "gpt-4o-2024-08-06, input" → "gpt-4o-2024-08-06"; None for non-model items."""
    if not isinstance(line_item, str) or not line_item.strip():
        return None
    return line_item.split(",", 1)[0].strip() or None
