"""AWS Data Exports CUR 2.0 (`COST_AND_USAGE_REPORT`) in Parquet or gzip CSV → costs.

Parquet keeps AWS's types (costs as DOUBLE, maps as real map columns); in CSV every value is
text and the map columns (`product`, `resource_tags`, …) are JSON objects. An export may select
any subset of columns, so everything beyond the load key is optional. A `*-Manifest.json`
names the data files of one export execution.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import ibis
import ibis.expr.types as ir

from costrail.errors import InputError
from costrail.schema.costs import TAGS
from costrail.sources import aws_common
from costrail.sources.aws_common import AwsNative
from costrail.sources.base import (
    FileKind,
    FilePeek,
    LoadWarnings,
    MappingContext,
    Reader,
    SourceFile,
    readers,
)
from costrail.sources.checks import require_columns, require_parsable
from costrail.sources.expr import json_tags

#: Columns only CUR 2.0 has: the map columns and the account names added by Data Exports.
CUR2_MARKERS = (
    "product",
    "resource_tags",
    "cost_category",
    "discount",
    "tags",
    "bill_payer_account_name",
    "line_item_usage_account_name",
)
#: Tag columns in the order they are preferred; `tags` is the newer all-tags column.
TAG_COLUMNS = ("resource_tags", "tags")
#: Other map columns the mapping reads (JSON object text in CSV exports).
MAP_COLUMNS = ("product",)


@ibis.udf.scalar.builtin(name="map")
def _duckdb_map(keys: list[str], values: list[str]) -> dict[str, str]:  # type: ignore[empty-body]
    """DuckDB: a map from a key list and a value list of the same length."""


@ibis.udf.scalar.builtin(name="json_valid")
def _duckdb_json_valid(value: str) -> bool:  # type: ignore[empty-body]
    """DuckDB: whether text is well-formed JSON."""


def is_snake_case_cur(peek: FilePeek) -> bool:
    """CUR line items under Athena/CUR 2.0 snake_case names (CUR 2.0 or legacy Athena)."""
    return peek.has("line_item_unblended_cost") and (
        peek.has("bill_billing_period_start_date") or peek.has("line_item_usage_start_date")
    )


def is_legacy_athena(peek: FilePeek) -> bool:
    """Legacy CUR as laid out for Athena: one column per tag/attribute, no map columns.

    CUR 2.0 moves tags into `resource_tags` and attributes outside its fixed list into the
    `product` map, so `resource_tags_*`, `cost_category_*` or `product_product_name` columns
    mean the legacy layout — unless a column only CUR 2.0 has says otherwise.
    """
    if any(peek.has(name) for name in CUR2_MARKERS):
        return False
    return (
        peek.has_prefix("resource_tags_")
        or peek.has_prefix("cost_category_")
        or peek.has("product_product_name")
        or peek.has("product_region")
    )


@readers.register("aws-cur2")
class AwsCur2Reader(Reader):
    """AWS Data Exports CUR 2.0."""

    name: ClassVar[str] = "aws-cur2"
    description: ClassVar[str] = "AWS Data Exports CUR 2.0 (Parquet or gzip CSV, or a manifest)"
    file_kinds: ClassVar[tuple[FileKind, ...]] = ("parquet", "csv")

    def detect(self, peek: FilePeek) -> bool:
        return is_snake_case_cur(peek) and not is_legacy_athena(peek)

    def expand(self, path: Path) -> list[Path] | None:
        manifest = read_manifest(path)
        if manifest is None or "dataFiles" not in manifest:
            return None
        return listed_files(path, manifest["dataFiles"])

    def validate_peek(self, peek: FilePeek) -> None:
        require_columns(peek, aws_common.REQUIRED_COLUMNS, "an AWS CUR 2.0 export")

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        aws_common.check(prepare(native), warnings)
        engine = native.get_backend().name
        json_columns = {
            name: (lambda text, engine=engine: _json_object_or_null(text, engine))
            for name in (*MAP_COLUMNS, *TAG_COLUMNS)
            if name in native.columns and native[name].type().is_string()
        }
        require_parsable(native, json_columns, "a JSON object")

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        rows = prepare(native, context.engine)
        return native.select(**aws_common.focus_columns(rows))

    def source_totals(self, native: ir.Table) -> ir.Table:
        return aws_common.source_totals(prepare(native))


def read_manifest(path: Path) -> dict[str, object] | None:
    """A `*-Manifest.json` as a dict, or None when `path` is not one."""
    if not path.name.endswith("Manifest.json") or not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable export manifest: {error}", file=path) from error
    return manifest if isinstance(manifest, dict) else None


def listed_files(manifest: Path, listed: object) -> list[Path]:
    """Local copies of the S3 objects a manifest lists (`dataFiles`, legacy `reportKeys`)."""
    if not isinstance(listed, list) or not all(isinstance(uri, str) for uri in listed):
        raise InputError("the manifest's file list is not a list of S3 paths", file=manifest)
    if not listed:
        raise InputError("the manifest lists no data files", file=manifest)
    found: list[Path] = []
    for uri in listed:
        local = _local_copy(manifest, uri)
        if local is None:
            raise InputError(
                f"data file {uri} listed in the manifest was not found next to it",
                file=manifest,
                hint="copy the export's data folder along with its manifest, as S3 lays it out",
            )
        found.append(local)
    return found


def _local_copy(manifest: Path, uri: str) -> Path | None:
    """Find an S3 object inside a local copy of the export's folder tree.

    The longest tail of the key that exists below the manifest's folder or one of its parents
    wins (a Data Exports manifest sits in `metadata/BILLING_PERIOD=…/`, its data in
    `data/BILLING_PERIOD=…/`; a legacy one next to its `<assembly id>/` folder).
    """
    key = uri.split("://", 1)[1].split("/", 1)[-1] if "://" in uri else uri
    parts = [part for part in key.split("/") if part]
    bases = [manifest.parent, *list(manifest.parents)[1:4]]
    for start in range(len(parts)):
        for base in bases:
            candidate = base.joinpath(*parts[start:])
            if candidate.is_file():
                return candidate
    return None


def prepare(native: ir.Table, engine: str | None = None) -> AwsNative:
    """CUR 2.0 columns already carry the shared names; maps come from JSON text in CSV exports.

    `engine` is needed only to parse JSON maps; checks and totals do without them.
    """
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
    is_object = stripped.startswith("{") & _duckdb_json_valid(stripped)
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
