"""The always-on dev GPU analysis on the demo company (AWS and GCP) and on hand-made rows."""

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

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def demo_context(folder: Path, clean: bool) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    folder = demo_folder(clean)
    warehouse = demo_warehouse(clean, ("aws", "gcp"))
    truth = json.loads((folder / "truth.json").read_text())
    planted = [
        p
        for p in truth["planted"]
        if p["kind"] == "idle_gpu_instance" and p["provider"] in ("aws", "gcp")
    ]
    return context_for(warehouse.costs(), "duckdb"), planted


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisContext, list[dict[str, Any]]]:
    return demo_context(tmp_path_factory.mktemp("demo"), clean=False)


def rows_for(hours: list[int], env: str, gpu: str | None = "A10G") -> list[dict[str, Any]]:
    return [
        {
            "ResourceId": "i-0abc",
            "x_Provider": "aws",
            "ChargeCategory": "Usage",
            "ChargePeriodStart": START + timedelta(hours=hour),
            "ChargePeriodEnd": START + timedelta(hours=hour + 1),
            "x_InstanceType": "g5.xlarge",
            "x_GpuModel": gpu,
            "ConsumedQuantity": Decimal(1),
            "ConsumedUnit": "Hrs",
            "EffectiveCost": Decimal("1.006"),
            "Tags": {"Environment": env},
        }
        for hour in hours
    ]


def context_of(rows: list[dict[str, Any]]) -> AnalysisContext:
    table = conform_costs(ibis.memtable(rows))
    return AnalysisContext(
        costs=table, engine="duckdb", window_start=START, window_end=START + timedelta(days=28)
    )


def test_demo_dev_gpu_boxes_found_within_ten_percent(demo: tuple[AnalysisContext, Any]) -> None:
    context, planted = demo
    found = {f.resources: f for f in analyses.get("idle_gpu_instance")(context)}
    assert set(found) == {tuple(p["resources"]) for p in planted}
    for item in planted:
        truth = Decimal(item["monthly_savings_usd"])
        saving = found[tuple(item["resources"])].monthly_savings_usd
        assert abs(saving - truth) <= truth / 10


def test_clean_demo_has_no_always_on_dev_gpu(tmp_path: Path) -> None:
    context, _ = demo_context(tmp_path, clean=True)
    assert analyses.get("idle_gpu_instance")(context) == []


def test_24x7_dev_box_saves_the_hours_beyond_the_schedule() -> None:
    context = context_of(rows_for(list(range(28 * 24)), "Dev"))
    [finding] = analyses.get("idle_gpu_instance")(context)
    # 672 h run, 4 weeks × 50 h scheduled → 472 h × 1.006 over 28 days, scaled to 30 days
    assert finding.monthly_savings_usd == (Decimal(472) * Decimal("1.006") * 30 / 28).quantize(
        Decimal("0.01")
    )


def test_production_box_is_not_reported() -> None:
    context = context_of(rows_for(list(range(28 * 24)), "prod"))
    assert analyses.get("idle_gpu_instance")(context) == []


def test_dev_box_on_working_hours_is_not_reported() -> None:
    working = [day * 24 + hour for day in range(28) if day % 7 < 5 for hour in range(8, 18)]
    context = context_of(rows_for(working, "dev"))
    assert analyses.get("idle_gpu_instance")(context) == []


def test_cpu_only_dev_box_is_not_reported() -> None:
    context = context_of(rows_for(list(range(28 * 24)), "dev", gpu=None))
    assert analyses.get("idle_gpu_instance")(context) == []


def test_daily_rows_count_their_consumed_hours() -> None:
    rows = [
        row
        | {
            "ChargePeriodStart": START + timedelta(days=day),
            "ChargePeriodEnd": START + timedelta(days=day + 1),
            "ConsumedQuantity": Decimal(hours),
            "ConsumedUnit": "Hours",
            "EffectiveCost": Decimal(hours) * Decimal("1.006"),
        }
        for day, hours in enumerate([24] * 28)
        for row in rows_for([0], "staging")
    ]
    [finding] = analyses.get("idle_gpu_instance")(context_of(rows))
    assert finding.evidence["running_hours"] == Decimal("672.00")
