"""Portable Ibis expression helpers shared by the readers (parsing money, dates, tags).

Everything here compiles on DuckDB and Spark. Where an engine has no portable Ibis spelling
(JSON object → map) the helper takes the engine name and calls that engine's builtin.
"""

from __future__ import annotations

import json

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.schema.costs import MONEY, TAGS, TIMESTAMP

#: Wider than MONEY so that the source total is summed at the source's own precision.
SOURCE_MONEY = dt.Decimal(38, 16)


@ibis.udf.scalar.builtin(name="json_transform")
def _duckdb_json_transform(value: str, spec: str) -> dict[str, str]:  # type: ignore[empty-body]
    """DuckDB: JSON text → MAP(VARCHAR, VARCHAR); non-string values keep their JSON text."""


@ibis.udf.scalar.builtin(name="from_json")
def _spark_from_json(value: str, spec: str) -> dict[str, str]:  # type: ignore[empty-body]
    """Spark: JSON text → map<string,string>."""


@ibis.udf.scalar.builtin(name="json_valid", signature=((dt.string,), dt.boolean))
def duckdb_json_valid(text: str) -> bool:  # type: ignore[empty-body]
    """DuckDB: whether text is well-formed JSON (its JSON transforms raise on malformed text)."""


def blank_to_null(value: ir.StringValue) -> ir.StringValue:
    """Empty or whitespace-only strings become null (CSV exports write missing values as '')."""
    stripped = value.strip()
    return ibis.ifelse(stripped == "", ibis.null("string"), stripped)


def parse_money(value: ir.Value, dtype: dt.DataType = MONEY) -> ir.Value:
    """String or number → exact decimal; unparsable text becomes null (see `first_unparsable`)."""
    if value.type().is_string():
        return _text_to_decimal(blank_to_null(value), dtype)  # type: ignore[arg-type]
    if value.type().is_floating():
        # Floats from Parquet exports (CUR 2.0 stores costs as DOUBLE): go through the shortest
        # repr so 0.1 becomes 0.1, not 0.1000000000000000055.
        return _float_text_to_decimal(value.cast("string"), dtype)  # type: ignore[arg-type]
    return value.cast(dtype)


def money_literal(amount: int) -> ir.Value:
    """An exact money constant (the 0 of rows whose cost another row carries)."""
    return ibis.literal(amount).cast(MONEY)


#: Widest decimal an engine parses text into with 64-bit arithmetic.
_NARROW_DIGITS = 18


def _is_wide(dtype: dt.DataType) -> bool:
    return (
        isinstance(dtype, dt.Decimal)
        and dtype.precision is not None
        and dtype.scale is not None
        and dtype.precision > _NARROW_DIGITS
        and dtype.scale < _NARROW_DIGITS
    )


def _text_to_decimal(text: ir.StringValue, dtype: dt.DataType) -> ir.Value:
    """Text → decimal, the same value as `text.try_cast(dtype)`, faster on DuckDB.

    DuckDB 1.5 parses text into a decimal of more than 18 digits some 50x slower than into one
    of at most 18 (≈5 µs a value), which would dominate a CUR load. Values that fit 18 digits
    at the same scale (|x| < 10^6 for MONEY) take the narrow parse; only the rest take the wide
    one. Both parses round alike, so the result does not depend on the path.
    """
    if not _is_wide(dtype):
        return text.try_cast(dtype)
    narrow = text.try_cast(dt.Decimal(_NARROW_DIGITS, dtype.scale)).cast(dtype)  # type: ignore[attr-defined]
    return ibis.coalesce(narrow, text.try_cast(dtype))


def _float_text_to_decimal(text: ir.StringValue, dtype: dt.DataType) -> ir.Value:
    """A double's shortest text → decimal, exactly, mostly through 18-digit parses.

    The shortest text of a double has at most 17 significant digits, so a value below 10^k
    has at most 17 - k decimals and an 18-digit decimal with that scale holds it exactly. Each
    tier takes the values the previous one was too small for; only huge ones take the wide parse.
    """
    if not _is_wide(dtype):
        return text.try_cast(dtype)
    scale: int = dtype.scale  # type: ignore[attr-defined]
    scales = [scale, *(tier for tier in (14, 12, 10, 8) if tier < scale)]
    tiers = [text.try_cast(dt.Decimal(_NARROW_DIGITS, tier)).cast(dtype) for tier in scales]
    return ibis.coalesce(*tiers, text.try_cast(dtype))


def parse_timestamp(value: ir.Value) -> ir.Value:
    """Text in the forms billing exports use → UTC timestamp; unparsable text → null.

    Accepted: ISO 8601 with or without `T`/`Z`/offset, `YYYY-MM-DD`, `YYYY/MM/DD`, and the US
    `MM/DD/YYYY` of Azure EA exports (with optional time).
    """
    if value.type().is_timestamp():
        return value.cast(TIMESTAMP)
    if value.type().is_date():
        return value.cast(TIMESTAMP)
    text = blank_to_null(value.cast("string"))  # type: ignore[arg-type]
    us_date = text.re_extract(r"^(\d{1,2})/(\d{1,2})/(\d{4})(.*)$", 0)
    us_iso = (
        text.re_extract(r"^(\d{1,2})/(\d{1,2})/(\d{4})(.*)$", 3)
        + "-"
        + text.re_extract(r"^(\d{1,2})/(\d{1,2})/(\d{4})(.*)$", 1).lpad(2, "0")
        + "-"
        + text.re_extract(r"^(\d{1,2})/(\d{1,2})/(\d{4})(.*)$", 2).lpad(2, "0")
        + text.re_extract(r"^(\d{1,2})/(\d{1,2})/(\d{4})(.*)$", 4)
    )
    normalised = ibis.ifelse(us_date.length() > 0, us_iso, text)
    slashed = r"^(\d{4})/(\d{2})/(\d{2})(.*)$"
    slashed_iso = (
        normalised.re_extract(slashed, 1)
        + "-"
        + normalised.re_extract(slashed, 2)
        + "-"
        + normalised.re_extract(slashed, 3)
        + normalised.re_extract(slashed, 4)
    )
    normalised = ibis.ifelse(normalised.re_search(slashed), slashed_iso, normalised)
    # "2024-01-01T00:00:00Z" / "+00:00": both engines cast these to an instant; plain forms are UTC.
    return normalised.try_cast(TIMESTAMP)


def month_start(timestamp: ir.TimestampValue) -> ir.TimestampValue:
    """The first instant of the timestamp's UTC month (billing periods are calendar months)."""
    return timestamp.truncate("M").cast(TIMESTAMP)  # type: ignore[return-value]


def add_months(timestamp: ir.TimestampValue, months: int) -> ir.TimestampValue:
    return (timestamp + ibis.interval(months=months)).cast(TIMESTAMP)  # type: ignore[return-value]


def add_days(timestamp: ir.Value, days: int) -> ir.Value:
    return (timestamp + ibis.interval(days=days)).cast(TIMESTAMP)


def json_tags(value: ir.StringValue, engine: str) -> ir.Value:
    """A JSON object in text → string→string map; empty or null text → null."""
    text = blank_to_null(value)
    if engine == "duckdb":
        return _duckdb_json_transform(text, '"MAP(VARCHAR, VARCHAR)"')
    if engine == "pyspark":
        return _spark_from_json(text, "map<string,string>")
    return text.cast("json").map.cast(TAGS)  # best effort on other engines


def json_readable(text: ir.StringValue, engine: str) -> ir.BooleanValue:
    """Whether `json_tags` can read the text without failing the query.

    DuckDB's JSON → map transform raises on malformed text instead of giving null, so there the
    text is validated first; on other engines a failed parse is null.
    """
    if engine == "duckdb":
        return duckdb_json_valid(text)
    return json_tags(text, engine).notnull()


def tags_json_from_columns(columns: dict[str, ir.Value]) -> ir.StringValue:
    """Build a JSON object text from named columns, skipping null or empty values.

    Used for wide tag layouts (legacy CUR `resourceTags/user:team`). Keys are escaped here in
    Python; values are escaped in the engine.
    """
    parts: list[ir.StringValue] = []
    for key, column in columns.items():
        value = blank_to_null(column.cast("string"))  # type: ignore[arg-type]
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        member = "," + json.dumps(key) + ':"' + escaped + '"'
        parts.append(ibis.ifelse(value.isnull(), "", member))
    if not parts:
        return ibis.literal("{}", type="string")
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + part
    return "{" + joined.substr(1) + "}"


def first_unparsable(
    native: ir.Table, column: str, parsed: ir.Value, file_column: str, row_column: str
) -> dict[str, object] | None:
    """The first row whose `column` has text but `parsed` is null, or None when all parse."""
    raw = native[column]
    has_text = raw.notnull()
    if raw.type().is_string():
        has_text = has_text & (raw.strip() != "")
    bad = native.filter(has_text & parsed.isnull())
    first = (
        bad.order_by([bad[file_column], bad[row_column]])
        .select(file=bad[file_column], row=bad[row_column], value=raw.cast("string"))
        .limit(1)
    )
    rows = first.to_pyarrow().to_pylist()
    return rows[0] if rows else None
