"""Azure's own FOCUS 1.2 export (Cost Management `FocusCost`) is read by the FOCUS reader.

The fixture's header is the column list of the FinOps toolkit's `focuscost_1.2.json` export
schema: the FOCUS columns followed by Azure's `x_` columns.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from costrail.schema.costs import COSTS_SCHEMA
from costrail.sources import native, readers
from costrail.sources.discover import discover
from costrail.warehouse import Warehouse
from costrail.warehouse.load import ingest

AZURE_FOCUS = Path(__file__).resolve().parents[1] / "fixtures" / "azure" / "focus_cost_1.2.csv"


def _column_total(column: str) -> Decimal:
    with AZURE_FOCUS.open(newline="", encoding="utf-8") as handle:
        return sum((Decimal(row[column]) for row in csv.DictReader(handle)), Decimal(0))


def test_azure_focus_export_is_detected_as_focus_not_as_an_azure_cost_export() -> None:
    found = discover([AZURE_FOCUS])

    assert [(group.reader.name, group.kind) for group in found.groups] == [("focus", "csv")]
    assert not readers.get("azure-cost")().detect(native.peek(AZURE_FOCUS))


def test_azure_focus_export_loads_and_reconciles_to_its_billed_cost(
    warehouse: Warehouse,
) -> None:
    report = ingest(warehouse, [AZURE_FOCUS])

    costs = warehouse.costs()
    assert [p.reconciled for p in report.partitions] == [True]
    assert report.partitions[0].source_total == _column_total("BilledCost")
    assert costs.BilledCost.sum().execute() == _column_total("BilledCost")
    assert costs.EffectiveCost.sum().execute() == _column_total("EffectiveCost")
    assert set(costs.x_Provider.execute()) == {"azure"}


def test_azure_x_columns_are_ignored_rather_than_loaded(warehouse: Warehouse) -> None:
    header = native.peek(AZURE_FOCUS).columns
    azure_extensions = [name for name in header if name.startswith("x_")]

    ingest(warehouse, [AZURE_FOCUS])

    costs = warehouse.costs()
    assert len(azure_extensions) == 51
    assert costs.columns == tuple(COSTS_SCHEMA.names)
    assert not set(azure_extensions) & set(costs.columns)
    assert costs.count().execute() == 4


def test_commitment_columns_of_the_azure_export_are_kept(warehouse: Warehouse) -> None:
    ingest(warehouse, [AZURE_FOCUS])

    costs = warehouse.costs()
    covered = costs.filter(costs.CommitmentDiscountStatus == "Used").to_pyarrow().to_pylist()
    assert [(row["BilledCost"], row["EffectiveCost"]) for row in covered] == [
        (Decimal(0), Decimal("35.52"))
    ]
    assert covered[0]["CommitmentDiscountType"] == "Reservation"
    assert dict(covered[0]["Tags"]) == {"team": "research"}
