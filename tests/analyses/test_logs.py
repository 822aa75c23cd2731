"""The never-expiring-logs analysis on the demo company and on hand-made daily rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest

from costrail.analyses import AnalysisContext, analyses, context_for
from costrail.demo import generate
from costrail.schema.costs import conform_costs
from costrail.warehouse import connect
from costrail.warehouse.load import ingest

START = datetime(2026, 10, 2, tzinfo=UTC)
GROUP = "arn:aws:logs:us-east-1:111122223333:log-group:/app/debug"


def demo_context(folder: Path, clean: bool) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    generate(folder, rows=None, seed=7, clean=clean)
    warehouse = connect(str(folder / "w.duckdb"))
    ingest(warehouse, [folder / "aws"])
    truth = json.loads((folder / "truth.json").read_text())
    planted = [p for p in truth["planted"] if p["kind"] == "log_retention_never_expires"]
    return context_for(warehouse.costs(), "duckdb"), planted


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    return demo_context(tmp_path_factory.mktemp("demo"), clean=False)


def log_rows(first_day_gb: int, ingest_gb_per_day: int, growth_gb_per_day: int) -> list[Any]:
    rows: list[dict[str, Any]] = []
    for day in range(60):
        stored = Decimal(first_day_gb + growth_gb_per_day * day)
        base = {
            "ResourceId": GROUP,
            "x_Provider": "aws",
            "x_ServiceCode": "AmazonCloudWatch",
            "ChargeCategory": "Usage",
            "ChargePeriodStart": START + timedelta(days=day),
            "ChargePeriodEnd": START + timedelta(days=day + 1),
        }
        rows.append(
            base
            | {
                "x_UsageType": "TimedStorage-ByteHrs",
                "PricingQuantity": stored / 30,
                "EffectiveCost": stored / 30 * Decimal("0.03"),
            }
        )
        rows.append(
            base
            | {
                "x_UsageType": "DataProcessing-Bytes",
                "PricingQuantity": Decimal(ingest_gb_per_day),
                "EffectiveCost": Decimal(ingest_gb_per_day) / 2,
            }
        )
    return rows


def context_of(rows: list[dict[str, Any]]) -> AnalysisContext:
    table = conform_costs(ibis.memtable(rows))
    start = START + timedelta(days=30)
    return AnalysisContext(
        costs=table, engine="duckdb", window_start=start, window_end=start + timedelta(days=30)
    )


def test_demo_log_group_found_within_ten_percent(demo: tuple[AnalysisContext, Any]) -> None:
    context, planted = demo
    findings = analyses.get("log_retention_never_expires")(context)
    assert [f.resources for f in findings] == [tuple(p["resources"]) for p in planted]
    truth = Decimal(planted[0]["monthly_savings_usd"])
    assert abs(findings[0].monthly_savings_usd - truth) <= truth / 10


def test_clean_demo_has_no_growing_log_group(tmp_path: Path) -> None:
    context, _ = demo_context(tmp_path, clean=True)
    assert analyses.get("log_retention_never_expires")(context) == []


def test_growing_group_saves_storage_beyond_thirty_days() -> None:
    [finding] = analyses.get("log_retention_never_expires")(context_of(log_rows(5000, 100, 100)))
    # window average 5000 + 100 × 44.5 = 9450 GB; 30 days keep 3000 GB → 6450 × 0.03
    assert finding.monthly_savings_usd == Decimal("193.50")
    assert finding.evidence["savings_by_retention_days"] == {
        "7": Decimal("262.50"),
        "30": Decimal("193.50"),
        "90": Decimal("13.50"),
    }


def test_group_with_retention_is_not_reported() -> None:
    context = context_of(log_rows(3000, 100, 0))
    assert analyses.get("log_retention_never_expires")(context) == []
