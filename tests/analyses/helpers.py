"""Shared builders for analysis tests: the demo company's context and daily usage rows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis

from costrail.analyses import AnalysisContext, analyses, context_for
from costrail.schema.costs import conform_costs
from tests.demo_cache import demo_folder, demo_warehouse


def demo_context(
    folder: Path, clean: bool, kind: str
) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    """Load the AWS demo bills so a test can compare one analysis with what the demo planted."""
    folder = demo_folder(clean)
    warehouse = demo_warehouse(clean, ("aws",))
    truth = json.loads((folder / "truth.json").read_text())
    planted = [p for p in truth["planted"] if p["kind"] == kind]
    return context_for(warehouse.costs(), "duckdb"), planted


def assert_demo_finding_within_ten_percent(
    demo: tuple[AnalysisContext, list[dict[str, Any]]], kind: str
) -> None:
    """The analysis finds the planted resources and their saving within 10 % of the truth."""
    context, planted = demo
    findings = analyses.get(kind)(context)
    assert [f.resources for f in findings] == [tuple(p["resources"]) for p in planted]
    truth = Decimal(planted[0]["monthly_savings_usd"])
    assert abs(findings[0].monthly_savings_usd - truth) <= truth / 10


def daily_usage_base(
    resource_id: str, service_code: str, start: datetime, day: int
) -> dict[str, Any]:
    """The columns every day's AWS usage row of one resource shares, before its usage type."""
    return {
        "ResourceId": resource_id,
        "x_Provider": "aws",
        "x_ServiceCode": service_code,
        "ChargeCategory": "Usage",
        "ChargePeriodStart": start + timedelta(days=day),
        "ChargePeriodEnd": start + timedelta(days=day + 1),
    }


def thirty_day_context(rows: list[dict[str, Any]], window_start: datetime) -> AnalysisContext:
    """Hand-made rows as a DuckDB costs table, analysed over the 30 days from `window_start`."""
    table = conform_costs(ibis.memtable(rows))
    return AnalysisContext(
        costs=table,
        engine="duckdb",
        window_start=window_start,
        window_end=window_start + timedelta(days=30),
    )
