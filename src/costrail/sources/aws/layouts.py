"""Which AWS CUR layout a file is, from its column names: CUR 2.0, legacy CSV or legacy Athena."""

from __future__ import annotations

from costrail.sources.base import FilePeek

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


def is_legacy_csv(peek: FilePeek) -> bool:
    """Legacy CUR CSV: `lineItem/UnblendedCost`-style headers."""
    return peek.has("lineItem/UnblendedCost") and (
        peek.has("bill/BillingPeriodStartDate") or peek.has("lineItem/UsageStartDate")
    )
