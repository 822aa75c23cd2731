"""AWS Data Exports CUR 2.0 (`COST_AND_USAGE_REPORT`) in Parquet or gzip CSV → costs.

Parquet keeps AWS's types (costs as DOUBLE, maps as real map columns); in CSV every value is
text and the map columns (`product`, `resource_tags`, …) are JSON objects. An export may select
any subset of columns, so everything beyond the load key is optional. A `*-Manifest.json`
names the data files of one export execution.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import TAGS
from costrail.sources.aws.base_reader import AwsReader
from costrail.sources.aws.checks import REQUIRED_COLUMNS
from costrail.sources.aws.layouts import is_legacy_athena, is_snake_case_cur
from costrail.sources.aws.line_items import AwsNative
from costrail.sources.aws.manifest import manifest_files
from costrail.sources.base import FilePeek, LoadWarnings, SourceFile, register_reader
from costrail.sources.checks import require_columns, require_parsable
from costrail.sources.expr import json_readable, json_tags

#: Tag columns in the order they are preferred; `tags` is the newer all-tags column.
TAG_COLUMNS = ("resource_tags", "tags")
#: Other map columns the mapping reads (JSON object text in CSV exports).
MAP_COLUMNS = ("product",)


@ibis.udf.scalar.builtin(name="map")
def _duckdb_map(keys: list[str], values: list[str]) -> dict[str, str]:  # type: ignore[empty-body]
    """DuckDB: a map from a key list and a value list of the same length."""


@register_reader(
    "aws-cur2",
    description="AWS Data Exports CUR 2.0 (Parquet or gzip CSV, or a manifest)",
    file_kinds=("parquet", "csv"),
)
class AwsCur2Reader(AwsReader):
    """AWS Data Exports CUR 2.0."""

    def detect(self, peek: FilePeek) -> bool:
        return is_snake_case_cur(peek) and not is_legacy_athena(peek)

    def expand(self, path: Path) -> list[Path] | None:
        return manifest_files(path, "dataFiles")

    def validate_peek(self, peek: FilePeek) -> None:
        require_columns(peek, REQUIRED_COLUMNS, "an AWS CUR 2.0 export")

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        super().check(native, files, warnings)
        engine = native.get_backend().name
        json_columns = {
            name: (lambda text, engine=engine: _json_object_or_null(text, engine))
            for name in (*MAP_COLUMNS, *TAG_COLUMNS)
            if name in native.columns and native[name].type().is_string()
        }
        require_parsable(native, json_columns, "a JSON object")

    def prepare(self, native: ir.Table, engine: str | None = None) -> AwsNative:
        """CUR 2.0 columns already carry the shared names; maps come from JSON text in CSV."""
        if engine is None:
            return AwsNative(table=native)
        product = _map_column(native, "product", engine)
        tag_column = next((name for name in TAG_COLUMNS if name in native.columns), None)
        tags = _map_column(native, tag_column, engine) if tag_column else None
        return AwsNative(
            table=native,
            tags=aws_tag_map(tags, engine) if tags is not None else None,
            product=product,
        )


def _json_object_or_null(text: ir.StringValue, engine: str) -> ir.Value:
    """The text where it is a JSON object, else null (the map parse of DuckDB would raise)."""
    if engine != "duckdb":
        return json_tags(text, engine)
    stripped = text.strip()
    is_object = stripped.startswith("{") & json_readable(stripped, engine)
    return ibis.ifelse(is_object, stripped, ibis.null("string"))


def _map_column(native: ir.Table, name: str, engine: str) -> ir.Value | None:
    if name not in native.columns:
        return None
    column = native[name]
    if column.type().is_map():
        return column.cast(TAGS)
    if column.type().is_string():
        return json_tags(column, engine)  # type: ignore[arg-type]
    return None


def aws_tag_map(tags: ir.Value, engine: str) -> ir.Value:
    """CUR 2.0 tag keys → the keys users wrote; values are kept exactly.

    `user_team` → `team`, `aws_createdBy` → `aws:createdBy`. On DuckDB the map is built with
    its own `map(keys, values)`: Ibis's portable spelling renames the keys twice per row.
    """
    mapping: ir.MapValue = tags  # type: ignore[assignment]
    keys = mapping.keys().map(_user_key)
    if engine == "duckdb":
        renamed = _duckdb_map(keys, mapping.values())
    else:
        renamed = ibis.map(keys, mapping.values())
    return ibis.ifelse(mapping.isnull(), ibis.null(TAGS), renamed)


def _user_key(key: ir.StringValue) -> ir.StringValue:
    return ibis.cases(  # type: ignore[no-any-return]
        (key.startswith("user_"), key.substr(len("user_"))),
        (key.startswith("user:"), key.substr(len("user:"))),
        (key.startswith("aws_"), "aws:" + key.substr(len("aws_"))),
        else_=key,
    )
