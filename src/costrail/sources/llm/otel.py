"""OpenTelemetry GenAI spans in OTLP JSON → `llm_requests` rows (files and the gateway endpoint).

Attribute names are the GenAI semantic conventions': `gen_ai.provider.name` (older
`gen_ai.system` as a fallback), `gen_ai.operation.name`, `gen_ai.request.model`,
`gen_ai.response.model`, `gen_ai.response.id`, `gen_ai.usage.input_tokens`,
`gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens`,
`gen_ai.usage.cache_creation.input_tokens`, `error.type`. The conventions count cached tokens
inside `gen_ai.usage.input_tokens`; an instrumentation that reports Anthropic's raw counts (cache
tokens *outside* input) is detected (cache > input) and normalised, with a counted warning.
Who made the call (user, team, feature, API key) comes from configurable attribute names
(`llm_ingest.attributes` in costrail.yaml). Spans without GenAI attributes are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from costrail.config import Config, Section, register_section
from costrail.errors import InputError
from costrail.pricing.llm import provider_family
from costrail.sources.base import LoadWarnings
from costrail.sources.llm.common import usage_at, utc_from_nanos

SOURCE = "otel"
_STATUS_ERROR = 2  # OTLP Status.code STATUS_CODE_ERROR
#: older `gen_ai.system` values → current `gen_ai.provider.name` spellings
_OLD_SYSTEMS = {
    "az.ai.openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
}


class AttributeNames(BaseModel):
    """Span/resource attributes that name who made the call; the first present one wins."""

    model_config = ConfigDict(extra="forbid")

    user: list[str] = ["user.id", "enduser.id", "costrail.user"]
    team: list[str] = ["costrail.team"]
    feature: list[str] = ["costrail.feature", "service.name"]
    api_key: list[str] = ["costrail.api_key"]


@register_section("llm_ingest")
class LlmIngestSection(Section):
    """`llm_ingest:` in costrail.yaml."""

    attributes: AttributeNames = AttributeNames()


def attribute_names(config: Config | None) -> AttributeNames:
    if config is None:
        return AttributeNames()
    return config.section("llm_ingest", LlmIngestSection).attributes


def any_value(value: Any, *, file: Path | str, row: int, column: str) -> Any:
    """Decode an OTLP JSON `AnyValue` (int64 arrives as a string per the JSON mapping)."""
    if not isinstance(value, Mapping):
        raise InputError(
            "attribute value is not an AnyValue object", file=file, row=row, column=column
        )
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            raise InputError(
                f"intValue {value['intValue']!r} is not an integer",
                file=file,
                row=row,
                column=column,
            ) from None
    if "doubleValue" in value:
        return Decimal(str(value["doubleValue"]))
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return [any_value(item, file=file, row=row, column=column) for item in items]
    return None


def _attributes(items: Any, *, file: Path | str, row: int) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for item in items or []:
        if not isinstance(item, Mapping) or "key" not in item:
            raise InputError("attribute without `key`", file=file, row=row, column="attributes")
        key = str(item["key"])
        decoded[key] = any_value(item.get("value"), file=file, row=row, column=key)
    return decoded


def span_count(otlp_json: Mapping[str, Any]) -> int:
    """Spans in one OTLP JSON request (what error row numbers count)."""
    return sum(
        len((scope or {}).get("spans") or [])
        for resource in otlp_json.get("resourceSpans") or []
        for scope in (resource or {}).get("scopeSpans") or []
    )


def spans_to_rows(
    otlp_json: Mapping[str, Any],
    *,
    source_file: str = "",
    names: AttributeNames | None = None,
    warnings: LoadWarnings | None = None,
    source: str = SOURCE,
    first_row: int = 1,
) -> list[dict[str, Any]]:
    """Rows for `llm_requests` from one OTLP JSON `ExportTraceServiceRequest` (unpriced: the
    store prices them). `row` in errors is the span's position, counting from `first_row`."""
    names = names or AttributeNames()
    warnings = warnings if warnings is not None else LoadWarnings()
    rows: list[dict[str, Any]] = []
    row = first_row - 1
    for resource_spans in otlp_json.get("resourceSpans") or []:
        resource = (resource_spans or {}).get("resource") or {}
        resource_attrs = _attributes(resource.get("attributes"), file=source_file, row=row + 1)
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in (scope_spans or {}).get("spans") or []:
                row += 1
                attrs = {
                    **resource_attrs,
                    **_attributes(span.get("attributes"), file=source_file, row=row),
                }
                mapped = _span_row(span, attrs, names, source_file, row, warnings, source)
                if mapped is None:
                    warnings.add("spans without GenAI attributes skipped")
                else:
                    rows.append(mapped)
    return rows


def _span_row(
    span: Mapping[str, Any],
    attrs: Mapping[str, Any],
    names: AttributeNames,
    file: str,
    row: int,
    warnings: LoadWarnings,
    source: str,
) -> dict[str, Any] | None:
    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
    if model is None and "gen_ai.operation.name" not in attrs:
        return None
    start = utc_from_nanos(
        span.get("startTimeUnixNano"), file=file, row=row, column="startTimeUnixNano"
    )
    end_nanos = span.get("endTimeUnixNano")
    latency_ms = None
    if end_nanos is not None:
        end = utc_from_nanos(end_nanos, file=file, row=row, column="endTimeUnixNano")
        latency_ms = (end - start).total_seconds() * 1000
    input_tokens = _count(attrs, "gen_ai.usage.input_tokens", file, row)
    cache_read = _count(attrs, "gen_ai.usage.cache_read.input_tokens", file, row)
    cache_write = _count(attrs, "gen_ai.usage.cache_creation.input_tokens", file, row)
    if cache_read + cache_write > input_tokens:
        warnings.add(
            "spans counted cache tokens outside input_tokens (Anthropic style): added back"
        )
        input_tokens += cache_read + cache_write
    usage = usage_at(
        file,
        row,
        input_tokens=input_tokens,
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=_count(attrs, "gen_ai.usage.output_tokens", file, row),
    )
    trace_id, span_id = span.get("traceId"), span.get("spanId")
    request_id = attrs.get("gen_ai.response.id") or f"{trace_id}:{span_id}"
    failed = (span.get("status") or {}).get("code") in (_STATUS_ERROR, "STATUS_CODE_ERROR")
    error_type = attrs.get("error.type")
    cost = attrs.get("costrail.cost_usd")
    return {
        "time": start,
        "request_id": str(request_id),
        "provider": _provider(attrs),
        "model": None if model is None else str(model),
        "operation": attrs.get("gen_ai.operation.name"),
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "batch": bool(attrs.get("costrail.batch", False)),
        "streamed": bool(attrs.get("costrail.streamed", attrs.get("gen_ai.request.stream", False))),
        "latency_ms": latency_ms,
        "status": str(error_type) if error_type else ("error" if failed else "ok"),
        "http_status": attrs.get("http.response.status_code"),
        "cost_usd": None if cost is None else Decimal(str(cost)),
        "cost_source": None if cost is None else "provider",
        "user": _first(attrs, names.user),
        "team": _first(attrs, names.team),
        "feature": _first(attrs, names.feature),
        "api_key": _first(attrs, names.api_key),
        "prefix_hashes": _strings(attrs.get("costrail.prompt.prefix_hashes")),
        "prefix_tokens": _ints(attrs.get("costrail.prompt.prefix_tokens"), file, row),
        "trace_id": trace_id,
        "span_id": span_id,
        "request_count": 1,
        "source": source,
        "source_file": file,
    }


def _provider(attrs: Mapping[str, Any]) -> str | None:
    name = attrs.get("gen_ai.provider.name")
    if name is None:
        system = attrs.get("gen_ai.system")
        if system is None:
            return None
        name = _OLD_SYSTEMS.get(str(system), str(system))
    return provider_family(str(name))


def _count(attrs: Mapping[str, Any], name: str, file: str, row: int) -> int:
    value = attrs.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or int(value) != value:
        raise InputError(f"{value!r} is not a token count", file=file, row=row, column=name)
    if value < 0:
        raise InputError(f"{value!r} is negative", file=file, row=row, column=name)
    return int(value)


def _first(attrs: Mapping[str, Any], names: Sequence[str]) -> str | None:
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return str(value)
    return None


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items]


def _ints(value: Any, file: str, row: int) -> list[int] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    try:
        return [int(item) for item in items]
    except (TypeError, ValueError):
        raise InputError(
            "prefix token counts are not integers",
            file=file,
            row=row,
            column="costrail.prompt.prefix_tokens",
        ) from None
