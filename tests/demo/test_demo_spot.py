"""Spot training in the demo: planted On-Demand runs in the dirty company, Spot in the clean one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import ibis.expr.types as ir
import pytest

from costrail.demo import Truth
from costrail.warehouse import connect
from costrail.warehouse.load import ingest

TRAINING_VMS = {"gcp": "atlas-a100-0", "azure": "atlas-nd-h100-0"}


@pytest.fixture(scope="module")
def clean_costs(
    clean_demo: tuple[Path, Truth], tmp_path_factory: pytest.TempPathFactory
) -> ir.Table:
    out, _ = clean_demo
    warehouse = connect(str(tmp_path_factory.mktemp("spot") / "w.duckdb"))
    ingest(warehouse, [out / "gcp", out / "azure"])
    return warehouse.costs()


@pytest.mark.parametrize("provider", ["gcp", "azure"])
def test_clean_training_runs_load_as_spot_usage(clean_costs: ir.Table, provider: str) -> None:
    rows = clean_costs.filter(clean_costs.ResourceName == TRAINING_VMS[provider])

    options = rows.group_by("x_PurchaseOption").aggregate(n=rows.count()).to_pyarrow()

    assert options.column("x_PurchaseOption").to_pylist() == ["Spot"]


@pytest.mark.parametrize("provider", ["gcp", "azure"])
def test_planted_spot_saving_is_on_demand_cost_minus_the_clean_spot_bill(
    demo: tuple[Path, Truth], clean_costs: ir.Table, provider: str
) -> None:
    _, truth = demo
    [item] = [
        p for p in truth.planted if p.provider == provider and p.kind == "ondemand_should_be_spot"
    ]
    rows = clean_costs.filter(clean_costs.ResourceName == TRAINING_VMS[provider])

    spot_billed = Decimal(rows.BilledCost.sum().to_pyarrow().as_py())

    on_demand = sum(item.cost_by_period.values(), Decimal(0))
    assert sum(item.savings_by_period.values(), Decimal(0)) == on_demand - spot_billed
    assert 0 < item.monthly_savings_usd < item.monthly_cost_usd
