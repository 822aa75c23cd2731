"""The unused-endpoint analysis on the demo company and on hand-made hourly rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest

from costrail.analyses import AnalysisContext, analyses, context_for
from costrail.schema.costs import conform_costs
from tests.demo_cache import demo_folder, demo_warehouse

START = datetime(2026, 11, 1, tzinfo=UTC)
ENDPOINT = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/demo-ep"


def demo_context(folder: Path, clean: bool) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    folder = demo_folder(clean)
    warehouse = demo_warehouse(clean, ("aws",))
    truth = json.loads((folder / "truth.json").read_text())
    planted = [p for p in truth["planted"] if p["kind"] == "unused_endpoint"]
    return context_for(warehouse.costs(), "duckdb"), planted


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    return demo_context(tmp_path_factory.mktemp("demo"), clean=False)


def hourly_rows(hours: int, data_gb_per_hour: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for hour in range(hours):
        start = START + timedelta(hours=hour)
        base = {
            "ResourceId": ENDPOINT,
            "x_Provider": "aws",
            "ChargeCategory": "Usage",
            "ChargePeriodStart": start,
            "ChargePeriodEnd": start + timedelta(hours=1),
            "SubAccountId": "111122223333",
        }
        rows.append(
            base
            | {
                "x_UsageType": "USE1-Host:ml.g5.2xlarge",
                "x_InstanceType": "ml.g5.2xlarge",
                "ConsumedQuantity": Decimal(1),
                "EffectiveCost": Decimal("1.515"),
            }
        )
        if data_gb_per_hour is not None:
            rows.append(
                base
                | {
                    "x_UsageType": "USE1-Hst:Data-Bytes-In",
                    "ConsumedQuantity": Decimal(data_gb_per_hour),
                    "EffectiveCost": Decimal("0.01"),
                }
            )
    return rows


def context_of(rows: list[dict[str, Any]]) -> AnalysisContext:
    table = conform_costs(ibis.memtable(rows))
    return AnalysisContext(
        costs=table, engine="duckdb", window_start=START, window_end=START + timedelta(days=30)
    )


def test_demo_unused_endpoint_found_within_ten_percent(demo: tuple[AnalysisContext, Any]) -> None:
    context, planted = demo
    findings = analyses.get("unused_endpoint")(context)
    assert [f.resources for f in findings] == [tuple(p["resources"]) for p in planted]
    truth = Decimal(planted[0]["monthly_savings_usd"])
    assert abs(findings[0].monthly_savings_usd - truth) <= truth / 10


def test_clean_demo_has_no_unused_endpoint(tmp_path: Path) -> None:
    context, _ = demo_context(tmp_path, clean=True)
    assert analyses.get("unused_endpoint")(context) == []


def test_demo_finding_names_the_confirming_metric(demo: tuple[AnalysisContext, Any]) -> None:
    finding = analyses.get("unused_endpoint")(demo[0])[0]
    assert "Invocations" in finding.evidence["confirming_metric"]
    assert finding.evidence["data_processing_line_items"] == 0


def test_endpoint_with_traffic_is_not_reported() -> None:
    context = context_of(hourly_rows(720, "0.5"))
    assert analyses.get("unused_endpoint")(context) == []


def test_endpoint_without_data_rows_saves_its_host_cost() -> None:
    context = context_of(hourly_rows(720, None))
    [finding] = analyses.get("unused_endpoint")(context)
    assert finding.monthly_savings_usd == Decimal("1090.80")
    assert finding.confidence == "high"


def test_endpoint_billed_part_time_is_not_always_on() -> None:
    context = context_of(hourly_rows(300, None))
    assert analyses.get("unused_endpoint")(context) == []
