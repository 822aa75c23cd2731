"""GCP export values → typed: BigQuery timestamps, invoice months, text with blanks as null."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import TIMESTAMP
from costrail.sources.expr import blank_to_null, parse_timestamp


def bigquery_timestamp(value: ir.Value) -> ir.Value:
    """BigQuery writes `2024-01-01 07:00:00 UTC`; both engines read it once ` UTC` is `Z`."""
    if not value.type().is_string():
        return parse_timestamp(value)
    return parse_timestamp(value.replace(" UTC", "Z"))


def invoice_month(value: ir.Value) -> ir.Value:
    """`202401` → 2024-01-01T00:00:00Z (the UTC start of the invoice month); other text → null."""
    text = value.cast("string").strip()
    iso = text.substr(0, 4) + "-" + text.substr(4, 2) + "-01"
    return ibis.ifelse(text.re_search(r"^\d{6}$"), iso.try_cast(TIMESTAMP), ibis.null(TIMESTAMP))


def as_text(value: ir.Value) -> ir.StringValue:
    """Any field as text; empty or blank text as null (CSV exports write missing values so)."""
    return blank_to_null(value.cast("string"))
