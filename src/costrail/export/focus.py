"""Write the warehouse's `costs` as a FOCUS 1.2 CostAndUsage file (Parquet or CSV) via DuckDB COPY.

The rows never pass through Python: a DuckDB warehouse copies straight from its table; any other
engine streams Arrow batches into an in-process DuckDB, which formats and writes them. The file
is written under a temporary name, checked (row count and BilledCost total read back from the
file must equal the warehouse's), and only then renamed into place, so a failed export never
leaves a partial file behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeAlias

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.errors import ConfigError, ExportError
from costrail.schema.costs import EXTENSION_COLUMNS, FOCUS_COLUMNS, MONEY
from costrail.warehouse.store import Warehouse

FileFormat = Literal["parquet", "csv"]
#: A filter on the costs table: a boolean expression over `warehouse.costs()`, or a function
#: that builds one from the table (e.g. `lambda t: t.x_Provider == "aws"`).
CostsFilter: TypeAlias = Callable[[ir.Table], ir.BooleanValue] | ir.BooleanValue

#: FOCUS DateTimeFormat: extended ISO 8601 in UTC.
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SUFFIXES: dict[str, FileFormat] = {".parquet": "parquet", ".csv": "csv"}
STREAM_VIEW = "_costrail_export_rows"


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, its format, and totals read back from the file itself."""

    path: Path
    file_format: FileFormat
    rows: int
    billed_cost_total: Decimal
    effective_cost_total: Decimal
    columns: tuple[str, ...]


@ibis.udf.scalar.builtin(name="timezone")
def _wall_clock(zone: str, instant: datetime) -> datetime:  # type: ignore[empty-body]
    """DuckDB: the wall-clock time of an instant in `zone` (independent of the session zone)."""


@ibis.udf.scalar.builtin(name="to_json", signature=((dt.Map(dt.string, dt.string),), dt.json))
def _to_json(value: dict[str, str]) -> str:  # type: ignore[empty-body]
    """DuckDB: any value (here a MAP) as a JSON value; cast to VARCHAR for the file."""


def export_focus(
    warehouse: Warehouse, out: Path | str, *, where: CostsFilter | None = None
) -> ExportResult:
    """Write `warehouse.costs()` (optionally filtered) to `out` as FOCUS 1.2 CostAndUsage.

    The format follows the suffix: `.parquet` or `.csv`. Columns: every FOCUS 1.2 column in the
    specification's order, then costrail's `x_` columns. Columns the source did not have are
    present and null. Raises `ConfigError` for another suffix and `ExportError` when the file
    read back does not match the warehouse (the partial file is removed; `out` is untouched).
    """
    path = Path(out)
    file_format = _format_for(path)
    costs = _filtered(warehouse.costs(), where)
    expected_rows, expected_billed = _warehouse_totals(costs)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        con, rows = _duckdb_rows(warehouse, costs)
        columns = parquet_columns(rows) if file_format == "parquet" else csv_columns(rows)
        _copy(con, rows.select(**columns), partial, file_format)
        written_rows, billed, effective = _file_totals(con, partial, file_format)
        if (written_rows, billed) != (expected_rows, expected_billed):
            raise ExportError(
                f"the written file holds {written_rows:,} rows, BilledCost {billed} but the "
                f"warehouse holds {expected_rows:,} rows, BilledCost {expected_billed}; "
                "nothing was written — run the export again"
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(
        path=path,
        file_format=file_format,
        rows=written_rows,
        billed_cost_total=billed,
        effective_cost_total=effective,
        columns=tuple(columns),
    )


def export_column_names() -> tuple[str, ...]:
    """The exported header: FOCUS 1.2 columns (spec order), then costrail's `x_` columns."""
    return (*FOCUS_COLUMNS, *EXTENSION_COLUMNS)


def parquet_columns(costs: ir.Table) -> dict[str, ir.Value]:
    """Typed columns: exact decimals, UTC timestamps, `Tags` as JSON text (FOCUS KeyValueFormat)."""
    columns: dict[str, ir.Value] = {}
    for name in export_column_names():
        value = costs[name]
        columns[name] = _json_text(value) if value.type().is_map() else value
    return columns


def csv_columns(costs: ir.Table) -> dict[str, ir.Value]:
    """Text columns: plain decimal text (no exponent, no float rounding, trailing zeros dropped),
    `YYYY-MM-DDTHH:MM:SSZ` date-times, `Tags` as a JSON object."""
    columns: dict[str, ir.Value] = {}
    for name in export_column_names():
        value = costs[name]
        dtype = value.type()
        if dtype.is_decimal():
            columns[name] = plain_decimal_text(value)
        elif dtype.is_timestamp():
            columns[name] = utc_text(value)
        elif dtype.is_map():
            columns[name] = _json_text(value)
        else:
            columns[name] = value
    return columns


def plain_decimal_text(value: ir.Value) -> ir.StringValue:
    """Decimal → its exact digits: DuckDB never uses an exponent for DECIMAL → VARCHAR, and
    trailing fractional zeros (`0.000000800000` → `0.0000008`) carry no value."""
    text = value.cast("string")
    trimmed = text.re_replace(r"\.?0+$", "")  # type: ignore[attr-defined]
    return ibis.ifelse(text.contains("."), trimmed, text)  # type: ignore[attr-defined,no-any-return]


def utc_text(value: ir.Value) -> ir.StringValue:
    """Timestamp → `YYYY-MM-DDTHH:MM:SSZ` in UTC (sub-second parts, which billing periods do not
    have, are dropped)."""
    wall_clock = _wall_clock("UTC", value.cast(dt.Timestamp(timezone="UTC")))
    return wall_clock.strftime(DATETIME_FORMAT)  # type: ignore[attr-defined,no-any-return]


def _json_text(value: ir.Value) -> ir.StringValue:
    return _to_json(value).cast("string")  # type: ignore[no-any-return]


def _format_for(path: Path) -> FileFormat:
    file_format = SUFFIXES.get(path.suffix.lower())
    if file_format is None:
        raise ConfigError(
            f"cannot tell the export format from {path.name!r}: name the file *.parquet or *.csv"
        )
    return file_format


def _filtered(costs: ir.Table, where: CostsFilter | None) -> ir.Table:
    if where is None:
        return costs
    predicate = where(costs) if callable(where) else where
    return costs.filter(predicate)


def _warehouse_totals(costs: ir.Table) -> tuple[int, Decimal]:
    totals = costs.aggregate(rows=costs.count(), billed=costs.BilledCost.sum().cast(MONEY))
    row = totals.to_pyarrow().to_pylist()[0]
    return int(row["rows"]), Decimal(row["billed"] or 0)


def _duckdb_rows(warehouse: Warehouse, costs: ir.Table) -> tuple[ibis.BaseBackend, ir.Table]:
    """The rows as a table on a DuckDB connection that can COPY them.

    A DuckDB warehouse is used directly. Any other engine (Spark) streams Arrow record batches
    into an in-process DuckDB; the batches are columnar and never walked row by row.
    """
    if warehouse.engine == "duckdb":
        return warehouse.con, costs
    local = ibis.duckdb.connect()
    batches = costs.select(*export_column_names()).to_pyarrow_batches()
    local.con.register(STREAM_VIEW, batches)  # type: ignore[attr-defined]
    return local, local.table(STREAM_VIEW)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy(con: ibis.BaseBackend, rows: ir.Table, path: Path, file_format: FileFormat) -> None:
    query = con.compile(rows)  # type: ignore[attr-defined]
    options = "FORMAT parquet" if file_format == "parquet" else "FORMAT csv, HEADER true"
    con.raw_sql(f"COPY ({query}) TO {_sql_text(str(path))} ({options})")  # type: ignore[attr-defined]


def _file_totals(
    con: ibis.BaseBackend, path: Path, file_format: FileFormat
) -> tuple[int, Decimal, Decimal]:
    """Rows and cost totals read back from the written file (CSV text parsed as decimals)."""
    source = (
        f"read_parquet({_sql_text(str(path))})"
        if file_format == "parquet"
        else f"read_csv({_sql_text(str(path))}, header = true, all_varchar = true)"
    )
    money = "DECIMAL(38, 12)"
    cursor = con.raw_sql(  # type: ignore[attr-defined]
        f'SELECT count(*), sum(CAST("BilledCost" AS {money})), '
        f'sum(CAST("EffectiveCost" AS {money})) FROM {source}'
    )
    rows, billed, effective = cursor.fetchone()
    return int(rows), Decimal(billed or 0), Decimal(effective or 0)
