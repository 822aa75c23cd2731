"""Generic JSON lines: one object per line whose field names are the `llm_requests` columns.

Required: `time` (ISO 8601, or Unix seconds), `model`, `input_tokens`. `request_id` is optional:
without one, the id is a hash of the line's content (`line:<sha256[:24]>`), so re-ingesting the
same file replaces instead of double counting. `source` defaults to "jsonl". Token counts follow
the stored convention (input includes cached reads and cache writes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costrail.errors import InputError
from costrail.llm.store import requests_arrow_schema
from costrail.pricing.llm import provider_family
from costrail.sources.llm.common import read_json_lines, token_count, usage_at, utc_from_text

SOURCE = "jsonl"
REQUIRED = ("time", "model", "input_tokens")
_TOKENS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def looks_like(record: Any) -> bool:
    return isinstance(record, Mapping) and all(name in record for name in REQUIRED)


def request_rows(path: Path) -> list[dict[str, Any]]:
    columns = set(requests_arrow_schema().names)
    rows: list[dict[str, Any]] = []
    for line, record in read_json_lines(path):
        if not isinstance(record, Mapping):
            raise InputError("line is not a JSON object", file=path, row=line)
        for name in record:
            if name not in columns:
                raise InputError(
                    f"unknown field {name!r}",
                    file=path,
                    row=line,
                    column=name,
                    hint="fields are the llm_requests columns (docs/llm.md)",
                )
        for name in REQUIRED:
            if record.get(name) is None:
                raise InputError(f"{name} is missing", file=path, row=line, column=name)
        rows.append(_row(record, path, line))
    return rows


def _row(record: Mapping[str, Any], path: Path, line: int) -> dict[str, Any]:
    row = dict(record)
    tokens = {name: token_count(record, name, file=path, row=line) for name in _TOKENS}
    usage_at(path, line, **tokens)
    row.update(tokens)
    row["time"] = utc_from_text(record["time"], file=path, row=line, column="time")
    row["provider"] = provider_family(record.get("provider"))
    if record.get("cost_usd") is not None:
        row["cost_usd"] = _money(record["cost_usd"], path, line)
    if not row.get("request_id"):
        canonical = json.dumps(record, sort_keys=True, default=str)
        row["request_id"] = f"line:{hashlib.sha256(canonical.encode()).hexdigest()[:24]}"
    row.setdefault("source", SOURCE)
    row["source"] = row["source"] or SOURCE
    row["source_file"] = str(path)
    return row


def _money(value: Any, path: Path, line: int) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InputError(
            f"{value!r} is not a number", file=path, row=line, column="cost_usd"
        ) from None
    if not amount.is_finite():
        raise InputError(f"{value!r} is not finite", file=path, row=line, column="cost_usd")
    return amount
