"""Helpers shared by the LLM usage readers: JSON reading, timestamps, bucket ids and pricing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from costrail.errors import InputError
from costrail.llm.usage import TokenUsage
from costrail.pricing.llm import LlmPrices, UnknownModelError

BUCKET_PREFIX = "bucket:"


def read_json(path: Path) -> Any:
    """A JSON file with numbers as exact Decimals (money must never pass through a float)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg}", file=path, row=error.lineno) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path) from None


def read_json_lines(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed object) for each non-blank line of a JSON-lines file."""
    records: list[tuple[int, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line, parse_float=Decimal)))
            except json.JSONDecodeError as error:
                raise InputError(f"not valid JSON: {error.msg}", file=path, row=number) from None
    return records


def utc_from_epoch_s(value: Any, *, file: Path, row: int, column: str) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        raise InputError(
            f"{value!r} is not a Unix time in seconds", file=file, row=row, column=column
        ) from None


def utc_from_nanos(value: Any, *, file: Path | str, row: int, column: str) -> dt.datetime:
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{value!r} is not a Unix time in nanoseconds", file=file, row=row, column=column
        ) from None
    seconds, rest = divmod(nanos, 1_000_000_000)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(microseconds=rest // 1000)


def utc_from_text(value: Any, *, file: Path, row: int, column: str) -> dt.datetime:
    """An RFC 3339 / ISO 8601 timestamp (naive means UTC) or a Unix time in seconds."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return utc_from_epoch_s(value, file=file, row=row, column=column)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{value!r} is not a timestamp", file=file, row=row, column=column)
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{value!r} is not an ISO 8601 timestamp", file=file, row=row, column=column
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def token_count(
    mapping: Mapping[str, Any], name: str, *, file: Path | str, row: int, column: str | None = None
) -> int:
    """A non-negative integer token count (0 when absent or null)."""
    value = mapping.get(name)
    if value is None:
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{value!r} is not a token count", file=file, row=row, column=column or name
        ) from None
    if number < 0 or (isinstance(value, Decimal) and value != number):
        raise InputError(
            f"{value!r} is not a token count", file=file, row=row, column=column or name
        )
    return number


def bucket_request_id(source: str, *parts: Any) -> str:
    """`bucket:<source>:<sha256[:24]>` of the bucket's key: stable, so re-ingest replaces it."""
    key = json.dumps([str(part) if part is not None else None for part in parts])
    return f"{BUCKET_PREFIX}{source}:{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def price_bucket(
    prices: LlmPrices,
    provider: str,
    model: str | None,
    usage: TokenUsage,
    *,
    batch: bool,
    tier_input_tokens: int,
) -> Decimal | None:
    """Catalog cost of a usage bucket, its tier chosen from a *per-request* input size.

    A bucket sums many requests, so its total input would wrongly trigger long-context tiers;
    the caller passes the per-request size it knows (average, or the report's context window).
    None when the model has no price: the store then marks the row unpriced and counts it.
    """
    if model is None:
        return None
    try:
        price = prices.lookup(provider, model)
    except UnknownModelError:
        return None
    return price.rates(tier_input_tokens, batch=batch).cost_usd(usage)


def usage_at(file: Path | str, row: int, **tokens: int) -> TokenUsage:
    """`TokenUsage(**tokens)`, its consistency errors located at `file`, `row`."""
    try:
        return TokenUsage(**tokens)
    except InputError as error:
        raise InputError(
            error.reason, file=file, row=row, column=error.column, hint=error.hint
        ) from None
