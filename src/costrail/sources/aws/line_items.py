"""AWS line items under CUR 2.0 column names (`AwsNative`): their types, load key and total."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import MONEY
from costrail.sources.base import literal_string, totals_per_load_key
from costrail.sources.expr import SOURCE_MONEY, month_start, parse_money, parse_timestamp

PROVIDER_KEY = "aws"

USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
DISCOUNT_TYPES = (
    "BundledDiscount",
    "Discount",
    "DistributorDiscount",
    "EdpDiscount",
    "PrivateRateDiscount",
    "SppDiscount",
)
PURCHASE_TYPES = ("Fee", "RIFee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee")
CREDIT_TYPES = ("Credit", "Refund")
KNOWN_TYPES = (*USAGE_TYPES, *DISCOUNT_TYPES, *PURCHASE_TYPES, *CREDIT_TYPES, "Tax")
COVERED_TYPES = ("DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
#: Usage rows priced at public on-demand rates in `pricing_public_on_demand_*`.
PRICED_USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")


@dataclass(frozen=True)
class AwsNative:
    """Native rows with CUR 2.0 column names, plus the map-valued inputs the mapping needs.

    `source_names` maps each CUR 2.0 name back to the file's own column name, so errors name
    the column the user can find. `tags` has AWS's prefixes already resolved; `product` is the
    CUR 2.0 product attribute map (legacy files carry attributes as `product_<key>` columns).
    """

    table: ir.Table
    source_names: dict[str, str] = field(default_factory=dict)
    tags: ir.Value | None = None
    product: ir.Value | None = None

    def has(self, name: str) -> bool:
        return name in self.table.columns

    def text(self, name: str) -> ir.StringValue | None:
        """The column as text, empty text as null (values are otherwise kept exactly)."""
        if not self.has(name):
            return None
        column = self.table[name]
        text = column if column.type().is_string() else column.cast("string")
        return text.nullif("")  # type: ignore[attr-defined,no-any-return]

    def money(self, name: str) -> ir.Value | None:
        return parse_money(self.table[name], MONEY) if self.has(name) else None

    def time(self, name: str) -> ir.Value | None:
        return parse_timestamp(self.table[name]) if self.has(name) else None

    def line_item_type(self) -> ir.StringValue:
        """`line_item_line_item_type`, a mandatory column (see `checks.REQUIRED_COLUMNS`)."""
        return self.text("line_item_line_item_type")  # type: ignore[return-value]

    def product_attribute(self, key: str) -> ir.StringValue | None:
        """A product attribute: a fixed `product_<key>` column, else the CUR 2.0 product map."""
        fixed = self.text(f"product_{key}")
        if fixed is not None:
            return fixed
        if self.product is not None:
            return self.product.get(key).nullif("")  # type: ignore[attr-defined,no-any-return]
        return None

    def preferred(self, *names: str) -> ir.Value | None:
        """The first present and non-null of `names` (AWS `net_` variants listed first)."""
        return first_of(*(self.money(name) for name in names))

    def source_name(self, name: str) -> str:
        return self.source_names.get(name, name)


def first_of(*values: ir.Value | None) -> ir.Value | None:
    """COALESCE over the values a file has (None: the column is absent); None if it has none."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else ibis.coalesce(*present)


def billed_cost(rows: AwsNative, dtype: object = MONEY) -> ir.Value:
    """`line_item_net_unblended_cost` where present and non-null, else the unblended cost."""
    unblended = parse_money(rows.table.line_item_unblended_cost, dtype)  # type: ignore[arg-type]
    if not rows.has("line_item_net_unblended_cost"):
        return unblended
    net = parse_money(rows.table.line_item_net_unblended_cost, dtype)  # type: ignore[arg-type]
    return ibis.coalesce(net, unblended)


def billing_period_start(rows: AwsNative) -> ir.TimestampValue:
    """The bill's period start; a calendar month of the usage start where the export lacks it."""
    usage_month = month_start(rows.time("line_item_usage_start_date"))  # type: ignore[arg-type]
    bill_start = rows.time("bill_billing_period_start_date")
    if bill_start is None:
        return usage_month
    return ibis.coalesce(bill_start, usage_month)  # type: ignore[return-value]


def load_key(rows: AwsNative) -> dict[str, ir.Value]:
    """x_Provider, BillingAccountId (the payer) and BillingPeriodStart: what a re-load replaces."""
    return {
        "x_Provider": literal_string(PROVIDER_KEY),
        "BillingAccountId": rows.text("bill_payer_account_id"),  # type: ignore[dict-item]
        "BillingPeriodStart": billing_period_start(rows),
    }


def source_totals(rows: AwsNative) -> ir.Table:
    """Rows and billed total per load key, summed from the same source column as BilledCost."""
    keyed = rows.table.mutate(**load_key(rows), _amount=billed_cost(rows, SOURCE_MONEY))
    return totals_per_load_key(keyed, keyed._amount)
