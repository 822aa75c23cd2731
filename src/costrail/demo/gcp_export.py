"""Writes the GCP Cloud Billing detailed usage cost export as BigQuery extracts it: JSON lines.

One gzip file per invoice month, `gcp/billing_export/2026-09/part-000.jsonl.gz`, each line one
row of `gcp_billing_export_resource_v1_<account>` with the table's nested fields (`service`,
`sku`, `project`, `labels[{key,value}]`, `system_labels`, `location`, `resource`, `usage`,
`credits[{name,amount,full_name,id,type}]`, `invoice{month}`, `price`, …). As in BigQuery's JSON
extracts, TIMESTAMPs are written as `YYYY-MM-DD HH:MM:SS UTC`, FLOATs as JSON numbers and NULL
fields are left out. Lines are assembled column-wise from pre-escaped fragments (no per-row
Python), and costs are exact micro-dollars.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from costrail.demo.money import (
    E6,
    decimal_strings,
    decimal_text,
    exact_sum,
    scaled_product,
    to_units,
)
from costrail.demo.timeline import IntArray, Timeline

GCP_EXPORT_DIR = Path("gcp") / "billing_export"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
#: Hours between the end of a usage hour and the export that carries it.
_EXPORT_LAG_HOURS = 5


@dataclass(frozen=True)
class Credit:
    """A credit kind applied to rows of a batch (the amount is per row)."""

    name: str
    full_name: str
    id: str
    type: str


@dataclass
class GcpBatch:
    """Rows of one SKU on one resource. Money in micro-dollars; usage amounts as floats."""

    fields: dict[str, Any]  # static nested fields: service, sku, project, labels, …
    usage_unit: str
    pricing_unit: str
    effective_price: Decimal
    start_hour: IntArray
    span_hours: IntArray
    usage_amount: np.ndarray
    pricing_amount: np.ndarray
    cost_e6: IntArray
    credit: Credit | None = None
    credit_e6: IntArray | None = None

    def __len__(self) -> int:
        return int(self.start_hour.size)

    @property
    def cost_units(self) -> IntArray:
        """Billed micro-dollars (for `period_costs`)."""
        return self.billed_e6

    @property
    def billed_e6(self) -> IntArray:
        """cost + credits: what the invoice charges for each row."""
        return self.cost_e6 if self.credit_e6 is None else self.cost_e6 + self.credit_e6


def metered_rows(
    fields: dict[str, Any],
    usage_unit: str,
    pricing_unit: str,
    price: Decimal,
    hours: IntArray,
    usage_amount: np.ndarray,
    quantity: IntArray,
    quantity_per_pricing_unit: int | IntArray = 1,
    span_hours: int = 1,
) -> GcpBatch:
    """Rows priced at `price` per pricing unit; quantity / per-unit = amount in pricing units.

    cost = round_half_up(amount × price) in micro-dollars; prices may have up to 9 decimals.
    """
    price_e9 = to_units(price, 10**9)
    per_unit = np.asarray(quantity_per_pricing_unit, dtype=np.int64)
    cost = scaled_product(quantity, price_e9, per_unit * 1000)
    return GcpBatch(
        fields=fields,
        usage_unit=usage_unit,
        pricing_unit=pricing_unit,
        effective_price=price,
        start_hour=np.asarray(hours, dtype=np.int64),
        span_hours=np.full(len(hours), span_hours, dtype=np.int64),
        usage_amount=np.asarray(usage_amount, dtype=np.float64),
        pricing_amount=np.round(np.asarray(quantity, dtype=np.float64) / per_unit, 9),
        cost_e6=cost,
    )


def _fragment(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _members(*pairs: tuple[str, object]) -> str:
    """`"key":value` JSON members joined by commas: a static run of a row between its arrays."""
    return ",".join(f"{_fragment(key)}:{_fragment(value)}" for key, value in pairs)


def _head(batch: GcpBatch) -> str:
    f = batch.fields
    static = _members(
        ("billing_account_id", f["billing_account_id"]),
        ("service", f["service"]),
        ("sku", f["sku"]),
    )
    return "{" + static + ',"usage_start_time":"'


def _middle(batch: GcpBatch) -> str:
    f = batch.fields
    static = _members(
        ("project", f["project"]),
        ("labels", f["labels"]),
        ("system_labels", f["system_labels"]),
        ("location", f["location"]),
        ("tags", f.get("tags", [])),
    )
    return '",' + static + ',"transaction_type":"GOOGLE","seller_name":"Google","export_time":"'


def _usage_units(batch: GcpBatch) -> tuple[str, str]:
    return (
        ',"currency":"USD","currency_conversion_rate":1,"usage":{"amount":',
        ',"unit":' + _fragment(batch.usage_unit) + ',"amount_in_pricing_units":',
    )


def _pricing_unit_close(batch: GcpBatch) -> str:
    return ',"pricing_unit":' + _fragment(batch.pricing_unit) + '},"credits":'


_INVOICE_CLOSE = '","publisher_type":"Google"},"cost_type":"regular","cost_at_list":'


def _tail(batch: GcpBatch) -> str:
    price = decimal_text(to_units(batch.effective_price, 10**9), 10**9)
    resource = batch.fields.get("resource")
    resource_part = ',"resource":' + _fragment(resource) if resource else ""
    return (
        resource_part
        + ',"price":{"effective_price":'
        + price
        + ',"tier_start_amount":0,"unit":'
        + _fragment(batch.pricing_unit)
        + ',"pricing_unit_quantity":1}}'
    )


def _credit_parts(credit: Credit | None) -> tuple[str, str]:
    if credit is None:
        return "[", "]"
    return (
        '[{"name":' + _fragment(credit.name) + ',"amount":',
        ","
        + _members(("full_name", credit.full_name), ("id", credit.id), ("type", credit.type))
        + "}]",
    )


def _hour_texts(timeline: Timeline, hours: IntArray) -> pa.Array:
    unique, inverse = np.unique(hours, return_inverse=True)
    texts = pa.array([timeline.at(int(h)).strftime(_TIME_FORMAT) for h in unique])
    return texts.take(pa.array(inverse.astype(np.int64)))


def json_lines(timeline: Timeline, batches: Sequence[GcpBatch]) -> pa.Array:
    """One JSON object text per row of `batches`, in batch order."""
    sizes = [len(b) for b in batches]
    template = pa.array(np.repeat(np.arange(len(batches)), sizes).astype(np.int64))

    def static(parts: list[str]) -> pa.Array:
        return pa.array(parts).take(template)

    def concat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(0)

    start = concat([b.start_hour for b in batches]).astype(np.int64)
    end = start + concat([b.span_hours for b in batches]).astype(np.int64)
    cost = concat([b.cost_e6 for b in batches]).astype(np.int64)
    credit = concat(
        [b.credit_e6 if b.credit_e6 is not None else np.zeros(len(b), np.int64) for b in batches]
    ).astype(np.int64)
    has_credit = concat([np.full(len(b), b.credit is not None) for b in batches]).astype(np.bool_)
    usage = pc.cast(
        pa.array(concat([b.usage_amount for b in batches]).astype(np.float64)), pa.string()
    )
    pricing = pc.cast(
        pa.array(concat([b.pricing_amount for b in batches]).astype(np.float64)), pa.string()
    )
    credit_text = pc.if_else(pa.array(has_credit), decimal_strings(credit, E6), pa.scalar(""))
    months = pa.array([p.replace("-", "") for p in timeline.periods]).take(
        pa.array(timeline.period_of_hours(start))
    )
    usage_head, usage_mid = (
        zip(*[_usage_units(b) for b in batches], strict=True) if batches else ((), ())
    )
    credit_parts = [_credit_parts(b.credit) for b in batches]
    pieces = [
        static([_head(b) for b in batches]),
        _hour_texts(timeline, start),
        pa.scalar('","usage_end_time":"'),
        _hour_texts(timeline, end),
        static([_middle(b) for b in batches]),
        _hour_texts(timeline, end + _EXPORT_LAG_HOURS),
        pa.scalar('","cost":'),
        decimal_strings(cost, E6),
        static(list(usage_head)),
        usage,
        static(list(usage_mid)),
        pricing,
        static([_pricing_unit_close(b) for b in batches]),
        static([c[0] for c in credit_parts]),
        credit_text,
        static([c[1] for c in credit_parts]),
        pa.scalar(',"invoice":{"month":"'),
        months,
        pa.scalar(_INVOICE_CLOSE),
        decimal_strings(cost, E6),
        static([_tail(b) for b in batches]),
    ]
    return pc.binary_join_element_wise(*pieces, "")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class WrittenMonth:
    period: str
    path: Path
    rows: int
    billed_e6: int


def write_export(root: Path, timeline: Timeline, batches: Sequence[GcpBatch]) -> list[WrittenMonth]:
    """One gzip JSON-lines file per invoice month (rows in time order), deterministic bytes."""
    lines = json_lines(timeline, batches)
    start = np.concatenate([b.start_hour for b in batches]).astype(np.int64)
    billed = np.concatenate([b.billed_e6 for b in batches]).astype(np.int64)
    period_of_row = timeline.period_of_hours(start)
    written = []
    for index, period in enumerate(timeline.periods):
        rows = np.flatnonzero(period_of_row == index)
        rows = rows[np.argsort(start[rows], kind="stable")]
        path = root / GCP_EXPORT_DIR / period / "part-000.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        month_lines = lines.take(pa.array(rows, type=pa.int64()))
        as_list = pa.ListArray.from_arrays(pa.array([0, rows.size], type=pa.int32()), month_lines)
        text = pc.binary_join(as_list, "\n")[0].as_py() + "\n"
        buffer = io.BytesIO()
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6
        ) as handle:
            handle.write(text.encode("utf-8"))
        path.write_bytes(buffer.getvalue())
        written.append(WrittenMonth(period, path, int(rows.size), exact_sum(billed[rows])))
    return written
