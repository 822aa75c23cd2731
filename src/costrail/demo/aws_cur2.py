"""Writes CUR 2.0 exports as AWS Data Exports delivers them: Parquet per billing period + manifest.

Layout (the local folder stands for the S3 bucket `acme-ai-billing-exports`):

    aws/acme-cur2/data/BILLING_PERIOD=2026-09/acme-cur2-00001.snappy.parquet
    aws/acme-cur2/metadata/BILLING_PERIOD=2026-09/acme-cur2-Manifest.json

Column names and types are those of the COST_AND_USAGE_REPORT table (`data/aws_cur2_columns.csv`,
see `data/SOURCES.md`); the export selects every column except the optional split-cost,
capacity-reservation and IAM-principal groups. Strings are dictionary-encoded while writing, so
millions of rows cost little memory, and the Arrow schema is not stored: readers see plain
Parquet strings, doubles, UTC timestamps and maps, as in a real export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from costrail.demo.aws_lines import CurBatch, Template
from costrail.demo.company import AWS_PAYER_ACCOUNT, AWS_PAYER_NAME
from costrail.demo.ids import IdFactory, line_item_ids
from costrail.demo.money import E10, exact_sum, units_to_double
from costrail.demo.timeline import HOUR_MS, IntArray, Timeline

EXPORT_NAME = "acme-cur2"
EXPORT_BUCKET = "acme-ai-billing-exports"
EXPORT_PREFIX = "aws"
ROWS_PER_CHUNK = 1 << 20
_OPTIONAL_GROUPS = ("split_line_item_", "capacity_reservation_")
_OPTIONAL_COLUMNS = ("line_item_iam_principal", "tags")
_TIMESTAMP = pa.timestamp("ms", tz="UTC")
_DICT = pa.dictionary(pa.int32(), pa.string())
_PER_ROW_DOUBLES = (
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "line_item_blended_cost",
    "line_item_net_unblended_cost",
    "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_net_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
)


@dataclass(frozen=True)
class CurColumn:
    name: str
    type_text: str

    @property
    def arrow_type(self) -> pa.DataType:
        return {
            "string": pa.string(),
            "double": pa.float64(),
            "timestamp": _TIMESTAMP,
            "map<string,string>": pa.map_(pa.string(), pa.string()),
            "map<string,double>": pa.map_(pa.string(), pa.float64()),
        }[self.type_text]


@cache
def cur2_columns() -> tuple[CurColumn, ...]:
    """The exported columns, in the table's column order, with their CUR 2.0 types."""
    text = (
        resources.files("costrail.demo").joinpath("data", "aws_cur2_columns.csv").read_text("utf-8")
    )
    columns = []
    for row in csv.DictReader(text.splitlines()):
        name = row["column"]
        if name.startswith(_OPTIONAL_GROUPS) or name in _OPTIONAL_COLUMNS:
            continue
        columns.append(CurColumn(name, row["type"].replace(" ", "")))
    return tuple(columns)


def _write_type(column: CurColumn) -> pa.DataType:
    return (
        _DICT
        if column.type_text == "string" and column.name != "identity_line_item_id"
        else column.arrow_type
    )


def write_schema() -> pa.Schema:
    return pa.schema([pa.field(c.name, _write_type(c)) for c in cur2_columns()])


class CurRows:
    """Many batches concatenated column-wise; templates are encoded once per column."""

    def __init__(self, batches: Sequence[CurBatch]) -> None:
        self.templates: list[Template] = [batch.template for batch in batches]
        sizes = [len(batch) for batch in batches]
        self.template_id = np.repeat(np.arange(len(batches), dtype=np.int32), sizes)
        self.start_hour = _concat([b.start_hour for b in batches], np.int64)
        self.span_hours = _concat([b.span_hours for b in batches], np.int64)
        self.usage_amount = _concat([b.usage_amount for b in batches], np.float64)
        self.cost_e10 = _concat([b.cost_e10 for b in batches], np.int64)
        self.optional = {
            "pricing_public_on_demand_cost": _optional([b.public_cost_e10 for b in batches], sizes),
            "savings_plan_savings_plan_effective_cost": _optional(
                [b.sp_effective_e10 for b in batches], sizes
            ),
            "savings_plan_total_commitment_to_date": _optional(
                [b.sp_commitment_e10 for b in batches], sizes
            ),
            "savings_plan_used_commitment": _optional([b.sp_used_e10 for b in batches], sizes),
        }
        self.optional["savings_plan_net_savings_plan_effective_cost"] = self.optional[
            "savings_plan_savings_plan_effective_cost"
        ]
        self._encoded: dict[str, tuple[pa.Array, np.ndarray]] = {}
        self._maps: dict[str, tuple[IntArray, IntArray, pa.Array, pa.Array]] = {}

    def __len__(self) -> int:
        return int(self.start_hour.size)

    def string_codes(self, name: str) -> tuple[pa.Array, np.ndarray]:
        """(dictionary, code per template with -1 for null) of a static string column."""
        if name not in self._encoded:
            values: dict[str, int] = {}
            codes = np.array(
                [
                    -1 if t.get(name) is None else values.setdefault(str(t[name]), len(values))
                    for t in self.templates
                ],
                dtype=np.int32,
            )
            self._encoded[name] = (pa.array(list(values), type=pa.string()), codes)
        return self._encoded[name]

    def map_parts(self, name: str) -> tuple[IntArray, IntArray, pa.Array, pa.Array]:
        """Per-template (start, length) into flat key/value arrays of a map column."""
        if name not in self._maps:
            starts: list[int] = []
            lengths: list[int] = []
            keys: list[str] = []
            values: list[str] = []
            for template in self.templates:
                pairs = template.get(name) or ()
                starts.append(len(keys))
                lengths.append(len(pairs))
                keys.extend(k for k, _ in pairs)
                values.extend(v for _, v in pairs)
            self._maps[name] = (
                np.asarray(starts, dtype=np.int64),
                np.asarray(lengths, dtype=np.int64),
                pa.array(keys, type=pa.string()),
                pa.array(values, type=pa.string()),
            )
        return self._maps[name]

    def static_double(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        values = np.array([float(t.get(name) or 0.0) for t in self.templates], dtype=np.float64)
        present = np.array([t.get(name) is not None for t in self.templates], dtype=np.bool_)
        return values, present


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


def _optional(arrays: list[IntArray | None], sizes: list[int]) -> tuple[IntArray, np.ndarray]:
    values = [
        a if a is not None else np.zeros(n, dtype=np.int64)
        for a, n in zip(arrays, sizes, strict=True)
    ]
    present = [
        np.full(n, a is not None, dtype=np.bool_) for a, n in zip(arrays, sizes, strict=True)
    ]
    return _concat(values, np.int64), _concat(present, np.bool_)


@dataclass(frozen=True)
class PeriodContext:
    timeline: Timeline
    period_index: int
    seed: int
    invoice_id: str

    @property
    def period(self) -> str:
        return self.timeline.periods[self.period_index]


def build_chunk(
    rows: CurRows, index: np.ndarray, context: PeriodContext, first_row: int
) -> pa.Table:
    """The Arrow table of the rows at `index` (all in one billing period)."""
    count = int(index.size)
    tl = context.timeline
    template_id = rows.template_id[index]
    start = rows.start_hour[index]
    span = rows.span_hours[index]
    constants = {
        "bill_bill_type": "Anniversary",
        "bill_billing_entity": "AWS",
        "bill_invoice_id": context.invoice_id,
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": AWS_PAYER_ACCOUNT,
        "bill_payer_account_name": AWS_PAYER_NAME,
        "line_item_currency_code": "USD",
        "line_item_legal_entity": "Amazon Web Services, Inc.",
        "pricing_currency": "USD",
    }
    period_start_ms = tl.start_ms + int(tl.period_start_hours[context.period_index]) * HOUR_MS
    period_end_ms = tl.start_ms + int(tl.period_end_hours[context.period_index]) * HOUR_MS
    cost = rows.cost_e10[index]
    cost_double = units_to_double(cost, E10)
    columns: dict[str, pa.Array] = {}
    for column in cur2_columns():
        name = column.name
        if name in constants:
            columns[name] = _constant(constants[name], count)
        elif name == "bill_billing_period_start_date":
            columns[name] = pa.array(
                np.full(count, period_start_ms, dtype=np.int64), type=_TIMESTAMP
            )
        elif name == "bill_billing_period_end_date":
            columns[name] = pa.array(np.full(count, period_end_ms, dtype=np.int64), type=_TIMESTAMP)
        elif name == "line_item_usage_start_date":
            columns[name] = pa.array(tl.start_ms + start * HOUR_MS, type=_TIMESTAMP)
        elif name == "line_item_usage_end_date":
            columns[name] = pa.array(tl.start_ms + (start + span) * HOUR_MS, type=_TIMESTAMP)
        elif name == "identity_line_item_id":
            columns[name] = line_item_ids(context.seed, context.period, first_row, count)
        elif name == "identity_time_interval":
            columns[name] = _time_intervals(tl, start, span)
        elif name == "line_item_usage_amount":
            columns[name] = pa.array(rows.usage_amount[index], type=pa.float64())
        elif name in (
            "line_item_unblended_cost",
            "line_item_blended_cost",
            "line_item_net_unblended_cost",
        ):
            columns[name] = pa.array(cost_double, type=pa.float64())
        elif name in rows.optional:
            values, present = rows.optional[name]
            columns[name] = pa.array(
                units_to_double(values[index], E10), mask=~present[index], type=pa.float64()
            )
        elif column.type_text.startswith("map"):
            columns[name] = _map_column(rows, name, template_id, column.arrow_type)
        elif column.type_text == "double":
            values, present = rows.static_double(name)
            columns[name] = pa.array(
                values[template_id], mask=~present[template_id], type=pa.float64()
            )
        elif column.type_text == "timestamp":
            columns[name] = pa.nulls(count, _TIMESTAMP)
        else:
            dictionary, codes = rows.string_codes(name)
            row_codes = codes[template_id]
            indices = pa.array(row_codes, mask=row_codes < 0, type=pa.int32())
            columns[name] = pa.DictionaryArray.from_arrays(indices, dictionary)
    return pa.table(columns, schema=write_schema())


def _constant(value: str, count: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(count, dtype=np.int32)), pa.array([value])
    )


def _time_intervals(tl: Timeline, start: IntArray, span: IntArray) -> pa.DictionaryArray:
    """`identity_time_interval` text ('2026-09-01T00:00:00Z/2026-09-01T01:00:00Z')."""
    keys = start * 10_000 + span
    unique, inverse = np.unique(keys, return_inverse=True)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    texts = [
        tl.at(int(k // 10_000)).strftime(fmt)
        + "/"
        + tl.at(int(k // 10_000 + k % 10_000)).strftime(fmt)
        for k in unique
    ]
    return pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), pa.array(texts))


def _map_column(
    rows: CurRows, name: str, template_id: np.ndarray, arrow_type: pa.DataType
) -> pa.Array:
    if name not in ("resource_tags", "product"):
        return pa.nulls(template_id.size, arrow_type)
    starts, lengths, keys, values = rows.map_parts(name)
    row_lengths = lengths[template_id]
    offsets = np.zeros(template_id.size + 1, dtype=np.int32)
    np.cumsum(row_lengths, out=offsets[1:])
    total = int(offsets[-1])
    flat = np.repeat(starts[template_id] - offsets[:-1], row_lengths) + np.arange(
        total, dtype=np.int64
    )
    take = pa.array(flat, type=pa.int64())
    return pa.MapArray.from_arrays(pa.array(offsets), keys.take(take), values.take(take))


@dataclass(frozen=True)
class WrittenPeriod:
    period: str
    path: Path
    manifest: Path | None
    rows: int
    billed_e10: int


def write_period(
    rows: CurRows, context: PeriodContext, path: Path, index: np.ndarray | None = None
) -> WrittenPeriod:
    """Write the rows of one billing period (time-ordered) to `path` in row groups of 1Mi rows."""
    if index is None:
        period_of_row = context.timeline.period_of_hours(rows.start_hour)
        index = np.flatnonzero(period_of_row == context.period_index)
    index = index[np.argsort(rows.start_hour[index], kind="stable")]
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(
        path, write_schema(), compression="snappy", store_schema=False, write_statistics=True
    ) as writer:
        for first in range(0, max(index.size, 1), ROWS_PER_CHUNK):
            chunk = index[first : first + ROWS_PER_CHUNK]
            writer.write_table(
                build_chunk(rows, chunk, context, first), row_group_size=ROWS_PER_CHUNK
            )
    return WrittenPeriod(
        context.period, path, None, int(index.size), exact_sum(rows.cost_e10[index])
    )


def data_path(root: Path, period: str, part: int = 1) -> Path:
    return (
        root
        / EXPORT_PREFIX
        / EXPORT_NAME
        / "data"
        / f"BILLING_PERIOD={period}"
        / f"{EXPORT_NAME}-{part:05d}.snappy.parquet"
    )


def manifest_path(root: Path, period: str) -> Path:
    return (
        root
        / EXPORT_PREFIX
        / EXPORT_NAME
        / "metadata"
        / f"BILLING_PERIOD={period}"
        / f"{EXPORT_NAME}-Manifest.json"
    )


def write_export(
    root: Path, timeline: Timeline, batches: Sequence[CurBatch], ids: IdFactory
) -> list[WrittenPeriod]:
    """Every billing period's data file and manifest under `root` (the bucket root)."""
    rows = CurRows(batches)
    period_of_row = timeline.period_of_hours(rows.start_hour)
    written = []
    for period_index, period in enumerate(timeline.periods):
        context = PeriodContext(
            timeline, period_index, ids.seed, ids.digits(f"aws/invoice/{period}", 10)
        )
        index = np.flatnonzero(period_of_row == period_index)
        result = write_period(rows, context, data_path(root, period), index)
        manifest = manifest_path(root, period)
        _write_manifest(manifest, root, result.path, timeline, period_index, ids)
        written.append(WrittenPeriod(period, result.path, manifest, result.rows, result.billed_e10))
    return written


def _write_manifest(
    path: Path, root: Path, data_file: Path, tl: Timeline, period_index: int, ids: IdFactory
) -> None:
    """The Data Exports `Manifest.json` of one period (documented fields + billingPeriod)."""
    period = tl.periods[period_index]
    export_id = ids.uuid("aws/export")
    key = data_file.relative_to(root).as_posix()
    manifest: dict[str, Any] = {
        "executionId": ids.uuid(f"aws/execution/{period}"),
        "exportArn": (
            f"arn:aws:bcm-data-exports:us-east-1:{AWS_PAYER_ACCOUNT}"
            f":export/{EXPORT_NAME}-{export_id}"
        ),
        "billingPeriod": {
            "start": tl.period_starts[period_index].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "end": tl.period_ends[period_index].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
        "columns": [{"name": c.name, "type": c.type_text} for c in cur2_columns()],
        "dataFiles": [f"s3://{EXPORT_BUCKET}/{key}"],
        "additionalOutputFiles": [],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
