"""Cross-region transfer and internet egress findings, on the demo company and on small bills."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from costrail.analyses import AnalysisContext, Thresholds, analyses, context_for
from costrail.schema.costs import COSTS_SCHEMA, conform_costs
from costrail.warehouse import Warehouse
from tests.demo_cache import demo_folder, demo_warehouse

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def _demo(directory: Path, clean: bool) -> Warehouse:
    return demo_warehouse(clean, ("aws",))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Warehouse]:
    directory = demo_folder(False)
    return directory, _demo(directory, clean=False)


@pytest.fixture(scope="module")
def clean_demo(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return _demo(tmp_path_factory.mktemp("acme-clean"), clean=True)


def _line(**values: Any) -> dict[str, Any]:
    """One hourly usage line in the costs schema; money as exact decimals."""
    base: dict[str, Any] = {
        "x_Provider": "aws",
        "SubAccountId": "111122223333",
        "ChargeCategory": "Usage",
        "ChargePeriodStart": START,
        "ChargePeriodEnd": START + timedelta(hours=1),
        "PricingUnit": "GB",
        "Tags": [],
    }
    base.update(values)
    for name in ("BilledCost", "EffectiveCost"):
        base[name] = Decimal(str(values.get("EffectiveCost", "0")))
    base["PricingQuantity"] = Decimal(str(values.get("PricingQuantity", "0")))
    return base


def _context(lines: list[dict[str, Any]], thresholds: Thresholds | None = None) -> AnalysisContext:
    schema = COSTS_SCHEMA.to_pyarrow()
    columns = {name: [line.get(name) for line in lines] for name in schema.names}
    table = conform_costs(ibis.memtable(pa.table(columns, schema=schema)))
    return AnalysisContext(table, "duckdb", START, END, thresholds or Thresholds())


def _inter_region(resource: str, usage_type: str, gb: str, cost: str) -> dict[str, Any]:
    return _line(
        ResourceId=resource,
        x_ServiceCode="AmazonS3",
        x_TransferKind="InterRegion",
        x_UsageType=usage_type,
        x_FromRegion="us-east-1",
        x_ToRegion="us-west-2",
        RegionId="us-east-1",
        PricingQuantity=gb,
        EffectiveCost=cost,
    )


def test_demo_cross_region_transfer_is_found_within_ten_percent_of_truth(
    demo: tuple[Path, Warehouse],
) -> None:
    directory, warehouse = demo
    truth = json.loads((directory / "truth.json").read_text())
    planted = next(p for p in truth["planted"] if p["kind"] == "cross_region_transfer")
    context = context_for(warehouse.costs(), warehouse.engine)
    findings = analyses.get("cross_region_transfer")(context)
    found = next(f for f in findings if f.resources == tuple(planted["resources"]))
    expected = Decimal(planted["monthly_savings_usd"])
    assert abs(found.monthly_savings_usd - expected) <= expected * Decimal("0.10")


def test_demo_transfer_finding_names_the_region_pair_and_price_per_gb(
    demo: tuple[Path, Warehouse],
) -> None:
    _, warehouse = demo
    context = context_for(warehouse.costs(), warehouse.engine)
    finding = analyses.get("cross_region_transfer")(context)[0]
    pair = finding.evidence["pairs"][0]
    assert (pair["from_region"], pair["to_region"], pair["unit"]) == (
        "us-east-1",
        "us-west-2",
        "GB",
    )
    assert pair["usd_per_unit"] == Decimal("0.020000")
    assert pair["lines"] > 0


def test_clean_demo_has_no_transfer_finding_above_fifty_dollars(clean_demo: Warehouse) -> None:
    context = context_for(clean_demo.costs(), clean_demo.engine)
    findings = [
        finding
        for name in ("cross_region_transfer", "internet_egress")
        for finding in analyses.get(name)(context)
    ]
    assert [f for f in findings if f.monthly_savings_usd > 50] == []


def test_transfer_saving_is_the_monthly_transfer_cost_per_resource() -> None:
    context = _context(
        [
            _inter_region("bucket-a", "USE1-USW2-AWS-Out-Bytes", "1000", "20"),
            _inter_region("bucket-a", "USE1-USW2-AWS-Out-Bytes", "500", "10"),
            _inter_region("bucket-b", "USE1-USW2-AWS-Out-Bytes", "100", "2"),
        ]
    )
    findings = analyses.get("cross_region_transfer")(context)
    savings = {f.resources: f.monthly_savings_usd for f in findings}
    assert savings == {("bucket-a",): Decimal("30"), ("bucket-b",): Decimal("2")}


def test_free_inbound_transfer_is_not_reported() -> None:
    context = _context([_inter_region("bucket-a", "USW2-USE1-AWS-In-Bytes", "1000", "0")])
    assert analyses.get("cross_region_transfer")(context) == []


def test_internet_egress_above_threshold_is_listed_without_a_saving() -> None:
    egress = _line(
        ResourceId="i-0abc",
        x_TransferKind="Internet",
        x_UsageType="DataTransfer-Out-Bytes",
        RegionId="us-east-1",
        PricingQuantity="20000",
        EffectiveCost="1800",
    )
    findings = analyses.get("internet_egress")(_context([egress]))
    assert [(f.kind, f.resources, f.monthly_savings_usd, f.monthly_cost_usd) for f in findings] == [
        ("internet_egress", ("i-0abc",), Decimal(0), Decimal("1800"))
    ]


def test_internet_egress_below_threshold_is_not_listed() -> None:
    egress = _line(
        ResourceId="i-0abc",
        x_TransferKind="Internet",
        RegionId="us-east-1",
        PricingQuantity="2000",
        EffectiveCost="180",
    )
    assert analyses.get("internet_egress")(_context([egress])) == []
