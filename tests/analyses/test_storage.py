"""The cold-S3-data analysis on the demo company and on hand-made daily rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costrail.analyses import AnalysisContext, analyses
from costrail.analyses.storage import TARGETS, option_for
from tests.analyses.helpers import (
    assert_demo_finding_within_ten_percent,
    daily_usage_base,
    demo_context,
    thirty_day_context,
)

KIND = "s3_cold_data_in_standard"
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    return demo_context(tmp_path_factory.mktemp("demo"), clean=False, kind=KIND)


def bucket_rows(gb: int, gets_per_day: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for day in range(30):
        base = daily_usage_base("cold-bucket", "AmazonS3", START, day)
        rows.append(
            base
            | {
                "x_UsageType": "TimedStorage-ByteHrs",
                "x_StorageClass": "STANDARD",
                "PricingUnit": "GB-Mo",
                "PricingQuantity": Decimal(gb) / 30,
                "EffectiveCost": Decimal(gb) / 30 * Decimal("0.023"),
            }
        )
        if gets_per_day is not None:
            rows.append(
                base
                | {
                    "x_UsageType": "Requests-Tier2",
                    "PricingUnit": "Requests",
                    "PricingQuantity": Decimal(gets_per_day),
                    "EffectiveCost": Decimal(gets_per_day) * Decimal("0.0000004"),
                }
            )
    return rows


def context_of(rows: list[dict[str, Any]]) -> AnalysisContext:
    return thirty_day_context(rows, START)


def test_demo_cold_bucket_found_within_ten_percent(demo: tuple[AnalysisContext, Any]) -> None:
    assert_demo_finding_within_ten_percent(demo, KIND)


def test_clean_demo_has_no_cold_bucket(tmp_path: Path) -> None:
    context, _ = demo_context(tmp_path, clean=True, kind=KIND)
    assert analyses.get("s3_cold_data_in_standard")(context) == []


def test_unread_bucket_moves_to_glacier_ir_net_of_transitions() -> None:
    [finding] = analyses.get("s3_cold_data_in_standard")(context_of(bucket_rows(10_000, None)))
    # 10 TB × (0.023 − 0.004) = 190; transitions 10 000 / 0.064 objects × $0.02/1000 / 12
    assert finding.monthly_savings_usd == Decimal("189.74")
    assert "Glacier Instant Retrieval" in finding.title


def test_bucket_read_every_day_is_not_reported() -> None:
    context = context_of(bucket_rows(10_000, 1_000_000))
    assert analyses.get("s3_cold_data_in_standard")(context) == []


def test_retrieval_cost_lowers_the_saving() -> None:
    idle, read = (
        option_for(TARGETS[0], Decimal(10_000), Decimal("0.023"), Decimal(gets))
        for gets in (0, 1000)
    )
    assert read.net_usd == idle.net_usd - Decimal("1.92") - Decimal("0.0096")
