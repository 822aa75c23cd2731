"""Legacy AWS Cost and Usage Reports (CSV, gzip CSV, Athena-layout Parquet) → costs.

CSV has `lineItem/UnblendedCost`-style headers and one `resourceTags/user:*` column per tag; the
Athena integration's Parquet has snake_case columns and one `resource_tags_*` column per tag.
Both are renamed to the CUR 2.0 names and mapped like CUR 2.0 (`aws.mapping`), so the two AWS
readers cannot drift apart. A legacy `*-Manifest.json` (with `reportKeys`) expands to its files.
"""

from __future__ import annotations

import re
from pathlib import Path

import ibis.expr.types as ir

from costrail.sources.aws.base_reader import AwsReader
from costrail.sources.aws.checks import REQUIRED_COLUMNS
from costrail.sources.aws.layouts import is_legacy_athena, is_legacy_csv, is_snake_case_cur
from costrail.sources.aws.line_items import AwsNative
from costrail.sources.aws.manifest import manifest_files
from costrail.sources.base import FilePeek, register_reader
from costrail.sources.checks import reject_missing_columns, require_columns
from costrail.sources.expr import json_tags, tags_json_from_columns

TAG_HEADER_PREFIX = "resourceTags/"
ATHENA_TAG_PREFIX = "resource_tags_"
#: The legacy headers of the columns every AWS mapping needs (see `aws.checks.REQUIRED_COLUMNS`).
REQUIRED_HEADERS = {
    "bill_payer_account_id": "bill/PayerAccountId",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
}
#: AWS-generated cost allocation tags whose spelling Athena's lower-casing loses.
AWS_SYSTEM_TAGS = (
    "aws:createdBy",
    "aws:cloudformation:stack-name",
    "aws:cloudformation:stack-id",
    "aws:cloudformation:logical-id",
    "aws:autoscaling:groupName",
    "aws:ec2spot:fleet-request-id",
    "aws:eks:cluster-name",
)


def snake_name(header: str) -> str:
    """A legacy CUR header as Athena names it.

    `lineItem/UnblendedCost` → `line_item_unblended_cost`, `reservation/ReservationARN` →
    `reservation_reservation_a_r_n` (every capital starts a word).
    """
    return "_".join(_snake(part) for part in header.split("/", 1))


def _snake(text: str) -> str:
    spaced = re.sub(r"([A-Z])", r"_\1", text).lower()
    return re.sub(r"[^a-z0-9]+", "_", spaced).strip("_")


def tag_key(header: str) -> str:
    """`resourceTags/user:team` → `team`; AWS tags keep their prefix (`aws:createdBy`)."""
    key = header.removeprefix(TAG_HEADER_PREFIX)
    return key.removeprefix("user:")


def athena_tag_key(column: str) -> str:
    """`resource_tags_user_team` → `team`; `resource_tags_aws_created_by` → `aws:createdBy`."""
    key = column.removeprefix(ATHENA_TAG_PREFIX)
    if key.startswith("user_"):
        return key.removeprefix("user_")
    known = {_snake(tag.replace(":", "_")): tag for tag in AWS_SYSTEM_TAGS}
    if key in known:
        return known[key]
    if key.startswith("aws_"):
        return "aws:" + key.removeprefix("aws_")
    return key


@register_reader(
    "aws-cur-legacy",
    description="legacy AWS Cost and Usage Report (CSV/gzip, Athena Parquet)",
    file_kinds=("csv", "parquet"),
)
class AwsCurLegacyReader(AwsReader):
    """Legacy AWS CUR (CSV, or Parquet laid out for Athena)."""

    def detect(self, peek: FilePeek) -> bool:
        return is_legacy_csv(peek) or (is_snake_case_cur(peek) and is_legacy_athena(peek))

    def expand(self, path: Path) -> list[Path] | None:
        return manifest_files(path, "reportKeys")

    def validate_peek(self, peek: FilePeek) -> None:
        if not is_legacy_csv(peek):
            require_columns(peek, REQUIRED_COLUMNS, "an AWS CUR file (Athena layout)")
            return
        present = {snake_name(name) for name in peek.columns}
        missing = [header for name, header in REQUIRED_HEADERS.items() if name not in present]
        reject_missing_columns(
            peek,
            missing,
            "a legacy AWS CUR file",
            hint="export the report with these columns, or pass --format if misdetected",
        )

    def prepare(self, native: ir.Table, engine: str | None = None) -> AwsNative:
        """Rename legacy headers to the CUR 2.0 names; tags from one column per tag key."""
        tag_columns: dict[str, str] = {}
        renames: dict[str, str] = {}
        for column in native.columns:
            if column.startswith(TAG_HEADER_PREFIX):
                tag_columns.setdefault(tag_key(column), column)
            elif column.startswith(ATHENA_TAG_PREFIX):
                tag_columns.setdefault(athena_tag_key(column), column)
            elif "/" in column:
                target = snake_name(column)
                if target not in native.columns and target not in renames:
                    renames[target] = column
        table = native.rename(renames) if renames else native
        tags = None
        if engine is not None and tag_columns:
            text = tags_json_from_columns(
                {key: table[column] for key, column in tag_columns.items()}
            )
            tags = json_tags(text, engine)
        return AwsNative(table=table, source_names=renames, tags=tags)
