"""Writes Azure cost as an Enterprise Agreement actual-cost export (CSV, one file per period).

Header and value formats follow the EA cost-and-usage-details file (55 columns, the order of
Microsoft's EA schema and of public EA export samples): US dates `MM/DD/YYYY`, `Tags` as
`"key": "value"` pairs without braces, a UTF-8 byte-order mark, quotes only where needed.
Costs (`CostInBillingCurrency`) are exact: Quantity (6 decimals) × EffectivePrice (4 decimals).

Path: `azure/acme-ea-actualcost/20260901-20260930/acme-ea-actualcost_<run id>.csv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from costrail.demo.ids import IdFactory
from costrail.demo.money import E10, decimal_strings, exact_sum, scaled_product, to_units
from costrail.demo.timeline import IntArray, Timeline

EXPORT_NAME = "acme-ea-actualcost"
EA_COLUMNS = (
    "InvoiceSectionName",
    "AccountName",
    "AccountOwnerId",
    "SubscriptionId",
    "SubscriptionName",
    "ResourceGroup",
    "ResourceLocation",
    "Date",
    "ProductName",
    "MeterCategory",
    "MeterSubCategory",
    "MeterId",
    "MeterName",
    "MeterRegion",
    "UnitOfMeasure",
    "Quantity",
    "EffectivePrice",
    "CostInBillingCurrency",
    "CostCenter",
    "ConsumedService",
    "ResourceId",
    "Tags",
    "OfferId",
    "AdditionalInfo",
    "ServiceInfo1",
    "ServiceInfo2",
    "ResourceName",
    "ReservationId",
    "ReservationName",
    "UnitPrice",
    "ProductOrderId",
    "ProductOrderName",
    "Term",
    "PublisherType",
    "PublisherName",
    "ChargeType",
    "Frequency",
    "PricingModel",
    "AvailabilityZone",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrencyCode",
    "BillingPeriodStartDate",
    "BillingPeriodEndDate",
    "BillingProfileId",
    "BillingProfileName",
    "InvoiceSectionId",
    "IsAzureCreditEligible",
    "PartNumber",
    "PayGPrice",
    "PlanName",
    "ServiceFamily",
    "CostAllocationRuleName",
    "benefitId",
    "benefitName",
)


@dataclass
class AzureBatch:
    """Daily rows of one meter on one resource; quantities in 1e-6, prices in 1e-4 USD."""

    static: dict[str, str]
    day: IntArray
    quantity_e6: IntArray
    price: Decimal

    @property
    def cost_e10(self) -> IntArray:
        return scaled_product(self.quantity_e6, to_units(self.price, 10**4), 1)

    @property
    def cost_units(self) -> IntArray:
        return self.cost_e10

    @property
    def start_hour(self) -> IntArray:
        return self.day * 24

    def __len__(self) -> int:
        return int(self.day.size)


@dataclass(frozen=True)
class WrittenMonth:
    period: str
    path: Path
    rows: int
    billed_e10: int


def write_export(
    root: Path, timeline: Timeline, batches: list[AzureBatch], ids: IdFactory
) -> list[WrittenMonth]:
    """One CSV per billing period under `azure/acme-ea-actualcost/<YYYYMMDD-YYYYMMDD>/`."""
    written = []
    for index, period in enumerate(timeline.periods):
        start = timeline.period_starts[index]
        end = timeline.period_ends[index] - timedelta(days=1)
        first_day, end_day = (
            int(timeline.period_start_hours[index]) // 24,
            int(timeline.period_end_hours[index]) // 24,
        )
        parts = [(b, (b.day >= first_day) & (b.day < end_day)) for b in batches]
        table, billed, rows = _period_table(timeline, parts, start, end)
        folder = root / "azure" / EXPORT_NAME / f"{start:%Y%m%d}-{end:%Y%m%d}"
        path = folder / f"{EXPORT_NAME}_{ids.uuid(f'azure/run/{period}')}.csv"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\ufeff" + csv_text(table)).encode("utf-8"))
        written.append(WrittenMonth(period, path, rows, billed))
    return written


def csv_text(table: pa.Table) -> str:
    """RFC 4180 text with quotes only where a value needs them, built column-wise."""
    header = ",".join(table.column_names)
    if table.num_rows == 0:
        return header + "\n"
    cells = [
        _csv_cells(pc.fill_null(table[name].combine_chunks(), "")) for name in table.column_names
    ]
    lines = pc.binary_join_element_wise(*cells, ",")
    body = pc.binary_join(
        pa.ListArray.from_arrays(pa.array([0, table.num_rows], type=pa.int32()), lines), "\n"
    )
    return header + "\n" + body[0].as_py() + "\n"


def _csv_cells(values: pa.Array) -> pa.Array:
    needs_quotes = pc.match_substring_regex(values, '[",\\r\\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs_quotes, quoted, values)


def _period_table(
    timeline: Timeline, parts: list[tuple[AzureBatch, np.ndarray]], start: datetime, end: datetime
) -> tuple[pa.Table, int, int]:
    selected = [(b, mask) for b, mask in parts if mask.any()]
    sizes = [int(mask.sum()) for _, mask in selected]
    template = pa.array(np.repeat(np.arange(len(selected)), sizes).astype(np.int64))
    day = np.concatenate([b.day[mask] for b, mask in selected])
    quantity = np.concatenate([b.quantity_e6[mask] for b, mask in selected])
    cost = np.concatenate([b.cost_e10[mask] for b, mask in selected])
    order = np.argsort(day, kind="stable")
    unique_days, inverse = np.unique(day, return_inverse=True)
    dates = pa.array(
        [(timeline.start + timedelta(days=int(d))).strftime("%m/%d/%Y") for d in unique_days]
    )
    columns: dict[str, pa.Array] = {}
    for name in EA_COLUMNS:
        if name == "Date":
            column = dates.take(pa.array(inverse.astype(np.int64)))
        elif name == "Quantity":
            column = decimal_strings(quantity, 10**6)
        elif name == "CostInBillingCurrency":
            column = decimal_strings(cost, E10)
        elif name == "BillingPeriodStartDate":
            column = pa.array([start.strftime("%m/%d/%Y")] * len(day))
        elif name == "BillingPeriodEndDate":
            column = pa.array([end.strftime("%m/%d/%Y")] * len(day))
        else:
            column = pa.array([b.static.get(name, "") for b, _ in selected], type=pa.string()).take(
                template
            )
        columns[name] = pc.take(column, pa.array(order))
    return pa.table(columns), exact_sum(cost), int(day.size)
