"""Google Cloud Billing export (detailed, resource-level) → FOCUS: one row per cost, one per credit.

The export arrives from BigQuery as JSON lines or Parquet (nested records: `service.description`,
repeated `credits`, `labels`) or as a flattened CSV (dotted column names, repeated fields as JSON
text). All three are first brought to one flat shape (`gcp.flatten`); the mapping then never cares
which it was.

Each export row's `cost` is one FOCUS row. Each element of its `credits` array (sustained-use and
committed-use discounts, free tier, promotions, …) becomes a FOCUS row of its own with
ChargeCategory `Credit`, so the invoice total is sum(cost) + sum(credits) and reconciles as such.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.errors import InputError
from costrail.schema.costs import conform_costs
from costrail.sources.base import (
    FileKind,
    FilePeek,
    LoadWarnings,
    MappingContext,
    Reader,
    SourceFile,
    literal_string,
    register_reader,
    totals_per_load_key,
)
from costrail.sources.checks import require_parsable
from costrail.sources.expr import SOURCE_MONEY, parse_money
from costrail.sources.gcp.export_schema import JSON_SCHEMA, REPEATED, REQUIRED
from costrail.sources.gcp.flatten import field, flat_column, flatten, json_parser, present
from costrail.sources.gcp.mapping import (
    COST_TYPES,
    PROVIDER,
    cost_columns,
    credit_columns,
    prepare,
    shared_columns,
)
from costrail.sources.gcp.values import as_text, bigquery_timestamp, invoice_month

#: Fields whose presence says a file is a Cloud Billing export.
DETECTED_BY = (
    "billing_account_id",
    "cost",
    "usage_start_time",
    "service.description",
    "sku.description",
)


@register_reader(
    "gcp-billing",
    description="Google Cloud Billing export (BigQuery → JSON lines, Parquet, or flattened CSV)",
    file_kinds=("jsonl", "parquet", "csv"),
)
class GcpBillingReader(Reader):
    """Cloud Billing standard or detailed usage cost export (JSON lines, Parquet, flat CSV)."""

    def detect(self, peek: FilePeek) -> bool:
        return all(present(peek.columns, path) for path in DETECTED_BY)

    def validate_peek(self, peek: FilePeek) -> None:
        for path in REQUIRED:
            if present(peek.columns, path):
                continue
            raise InputError(
                f"missing mandatory column for a GCP billing export: {path}",
                file=peek.path,
                column=path,
                hint="export every column of the billing table (SELECT *)",
            )

    def arrow_read_options(self, kind: FileKind) -> dict[str, object]:
        return {"json_schema": JSON_SCHEMA} if kind == "jsonl" else {}

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        engine = native.get_backend().name
        _require_struct_fields(native, files)
        flat = flatten(native, engine)
        text_columns = {path: flat_column(native.columns, path) for path in REPEATED}
        text_parsers = {
            column: json_parser(REPEATED[path], engine)
            for path, column in text_columns.items()
            if column is not None and native[column].type().is_string()
        }
        require_parsable(native, text_parsers, "a JSON array")
        require_parsable(
            flat,
            {"cost": parse_money, "cost_at_list": parse_money},
            "a decimal number",
        )
        require_parsable(
            flat,
            {"usage_start_time": bigquery_timestamp, "usage_end_time": bigquery_timestamp},
            "a date-time (ISO 8601)",
        )
        require_parsable(flat, {"invoice.month": invoice_month}, "a month as YYYYMM")
        credits = flat.unnest("credits")
        credits = credits.mutate(**{"credits.amount": credits.credits["amount"]})
        require_parsable(credits, {"credits.amount": parse_money}, "a decimal number")
        _count_unknown_cost_types(flat, warnings)

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        rows = prepare(flatten(native, context.engine))
        cost_rows = rows.select(**shared_columns(rows), **cost_columns(rows))
        credits = rows.unnest("credits")
        credit_rows = credits.select(**shared_columns(credits), **credit_columns(credits))
        return conform_costs(cost_rows).union(conform_costs(credit_rows))

    def source_totals(self, native: ir.Table) -> ir.Table:
        """Each export row counts once with its cost; its credits add to the total, not the rows."""
        flat = flatten(native, native.get_backend().name)
        costs = flat.select(
            **_load_key(flat),
            _amount=parse_money(flat.cost, SOURCE_MONEY),
            _row=ibis.literal(1, type="int64"),
        )
        exploded = flat.unnest("credits")
        credits = exploded.select(
            **_load_key(exploded),
            _amount=parse_money(exploded.credits["amount"], SOURCE_MONEY),
            _row=ibis.literal(0, type="int64"),
        )
        amounts = costs.union(credits)
        return totals_per_load_key(amounts, amounts._amount, counted=amounts._row)


def _load_key(flat: ir.Table) -> dict[str, ir.Value]:
    return {
        "x_Provider": literal_string(PROVIDER),
        "BillingAccountId": as_text(flat.billing_account_id),
        "BillingPeriodStart": invoice_month(flat["invoice.month"]),
    }


def _require_struct_fields(native: ir.Table, files: list[SourceFile]) -> None:
    """A nested file must carry the fields its keys come from (Parquet has no fixed schema)."""
    for path in REQUIRED:
        if field(native, path, dt.null).type().is_null():
            raise InputError(
                f"missing mandatory field for a GCP billing export: {path}",
                file=files[0].path if files else None,
                column=path,
                hint="export every column of the billing table (SELECT *)",
            )


def _count_unknown_cost_types(flat: ir.Table, warnings: LoadWarnings) -> None:
    cost_type = flat.cost_type.cast("string").strip().lower()
    unknown = cost_type.notnull() & ~cost_type.isin(list(COST_TYPES))
    count = flat.aggregate(n=unknown.cast("int64").sum()).to_pyarrow().to_pylist()[0]["n"]
    warnings.add(
        "cost_type values outside regular/tax/adjustment/rounding error read as Adjustment",
        int(count or 0),
    )
