"""Region price differences: only between allowed regions, priced from the catalogs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa

from costrail.analyses import AnalysisContext, Thresholds, analyses
from costrail.analyses.regions import catalog_on_demand_prices, cheapest_move
from costrail.schema.costs import COSTS_SCHEMA, conform_costs

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
#: g5.12xlarge lists at 6.33167 $/h in eu-west-1 and 5.672 $/h in us-east-1 (shipped catalog).
EU_PRICE = Decimal("6.33167")
US_PRICE = Decimal("5.672")


def _instance_hours(region: str, hours: int, rate: Decimal) -> list[dict[str, Any]]:
    return [
        {
            "x_Provider": "aws",
            "SubAccountId": "111122223333",
            "ChargeCategory": "Usage",
            "ChargePeriodStart": START + timedelta(hours=hour),
            "ChargePeriodEnd": START + timedelta(hours=hour + 1),
            "ResourceId": "i-0eu",
            "RegionId": region,
            "x_InstanceType": "g5.12xlarge",
            "x_PurchaseOption": "OnDemand",
            "PricingUnit": "Hrs",
            "PricingQuantity": Decimal(1),
            "BilledCost": rate,
            "EffectiveCost": rate,
            "Tags": [("team", "vision")],
        }
        for hour in range(hours)
    ]


def _context(lines: list[dict[str, Any]], movable: tuple[str, ...]) -> AnalysisContext:
    schema = COSTS_SCHEMA.to_pyarrow()
    columns = {name: [line.get(name) for line in lines] for name in schema.names}
    table = conform_costs(ibis.memtable(pa.table(columns, schema=schema)))
    return AnalysisContext(table, "duckdb", START, END, Thresholds(movable_regions=movable))


def test_default_thresholds_suggest_no_region_move() -> None:
    context = _context(_instance_hours("eu-west-1", 720, EU_PRICE), movable=())
    assert analyses.get("region_price_difference")(context) == []


def test_instance_in_dearer_allowed_region_saves_the_price_difference() -> None:
    context = _context(_instance_hours("eu-west-1", 720, EU_PRICE), ("eu-west-1", "us-east-1"))
    [finding] = analyses.get("region_price_difference")(context)
    monthly_cost = EU_PRICE * 720
    expected = monthly_cost * (1 - US_PRICE / EU_PRICE)
    assert finding.resources == ("i-0eu",)
    assert finding.evidence["target_region"] == "us-east-1"
    assert abs(finding.monthly_savings_usd - expected) < Decimal("0.01")


def test_region_outside_the_allowed_list_is_not_moved() -> None:
    context = _context(_instance_hours("eu-west-1", 720, EU_PRICE), ("us-east-1", "us-west-2"))
    assert analyses.get("region_price_difference")(context) == []


def test_no_move_when_the_current_region_is_already_cheapest() -> None:
    context = _context(_instance_hours("us-east-1", 720, US_PRICE), ("eu-west-1", "us-east-1"))
    assert analyses.get("region_price_difference")(context) == []


def test_unknown_instance_type_has_no_move() -> None:
    prices = catalog_on_demand_prices("aws")
    assert cheapest_move("x9.nonexistent", "eu-west-1", ("eu-west-1", "us-east-1"), prices) is None
