"""The never-expiring-logs analysis on the demo company and on hand-made daily rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costrail.analyses import AnalysisContext, analyses
from tests.analyses.helpers import (
    assert_demo_finding_within_ten_percent,
    daily_usage_base,
    demo_context,
    thirty_day_context,
)

KIND = "log_retention_never_expires"
START = datetime(2026, 10, 2, tzinfo=UTC)
GROUP = "arn:aws:logs:us-east-1:111122223333:log-group:/app/debug"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    return demo_context(tmp_path_factory.mktemp("demo"), clean=False, kind=KIND)


def log_rows(first_day_gb: int, ingest_gb_per_day: int, growth_gb_per_day: int) -> list[Any]:
    rows: list[dict[str, Any]] = []
    for day in range(60):
        stored = Decimal(first_day_gb + growth_gb_per_day * day)
        base = daily_usage_base(GROUP, "AmazonCloudWatch", START, day)
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
    return thirty_day_context(rows, START + timedelta(days=30))


def test_demo_log_group_found_within_ten_percent(demo: tuple[AnalysisContext, Any]) -> None:
    assert_demo_finding_within_ten_percent(demo, KIND)


def test_clean_demo_has_no_growing_log_group(tmp_path: Path) -> None:
    context, _ = demo_context(tmp_path, clean=True, kind=KIND)
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
