"""The cold-S3-data analysis on the demo company and on hand-made daily rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest

from costrail.analyses import AnalysisContext, analyses, context_for
from costrail.analyses.storage import TARGETS, option_for
from costrail.demo import generate
from costrail.schema.costs import conform_costs
from costrail.warehouse import connect
from costrail.warehouse.load import ingest

START = datetime(2026, 11, 1, tzinfo=UTC)


def demo_context(folder: Path, clean: bool) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    generate(folder, rows=None, seed=7, clean=clean)
    warehouse = connect(str(folder / "w.duckdb"))
    ingest(warehouse, [folder / "aws"])
    truth = json.loads((folder / "truth.json").read_text())
    planted = [p for p in truth["planted"] if p["kind"] == "s3_cold_data_in_standard"]
    return context_for(warehouse.costs(), "duckdb"), planted


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    return demo_context(tmp_path_factory.mktemp("demo"), clean=False)


def bucket_rows(gb: int, gets_per_day: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for day in range(30):
        base = {
            "ResourceId": "cold-bucket",
            "x_Provider": "aws",
            "x_ServiceCode": "AmazonS3",
            "ChargeCategory": "Usage",
            "ChargePeriodStart": START + timedelta(days=day),
            "ChargePeriodEnd": START + timedelta(days=day + 1),
        }
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
    table = conform_costs(ibis.memtable(rows))
    return AnalysisContext(
        costs=table, engine="duckdb", window_start=START, window_end=START + timedelta(days=30)
    )


def test_demo_cold_bucket_found_within_ten_percent(demo: tuple[AnalysisContext, Any]) -> None:
    context, planted = demo
    findings = analyses.get("s3_cold_data_in_standard")(context)
    assert [f.resources for f in findings] == [tuple(p["resources"]) for p in planted]
    truth = Decimal(planted[0]["monthly_savings_usd"])
    assert abs(findings[0].monthly_savings_usd - truth) <= truth / 10


def test_clean_demo_has_no_cold_bucket(tmp_path: Path) -> None:
    context, _ = demo_context(tmp_path, clean=True)
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
