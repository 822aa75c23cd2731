"""LiteLLM proxy spend logs (`LiteLLM_SpendLogs` rows exported as JSON, JSON lines or CSV).

`spend` is LiteLLM's own cost and is kept (`cost_source` "provider") — except where it logged
$0 for a call that used tokens (the streamed-response gap users report): those are re-priced
from the catalog and counted in a warning. LiteLLM normalises usage to OpenAI's convention
(`prompt_tokens` include cached tokens); cache reads and writes come from
`metadata.usage_object` when present.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costrail.errors import InputError
from costrail.pricing.llm import provider_family
from costrail.sources.base import LoadWarnings
from costrail.sources.llm.common import token_count, usage_at, utc_from_text

SOURCE = "litellm"
#: columns that identify a spend-log row
SIGNATURE = ("request_id", "call_type", "spend", "startTime")
_OPERATIONS = {
    "completion": "chat",
    "acompletion": "chat",
    "text_completion": "text_completion",
    "atext_completion": "text_completion",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "responses": "responses",
    "aresponses": "responses",
    "anthropic_messages": "messages",
}


def looks_like(record: Any) -> bool:
    return isinstance(record, Mapping) and all(name in record for name in SIGNATURE)


def read_records(path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    """(row number, record) from a CSV, a JSON array / `{"data": [...]}`, or JSON lines file."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [(number, row) for number, row in enumerate(csv.DictReader(handle), start=1)]
    from costrail.sources.llm.common import read_json, read_json_lines

    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return [(number, record) for number, record in read_json_lines(path)]
    data = read_json(path)
    if isinstance(data, Mapping):
        data = data.get("data", data.get("logs"))
    if not isinstance(data, list):
        raise InputError("expected a JSON array of spend-log rows", file=path)
    return list(enumerate(data, start=1))


def spend_rows(path: Path, warnings: LoadWarnings) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    zero_spend = 0
    for row, record in read_records(path):
        if not isinstance(record, Mapping):
            raise InputError("row is not an object", file=path, row=row)
        for name in SIGNATURE:
            if record.get(name) in (None, ""):
                raise InputError(f"{name} is missing", file=path, row=row, column=name)
        mapped = _row(record, path, row)
        if mapped["cost_usd"] == 0 and (mapped["input_tokens"] or mapped["output_tokens"]):
            mapped["cost_usd"] = None  # the store prices it from the catalog
            mapped["cost_source"] = None
            zero_spend += 1
        rows.append(mapped)
    warnings.add(
        "LiteLLM logged $0 for calls that used tokens: priced from the catalog", zero_spend
    )
    return rows


def _row(record: Mapping[str, Any], path: Path, row: int) -> dict[str, Any]:
    metadata = _json_field(record.get("metadata"), path, row, "metadata")
    usage_object = metadata.get("usage_object") or {}
    details = usage_object.get("prompt_tokens_details") or {}
    cached = token_count(details, "cached_tokens", file=path, row=row, column="metadata")
    cached = cached or token_count(
        usage_object, "cache_read_input_tokens", file=path, row=row, column="metadata"
    )
    written = token_count(
        usage_object, "cache_creation_input_tokens", file=path, row=row, column="metadata"
    )
    prompt = token_count(record, "prompt_tokens", file=path, row=row)
    usage = usage_at(
        path,
        row,
        input_tokens=max(prompt, cached + written),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        output_tokens=token_count(record, "completion_tokens", file=path, row=row),
    )
    start = utc_from_text(record["startTime"], file=path, row=row, column="startTime")
    latency_ms = None
    if record.get("endTime"):
        end = utc_from_text(record["endTime"], file=path, row=row, column="endTime")
        latency_ms = (end - start).total_seconds() * 1000
    status = str(record.get("status") or "success")
    return {
        "time": start,
        "request_id": str(record["request_id"]),
        "provider": provider_family(_text(record.get("custom_llm_provider"))),
        "model": _text(record.get("model")),
        "operation": _OPERATIONS.get(str(record.get("call_type")), str(record.get("call_type"))),
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "streamed": bool(metadata.get("stream")) if "stream" in metadata else None,
        "latency_ms": latency_ms,
        "status": "ok" if status == "success" else status,
        "cost_usd": _spend(record["spend"], path, row),
        "cost_source": "provider",
        "user": _text(record.get("user")) or _text(record.get("end_user")),
        "team": _text(record.get("team_id")) or _text(metadata.get("user_api_key_team_alias")),
        "feature": _first_tag(record.get("request_tags"), path, row),
        "api_key": _text(metadata.get("user_api_key_alias")) or _text(record.get("api_key")),
        "request_count": 1,
        "source": SOURCE,
        "source_file": str(path),
    }


def _spend(value: Any, path: Path, row: int) -> Decimal:
    try:
        spend = Decimal(str(value))
    except InvalidOperation:
        raise InputError(f"{value!r} is not a number", file=path, row=row, column="spend") from None
    if not spend.is_finite() or spend < 0:
        raise InputError(f"{value!r} is not a cost", file=path, row=row, column="spend")
    return spend


def _json_field(value: Any, path: Path, row: int, column: str) -> Mapping[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, Mapping):
        return value
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        raise InputError(f"{column} is not JSON", file=path, row=row, column=column) from None
    return parsed if isinstance(parsed, Mapping) else {}


def _first_tag(value: Any, path: Path, row: int) -> str | None:
    if value in (None, "", "[]"):
        return None
    tags = value
    if isinstance(value, str):
        try:
            tags = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(
                "request_tags is not JSON", file=path, row=row, column="request_tags"
            ) from None
    return str(tags[0]) if isinstance(tags, list) and tags else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
