"""Nested (JSON lines, Parquet) and flattened CSV GCP exports → one flat table of dotted fields.

The mapping never cares which shape a file had: every field it reads becomes a top-level column
named by its dotted path, and repeated records (`credits`, `labels`) become arrays of structs,
parsed from JSON text where a CSV export carries them so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.sources.base import FILE_COLUMN, ROW_COLUMN
from costrail.sources.expr import blank_to_null, duckdb_json_valid
from costrail.sources.gcp.export_schema import FIELDS, REPEATED


def flatten(native: ir.Table, engine: str) -> ir.Table:
    """Every field the mapping uses as a top-level column named by its dotted path."""
    columns: dict[str, ir.Value] = {path: field(native, path, dt.string) for path in FIELDS}
    for path, element in REPEATED.items():
        columns[path] = repeated(native, path, element, engine)
    columns[FILE_COLUMN] = native[FILE_COLUMN]
    columns[ROW_COLUMN] = native[ROW_COLUMN]
    return native.select(**columns)


def flat_column(columns: tuple[str, ...] | list[str], path: str) -> str | None:
    """The CSV column holding `path`: dotted (`service.description`) or `service_description`."""
    for name in (path, path.replace(".", "_")):
        if name in columns:
            return name
    return None


def present(columns: tuple[str, ...] | list[str], path: str) -> bool:
    """Whether a file's columns hold `path`, flat or as the top of a nested record."""
    return flat_column(columns, path) is not None or path.split(".", 1)[0] in columns


def field(native: ir.Table, path: str, dtype: dt.DataType) -> ir.Value:
    """A nested field (`service` → `description`), a flat CSV column, or a typed null."""
    column = flat_column(native.columns, path)
    if column is not None:
        return native[column]
    head, _, rest = path.partition(".")
    if not rest or head not in native.columns:
        return ibis.null(dtype)
    value: ir.Value = native[head]
    for part in rest.split("."):
        value_type = value.type()
        if not value_type.is_struct() or part not in value_type.names:
            return ibis.null(dtype)
        value = value[part]
    return value


def repeated(native: ir.Table, path: str, element: dt.Struct, engine: str) -> ir.ArrayValue:
    """A repeated record as an array of structs, whichever way the file stores it.

    Older exports lack some credit fields (`full_name`, `id`, `type`); those read as null.
    """
    value = field(native, path, dt.Array(element))
    if value.type().is_string():
        return json_parser(element, engine)(value)
    if value.type().is_null():
        return ibis.null(dt.Array(element))
    stored = value.type().value_type.names
    if all(name in stored for name in element.names):
        return value
    return value.map(
        lambda item: ibis.struct(
            {
                name: item[name] if name in stored else ibis.null(element[name])
                for name in element.names
            }
        )
    )


@cache
def _json_udfs(element: dt.Struct) -> tuple[Any, Any, Any]:
    """Engine builtins that read JSON text as an array of `element` (one set per element type)."""
    array = dt.Array(element)

    @ibis.udf.scalar.builtin(name="json_transform", signature=((dt.string, dt.string), array))
    def duckdb_transform(text: str, spec: str) -> object:
        """DuckDB: JSON text → LIST(STRUCT(...)); numbers read as VARCHAR keep their digits."""

    @ibis.udf.scalar.builtin(name="json_type", signature=((dt.string,), dt.string))
    def duckdb_type(text: str) -> str:  # type: ignore[empty-body]
        """DuckDB: the JSON type of the text's root (ARRAY, OBJECT, …)."""

    @ibis.udf.scalar.builtin(name="from_json", signature=((dt.string, dt.string), array))
    def spark_from_json(text: str, spec: str) -> object:
        """Spark: JSON text → array<struct<...>>; malformed text → null."""

    return duckdb_transform, duckdb_type, spark_from_json


def json_parser(element: dt.Struct, engine: str) -> Callable[[ir.Value], ir.Value]:
    """A parser: JSON array text → array of `element` structs; bad or blank text → null."""
    duckdb_transform, duckdb_type, spark_from_json = _json_udfs(element)
    array = dt.Array(element)

    def parse(value: ir.Value) -> ir.Value:
        text = blank_to_null(value.cast("string"))
        if engine == "duckdb":
            spec = json.dumps([{name: "VARCHAR" for name in element.names}])
            is_array = duckdb_type(text) == "ARRAY"
            parsed = ibis.cases((is_array, duckdb_transform(text, spec)), else_=ibis.null(array))
            return ibis.cases((duckdb_json_valid(text), parsed), else_=ibis.null(array))
        if engine == "pyspark":
            fields = ",".join(f"{name}:string" for name in element.names)
            return spark_from_json(text, f"array<struct<{fields}>>")
        return text.cast("json").cast(array)

    return parse
