"""The `llm` ingest route: claims LLM usage files by content and loads them into `llm_requests`.

Claimed shapes: OTLP JSON (`resourceSpans`, one request per file or per line), OpenAI
organisation Usage / Costs pages, Anthropic usage / cost reports, LiteLLM spend logs (CSV, JSON,
JSON lines) and generic JSON lines. Every file is parsed and checked before anything is written;
re-loading replaces rows by (source, request_id), so nothing is counted twice.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costrail.config import Config, load_config
from costrail.errors import InputError
from costrail.llm.store import write_requests
from costrail.pricing.llm import LlmPrices
from costrail.sources.base import LoadWarnings
from costrail.sources.llm import anthropic_usage, jsonl, litellm, openai_usage, otel
from costrail.sources.llm.common import read_json, read_json_lines
from costrail.sources.llm.costs import ReconciliationLine, reconcile, write_provider_costs
from costrail.sources.routes import Progress, Route, routes
from costrail.warehouse.store import Warehouse

ROUTE_NAME = "llm"
_SNIFF_BYTES = 64 * 1024
_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv"}
#: field *keys* (a cost report mentions "uncached_input_tokens" as a token_type value)
_ANTHROPIC_USAGE_KEY = re.compile(r'"uncached_input_tokens"\s*:')
_AMOUNT_KEY = re.compile(r'"amount"\s*:')


def classify(path: Path) -> str | None:
    """The file's LLM format from its first 64 KiB, or None; never raises."""
    try:
        if path.suffix.lower() not in _SUFFIXES or not path.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
        return _classify_head(path, head)
    except OSError:
        return None


def _classify_head(path: Path, head: str) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
        columns = {column.strip().strip('"') for column in header.split(",")}
        return "litellm" if all(name in columns for name in litellm.SIGNATURE) else None
    if '"resourceSpans"' in head:
        return "otel"
    if '"object"' in head and '"page"' in head:
        if "organization.usage.completions" in head:
            return "openai-usage"
        if "organization.costs.result" in head:
            return "openai-costs"
    if '"starting_at"' in head and '"has_more"' in head:
        if _ANTHROPIC_USAGE_KEY.search(head):
            return "anthropic-usage"
        if _AMOUNT_KEY.search(head) and '"currency"' in head:
            return "anthropic-costs"
    if all(f'"{name}"' in head for name in litellm.SIGNATURE):
        return "litellm"
    if suffix in {".jsonl", ".ndjson"}:
        first = head.lstrip().split("\n", 1)[0]
        try:
            record = json.loads(first)
        except ValueError:
            return None
        if jsonl.looks_like(record):
            return "jsonl"
    return None


@dataclass
class LlmIngestReport:
    """What one load of LLM usage files did."""

    files: dict[str, int] = field(default_factory=dict)
    requests_written: int = 0
    provider_cost_rows: int = 0
    warnings: LoadWarnings = field(default_factory=LoadWarnings)
    reconciliation: list[ReconciliationLine] = field(default_factory=list)

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.files.items()))
        out = [f"{self.requests_written:,} LLM request rows loaded from {kinds} file(s)"]
        if self.provider_cost_rows:
            out.append(f"{self.provider_cost_rows:,} provider cost rows loaded")
        out.extend(f"warning: {line}" for line in self.warnings.lines())
        for item in self.reconciliation:
            if not item.matches:
                out.append(
                    f"reconciliation: {item.provider} {item.day} {item.model or '(all models)'}: "
                    f"computed ${item.computed_usd:.2f} vs reported ${item.reported_usd:.2f} "
                    f"(difference ${item.difference_usd:.2f})"
                )
        matched = sum(1 for item in self.reconciliation if item.matches)
        if self.reconciliation:
            out.append(
                f"reconciliation: {matched} of {len(self.reconciliation)} provider/day/model "
                "totals match the provider's cost export within $0.01"
            )
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "files": dict(self.files),
            "requests_written": self.requests_written,
            "provider_cost_rows": self.provider_cost_rows,
            "warnings": dict(self.warnings.counts),
            "reconciliation": [item.to_json() for item in self.reconciliation],
        }


def load(
    warehouse: Warehouse, paths: list[Path], progress: Progress | None = None
) -> LlmIngestReport:
    """Parse every file (raising `InputError` before any write), then write and reconcile."""
    config = load_config()
    prices = LlmPrices.load(config=config)
    report = LlmIngestReport()
    ingest_id = uuid.uuid4().hex
    requests: list[dict[str, Any]] = []
    costs: list[dict[str, Any]] = []
    for path in paths:
        kind = classify(path)
        if kind is None:
            raise InputError("not an LLM usage file this route knows", file=path)
        if progress is not None:
            progress(f"reading {path.name} ({kind})")
        report.files[kind] = report.files.get(kind, 0) + 1
        new_requests, new_costs = _read(kind, path, prices, config, report.warnings)
        requests.extend(new_requests)
        costs.extend(new_costs)
    for row in requests + costs:
        row["ingest_id"] = ingest_id
    if requests:
        report.requests_written = write_requests(
            warehouse, requests, prices=prices, warnings=report.warnings
        )
    if costs:
        report.provider_cost_rows = write_provider_costs(warehouse, costs)
        report.reconciliation = reconcile(warehouse)
    return report


def _read(
    kind: str, path: Path, prices: LlmPrices, config: Config, warnings: LoadWarnings
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if kind == "otel":
        return _read_otel(path, config, warnings), []
    if kind == "litellm":
        return litellm.spend_rows(path, warnings), []
    if kind == "jsonl":
        return jsonl.request_rows(path), []
    document = read_json(path)
    if not isinstance(document, Mapping):
        raise InputError("expected a JSON object", file=path)
    if kind == "openai-usage":
        return openai_usage.usage_rows(document, path, prices), []
    if kind == "openai-costs":
        return [], openai_usage.cost_rows(document, path)
    if kind == "anthropic-usage":
        return anthropic_usage.usage_rows(document, path, prices), []
    return [], anthropic_usage.cost_rows(document, path)


def _read_otel(path: Path, config: Config, warnings: LoadWarnings) -> list[dict[str, Any]]:
    """One OTLP JSON request per file, or one per line (the OTel collector's file exporter)."""
    names = otel.attribute_names(config)
    documents: list[tuple[int, Any]]
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        documents = read_json_lines(path)
    else:
        documents = [(1, read_json(path))]
    rows: list[dict[str, Any]] = []
    spans_before = 0
    for line, document in documents:
        if not isinstance(document, Mapping):
            raise InputError("expected an OTLP JSON object", file=path, row=line)
        rows.extend(
            otel.spans_to_rows(
                document,
                source_file=str(path),
                names=names,
                warnings=warnings,
                first_row=spans_before + 1,
            )
        )
        spans_before += otel.span_count(document)
    return rows


routes.register(ROUTE_NAME)(
    Route(name=ROUTE_NAME, claims=lambda path: classify(path) is not None, load=load)
)
