"""Anthropic Admin API reports: usage (`/v1/organizations/usage_report/messages`) and cost
(`/v1/organizations/cost_report`).

Usage results report `uncached_input_tokens` apart from cache reads and cache writes; the rows
store the OTel convention (input includes both). The report has no request count, so bucket rows
have `request_count` null; the long-context tier comes from the result's `context_window`
("200k-1M") when the export was grouped by it, else the standard tier. Cost report amounts are
decimal *strings in cents* ("123.45" = $1.2345); they are divided by 100 exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costrail.errors import InputError
from costrail.pricing.llm import LlmPrices
from costrail.sources.llm.common import (
    bucket_request_id,
    price_bucket,
    token_count,
    usage_at,
    utc_from_text,
)

SOURCE = "anthropic-usage"
COSTS_SOURCE = "anthropic-costs"
_LONG_CONTEXT_WINDOW = "200k-1M"
_LONG_TIER_TOKENS = 10**9  # above any threshold: selects the long-context tier


def report_kind(report: Any) -> str | None:
    """ "usage" or "costs" for an Anthropic report, else None (cheap shape test)."""
    if not isinstance(report, Mapping) or not isinstance(report.get("data"), list):
        return None
    if "has_more" not in report:
        return None
    for bucket in report["data"]:
        if not isinstance(bucket, Mapping) or "starting_at" not in bucket:
            return None
        for result in bucket.get("results") or []:
            if not isinstance(result, Mapping):
                return None
            if "uncached_input_tokens" in result:
                return "usage"
            if "amount" in result and "currency" in result:
                return "costs"
    return None


def _results(report: Mapping[str, Any], path: Path) -> list[tuple[int, Mapping[str, Any], Any]]:
    rows: list[tuple[int, Mapping[str, Any], Any]] = []
    for bucket in report.get("data") or []:
        for result in bucket.get("results") or []:
            if not isinstance(result, Mapping):
                raise InputError(
                    "result is not an object", file=path, row=len(rows) + 1, column="results[]"
                )
            rows.append((len(rows) + 1, bucket, result))
    return rows


def usage_rows(report: Mapping[str, Any], path: Path, prices: LlmPrices) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row, bucket, result in _results(report, path):
        start = utc_from_text(bucket.get("starting_at"), file=path, row=row, column="starting_at")
        uncached = token_count(result, "uncached_input_tokens", file=path, row=row)
        cache_read = token_count(result, "cache_read_input_tokens", file=path, row=row)
        creation = result.get("cache_creation") or {}
        if not isinstance(creation, Mapping):
            raise InputError(
                "cache_creation is not an object", file=path, row=row, column="cache_creation"
            )
        write_5m = token_count(
            creation,
            "ephemeral_5m_input_tokens",
            file=path,
            row=row,
            column="cache_creation.ephemeral_5m_input_tokens",
        )
        write_1h = token_count(
            creation,
            "ephemeral_1h_input_tokens",
            file=path,
            row=row,
            column="cache_creation.ephemeral_1h_input_tokens",
        )
        usage = usage_at(
            path,
            row,
            input_tokens=uncached + cache_read + write_5m + write_1h,
            cached_input_tokens=cache_read,
            cache_write_tokens=write_5m,
            cache_write_1h_tokens=write_1h,
            output_tokens=token_count(result, "output_tokens", file=path, row=row),
        )
        model = result.get("model")
        service_tier = result.get("service_tier")
        batch = service_tier == "batch"
        long_context = result.get("context_window") == _LONG_CONTEXT_WINDOW
        cost = price_bucket(
            prices,
            "anthropic",
            model,
            usage,
            batch=batch,
            tier_input_tokens=_LONG_TIER_TOKENS if long_context else 0,
        )
        key = (
            bucket.get("starting_at"),
            bucket.get("ending_at"),
            model,
            result.get("api_key_id"),
            result.get("workspace_id"),
            service_tier,
            result.get("context_window"),
            result.get("inference_geo"),
        )
        rows.append(
            {
                "time": start,
                "request_id": bucket_request_id(SOURCE, *key),
                "provider": "anthropic",
                "model": model,
                "operation": "messages",
                "input_tokens": usage.input_tokens,
                "cached_input_tokens": usage.cached_input_tokens,
                "cache_write_tokens": usage.cache_write_tokens,
                "cache_write_1h_tokens": usage.cache_write_1h_tokens,
                "output_tokens": usage.output_tokens,
                "batch": batch,
                "status": "ok",
                "cost_usd": cost,
                "cost_source": "catalog" if cost is not None else None,
                "team": result.get("workspace_id"),
                "api_key": result.get("api_key_id"),
                "request_count": None,
                "source": SOURCE,
                "source_file": str(path),
            }
        )
    return rows


def cost_rows(report: Mapping[str, Any], path: Path) -> list[dict[str, Any]]:
    """Reported cost per bucket and item, converted from cents (decimal strings) to dollars."""
    rows: list[dict[str, Any]] = []
    for row, bucket, result in _results(report, path):
        currency = str(result.get("currency") or "").upper()
        if currency != "USD":
            raise InputError(
                f"currency {currency or 'missing'} is not USD",
                file=path,
                row=row,
                column="currency",
            )
        cents = _cents(result.get("amount"), path, row)
        start = utc_from_text(bucket.get("starting_at"), file=path, row=row, column="starting_at")
        item = " / ".join(
            str(part)
            for part in (
                result.get("description"),
                result.get("cost_type"),
                result.get("token_type"),
            )
            if part
        )
        rows.append(
            {
                "time": start,
                "provider": "anthropic",
                "model": result.get("model"),
                "line_item": item or None,
                "project_id": result.get("workspace_id"),
                "cost_usd": cents / 100,
                "row_id": bucket_request_id(
                    COSTS_SOURCE,
                    bucket.get("starting_at"),
                    result.get("workspace_id"),
                    result.get("description"),
                    result.get("model"),
                    result.get("cost_type"),
                    result.get("token_type"),
                    result.get("context_window"),
                    result.get("service_tier"),
                ),
                "source": COSTS_SOURCE,
                "source_file": str(path),
            }
        )
    return rows


def _cents(value: Any, path: Path, row: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise InputError(
            f"{value!r} is not an amount in cents", file=path, row=row, column="amount"
        )
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InputError(
            f"{value!r} is not an amount in cents", file=path, row=row, column="amount"
        ) from None
    if not amount.is_finite():
        raise InputError(f"{value!r} is not finite", file=path, row=row, column="amount")
    return amount
