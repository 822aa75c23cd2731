"""AWS input checks before any write: mandatory columns, parsable costs and dates, quirks."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis.expr.types as ir

from costrail.schema.costs import MONEY
from costrail.sources.aws.amortisation import amortisation_rules
from costrail.sources.aws.attributes import service_categories
from costrail.sources.aws.line_items import KNOWN_TYPES, AwsNative
from costrail.sources.base import FILE_COLUMN, ROW_COLUMN, LoadWarnings
from costrail.sources.checks import require_parsable
from costrail.sources.expr import parse_money, parse_timestamp

#: Without these a row cannot be keyed (payer, period), classified or totalled.
REQUIRED_COLUMNS = (
    "bill_payer_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_unblended_cost",
)
#: Costs (decimal money) and quantities/rates the mapping reads; text values must parse.
MONEY_COLUMNS = (
    "line_item_unblended_cost",
    "line_item_net_unblended_cost",
    "pricing_public_on_demand_cost",
    "reservation_effective_cost",
    "reservation_net_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_net_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "reservation_net_unused_recurring_fee",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_net_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "line_item_usage_amount",
    "line_item_unblended_rate",
    "line_item_net_unblended_rate",
    "pricing_public_on_demand_rate",
)
TIME_COLUMNS = (
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
)


def check(rows: AwsNative, warnings: LoadWarnings) -> None:
    """Every cost and date in text must parse; quirks become counted warnings.

    One aggregate query counts unparsable values per column and every quirk; only a column
    with a bad value is scanned again, to name its first bad row in the error.
    """
    parsers = _text_parsers(rows)
    measures = {
        f"bad:{name}": _unparsable(rows, name, parse) for name, (parse, _) in parsers.items()
    }
    measures.update({f"warn:{message}": flag for message, flag in _quirks(rows).items()})
    aggregate = rows.table.aggregate(
        **{
            f"m{index}": flag.fill_null(False).cast("int64").sum()
            for index, flag in enumerate(measures.values())
        }
    )
    counts = dict(zip(measures, aggregate.to_pyarrow().to_pylist()[0].values(), strict=True))
    for key, count in counts.items():
        kind, name = key.split(":", 1)
        if kind == "bad" and count:
            parse, expected = parsers[name]
            _require_parsable_named(rows, {name: parse}, expected)
        elif kind == "warn":
            warnings.add(name, int(count or 0))


def _text_parsers(rows: AwsNative) -> dict[str, tuple[Callable[[ir.Value], ir.Value], str]]:
    """Parsers for the text columns the mapping reads (CSV: all; Parquet: the rate strings)."""
    parsers: dict[str, tuple[Callable[[ir.Value], ir.Value], str]] = {}
    for name in (*MONEY_COLUMNS, *TIME_COLUMNS):
        if rows.has(name) and rows.table[name].type().is_string():
            if name in TIME_COLUMNS:
                parsers[name] = (parse_timestamp, "a date-time (ISO 8601)")
            else:
                parsers[name] = (lambda value: parse_money(value, MONEY), "a decimal number")
    return parsers


def _unparsable(rows: AwsNative, name: str, parse: Callable[[ir.Value], ir.Value]) -> ir.Value:
    raw = rows.table[name]
    return raw.notnull() & (raw.strip() != "") & parse(raw).isnull()


def _require_parsable_named(
    rows: AwsNative, parsers: Mapping[str, Callable[[ir.Value], ir.Value]], expected: str
) -> None:
    """`require_parsable`, on a view whose columns carry the file's own names."""
    renamed = rows.table.select(
        FILE_COLUMN,
        ROW_COLUMN,
        **{rows.source_name(name): rows.table[name] for name in parsers},
    )
    require_parsable(
        renamed, {rows.source_name(name): parser for name, parser in parsers.items()}, expected
    )


def _quirks(rows: AwsNative) -> dict[str, ir.Value]:
    """Warning message → which rows it applies to."""
    line_type = rows.line_item_type()
    quirks: dict[str, ir.Value] = {
        "unknown line item type, ChargeCategory set to Adjustment": ~line_type.isin(KNOWN_TYPES),
    }
    product_code = rows.text("line_item_product_code")
    if product_code is not None:
        quirks["product code not in the ServiceCategory mapping, mapped to Other"] = (
            product_code.notnull() & ~product_code.isin(list(service_categories()))
        )
    for rule in amortisation_rules(rows):
        lacking = True if rule.effective_cost is None else rule.effective_cost.isnull()
        message = (
            f"EffectiveCost of {rule.line_item_type} rows set to BilledCost: "
            f"{rule.columns} missing or empty"
        )
        quirks[message] = (line_type == rule.line_item_type) & lacking
    return quirks
