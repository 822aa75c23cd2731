"""The report as JSON: money as exact decimal strings, findings as `Finding.to_dict()`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from costrail.report.model import Report


def report_dict(report: Report) -> dict[str, Any]:
    """A JSON-able dict of the whole report; money and percents are decimal strings."""
    return {
        "generated_at": report.generated_at,
        "warehouse": report.warehouse,
        "engine": report.engine,
        "first_charge": report.first_charge,
        "last_charge": report.last_charge,
        "total": asdict(report.total),
        "monthly_savings_usd": report.monthly_savings_usd,
        "months": [asdict(month) for month in report.months],
        "providers": [asdict(spend) for spend in report.providers],
        "service_categories": [asdict(spend) for spend in report.service_categories],
        "allocations": [asdict(allocation) for allocation in report.allocations],
        "unit_costs": [{**asdict(item), "name": item.name} for item in report.unit_costs],
        "unit_cost_summaries": [asdict(summary) for summary in report.unit_cost_summaries],
        "savings_by_kind": [asdict(kind) for kind in report.savings_by_kind],
        "top_findings": [finding.to_dict() for finding in report.top_findings],
        "findings": [finding.to_dict() for finding in report.findings],
    }


def render_json(report: Report) -> str:
    return json.dumps(_jsonable(report_dict(report)), indent=2) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
