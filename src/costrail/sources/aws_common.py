"""AWS line items (CUR 2.0 and legacy CUR) → FOCUS columns, as one Ibis projection.

Both AWS readers first give their columns the CUR 2.0 snake_case names (the names Athena also
gives legacy CUR) and then share everything here: the load key, the billed total, AWS's
amortisation rules for EffectiveCost, the FOCUS charge classification and the `x_` columns.
The mapping is CASE expressions over one row at a time — no joins — so it streams on DuckDB
and compiles unchanged on Spark.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.pricing.gpu_instances import aws_gpu_case
from costrail.schema.costs import MONEY, QUANTITY, TAGS
from costrail.sources.base import FILE_COLUMN, ROW_COLUMN, LoadWarnings, literal_string
from costrail.sources.checks import require_parsable
from costrail.sources.expr import (
    SOURCE_MONEY,
    add_months,
    month_start,
    parse_money,
    parse_timestamp,
)

PROVIDER_KEY = "aws"
PROVIDER_NAME = "AWS"
AWS_ENTITY = "Amazon Web Services, Inc."
MARKETPLACE = "AWS Marketplace"

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

#: S3 usage-type infixes → S3 API storage class (AWS "Understanding your AWS billing and usage
#: reports for Amazon S3"); `Glacier`/`GLACIER` and plain `TimedStorage-ByteHrs` handled apart.
S3_CLASS_TOKENS = {
    "GDA": "DEEP_ARCHIVE",
    "GIR": "GLACIER_IR",
    "SIA": "STANDARD_IA",
    "ZIA": "ONEZONE_IA",
    "INT": "INTELLIGENT_TIERING",
    "RRS": "REDUCED_REDUNDANCY",
}
#: Instance type at the end of an EC2/SageMaker usage type (`USE1-SpotUsage:g5.xlarge`).
USAGE_TYPE_INSTANCE = (
    r":((?:ml\.)?[a-z][a-z0-9-]*\.[0-9]*(?:xlarge|large|medium|small|micro|nano|metal[a-z0-9-]*))$"
)


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
    return keyed.group_by(["x_Provider", "BillingAccountId", "BillingPeriodStart"]).aggregate(
        source_rows=keyed.count(), source_total=keyed._amount.sum()
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
    line_type = _line_type(rows)
    quirks: dict[str, ir.Value] = {
        "unknown line item type, ChargeCategory set to Adjustment": ~line_type.isin(KNOWN_TYPES),
    }
    product_code = rows.text("line_item_product_code")
    if product_code is not None:
        quirks["product code not in the ServiceCategory mapping, mapped to Other"] = (
            product_code.notnull() & ~product_code.isin(list(service_categories()))
        )
    for rule in _amortisation_rules(rows):
        lacking = True if rule.effective_cost is None else rule.effective_cost.isnull()
        message = (
            f"EffectiveCost of {rule.line_item_type} rows set to BilledCost: "
            f"{rule.columns} missing or empty"
        )
        quirks[message] = (line_type == rule.line_item_type) & lacking
    return quirks


def _line_type(rows: AwsNative) -> ir.StringValue:
    return rows.text("line_item_line_item_type")  # type: ignore[return-value]


def _money_literal(amount: int) -> ir.Value:
    return ibis.literal(amount).cast(MONEY)


@dataclass(frozen=True)
class AmortisationRule:
    """EffectiveCost of one kind of line item, or None where the export lacks its columns."""

    line_item_type: str
    effective_cost: ir.Value | None
    columns: str


def _amortisation_rules(rows: AwsNative) -> list[AmortisationRule]:
    """AWS's amortised cost for the rows that commitments touch (all others: billed cost)."""
    ri_unused = [
        rows.preferred(f"reservation_net_unused_{name}", f"reservation_unused_{name}")
        for name in ("amortized_upfront_fee_for_billing_period", "recurring_fee")
    ]
    sp_total = rows.money("savings_plan_total_commitment_to_date")
    sp_used = rows.money("savings_plan_used_commitment")
    return [
        AmortisationRule(
            "SavingsPlanCoveredUsage",
            rows.preferred(
                "savings_plan_net_savings_plan_effective_cost",
                "savings_plan_savings_plan_effective_cost",
            ),
            "savings_plan_savings_plan_effective_cost",
        ),
        AmortisationRule(
            "SavingsPlanRecurringFee",
            None if sp_total is None or sp_used is None else sp_total - sp_used,  # type: ignore[operator]
            "savings_plan_total_commitment_to_date, savings_plan_used_commitment",
        ),
        AmortisationRule(
            "DiscountedUsage",
            rows.preferred("reservation_net_effective_cost", "reservation_effective_cost"),
            "reservation_effective_cost",
        ),
        AmortisationRule(
            "RIFee",
            None if any(part is None for part in ri_unused) else ri_unused[0] + ri_unused[1],  # type: ignore[operator]
            "reservation_unused_amortized_upfront_fee_for_billing_period, "
            "reservation_unused_recurring_fee",
        ),
    ]


def effective_cost(rows: AwsNative, billed: ir.Value, ri_arn: ir.Value | None) -> ir.Value:
    """Amortised cost: commitments spread over the usage they cover, unused parts on the fees.

    SavingsPlanNegation and SavingsPlanUpfrontFee are 0 (the covered usage carries the cost), an
    RI's upfront `Fee` is 0 (amortised into DiscountedUsage/RIFee); everything else is billed.
    """
    line_type = _line_type(rows)
    branches: list[tuple[ir.Value, ir.Value]] = [
        (line_type.isin(("SavingsPlanNegation", "SavingsPlanUpfrontFee")), _money_literal(0)),
    ]
    for rule in _amortisation_rules(rows):
        if rule.effective_cost is not None:
            cost = ibis.coalesce(rule.effective_cost, billed)
            branches.append((line_type == rule.line_item_type, cost))
    if ri_arn is not None:
        branches.append(((line_type == "Fee") & ri_arn.notnull(), _money_literal(0)))
    return ibis.cases(
        *((condition, value.cast(MONEY)) for condition, value in branches), else_=billed
    )


def focus_columns(rows: AwsNative) -> dict[str, ir.Value]:
    """Every costs column an AWS line item fills, keyed by name (see docs/sources/aws.md)."""
    line_type = _line_type(rows)
    bill_type = rows.text("bill_bill_type")
    usage_type = rows.text("line_item_usage_type")
    product_code = rows.text("line_item_product_code")
    billed = billed_cost(rows)
    ri_arn = rows.text("reservation_reservation_a_r_n")
    sp_arn = rows.text("savings_plan_savings_plan_a_r_n")
    spot = _is_spot(usage_type)
    category = ibis.cases(
        (line_type.isin((*USAGE_TYPES, *DISCOUNT_TYPES)), "Usage"),
        (line_type.isin(PURCHASE_TYPES), "Purchase"),
        (line_type == "Tax", "Tax"),
        (line_type.isin(CREDIT_TYPES), "Credit"),
        else_="Adjustment",
    )
    start = rows.time("line_item_usage_start_date")
    period_start = billing_period_start(rows)
    correction = (line_type == "Refund") | (start < period_start)  # type: ignore[operator]
    if bill_type is not None:
        correction = correction | (bill_type == "Refund")
    quantity = _quantity(rows, line_type)
    pricing_unit = rows.text("pricing_unit")
    columns: dict[str, ir.Value | None] = {
        **load_key(rows),
        "BillingAccountName": rows.text("bill_payer_account_name"),
        "BillingPeriodEnd": _period_end(rows, period_start),
        "BillingCurrency": rows.text("line_item_currency_code"),
        "SubAccountId": rows.text("line_item_usage_account_id"),
        "SubAccountName": rows.text("line_item_usage_account_name"),
        "InvoiceId": rows.text("bill_invoice_id"),
        "InvoiceIssuerName": ibis.coalesce(
            rows.text("bill_invoicing_entity"), literal_string(AWS_ENTITY)
        ),
        "ProviderName": literal_string(PROVIDER_NAME),
        "PublisherName": _publisher(rows),
        "ChargePeriodStart": start,
        "ChargePeriodEnd": rows.time("line_item_usage_end_date"),
        "ChargeCategory": category,
        "ChargeClass": ibis.ifelse(correction.fill_null(False), "Correction", ibis.null("string")),
        "ChargeDescription": rows.text("line_item_line_item_description"),
        "ChargeFrequency": _charge_frequency(line_type, category, bill_type),
        "BilledCost": billed,
        "EffectiveCost": effective_cost(rows, billed, ri_arn),
        "ListCost": _list_cost(rows, line_type, billed),
        "ListUnitPrice": _unless(
            ~line_type.isin(PRICED_USAGE_TYPES), rows.money("pricing_public_on_demand_rate"), MONEY
        ),
        "ContractedCost": _contracted_cost(rows, line_type, billed),
        "ContractedUnitPrice": _contracted_unit_price(rows, line_type),
        "PricingCategory": ibis.cases(
            (line_type.isin(COVERED_TYPES), "Committed"),
            ((line_type == "Usage") & spot, "Dynamic"),
            (category.isin(("Usage", "Purchase")), "Standard"),
            else_=ibis.null("string"),
        ),
        "PricingCurrency": rows.text("pricing_currency"),
        "PricingQuantity": _unless(category == "Tax", quantity, QUANTITY),
        "PricingUnit": _unless(category == "Tax", pricing_unit, "string"),
        "ConsumedQuantity": _unless(category != "Usage", quantity, QUANTITY),
        "ConsumedUnit": _unless(category != "Usage", pricing_unit, "string"),
        "x_PurchaseOption": _purchase_option(line_type, spot, ri_arn),
        **_commitment_columns(category, sp_arn, ri_arn),
        **_service_columns(rows, product_code),
        **_resource_columns(rows, usage_type, product_code),
        "Tags": rows.tags.cast(TAGS) if rows.tags is not None else None,
        "x_SourceFile": rows.table[FILE_COLUMN],
        "x_SourceRow": rows.table[ROW_COLUMN],
    }
    return {name: value for name, value in columns.items() if value is not None}


def _quantity(rows: AwsNative, line_type: ir.StringValue) -> ir.Value | None:
    """Usage amount; 0 on negations and discounts, whose usage the covered row already counts."""
    if not rows.has("line_item_usage_amount"):
        return None
    amount = parse_money(rows.table.line_item_usage_amount, QUANTITY)
    offsets = line_type.isin(("SavingsPlanNegation", *DISCOUNT_TYPES))
    return ibis.ifelse(offsets, ibis.literal(0).cast(QUANTITY), amount)


def _unless(condition: ir.Value, value: ir.Value | None, dtype: object) -> ir.Value | None:
    if value is None:
        return None
    return ibis.ifelse(condition, ibis.null(dtype), value)  # type: ignore[arg-type]


def _period_end(rows: AwsNative, period_start: ir.TimestampValue) -> ir.Value:
    next_month = add_months(period_start, 1)
    bill_end = rows.time("bill_billing_period_end_date")
    return next_month if bill_end is None else ibis.coalesce(bill_end, next_month)


def _publisher(rows: AwsNative) -> ir.Value:
    """AWS's own services are published by AWS; Marketplace rows by their seller of record."""
    entity = rows.text("bill_billing_entity")
    if entity is None:
        return literal_string(AWS_ENTITY)
    seller = rows.text("line_item_legal_entity")
    marketplace = literal_string(MARKETPLACE)
    publisher = marketplace if seller is None else ibis.coalesce(seller, marketplace)
    return ibis.ifelse(entity == MARKETPLACE, publisher, literal_string(AWS_ENTITY))


def _is_spot(usage_type: ir.StringValue | None) -> ir.BooleanValue:
    """EC2 Spot (`SpotUsage`) and SageMaker managed Spot training (`TrSpt`) usage types."""
    if usage_type is None:
        return ibis.literal(False)
    return (usage_type.contains("SpotUsage") | usage_type.contains("TrSpt")).fill_null(False)


def _charge_frequency(
    line_type: ir.StringValue, category: ir.StringValue, bill_type: ir.StringValue | None
) -> ir.Value:
    """Commitment fees recur, upfront fees and credits happen once, usage is usage-based.

    Other rows (Fee, Tax) follow their bill: a Purchase or Refund bill is one-time.
    """
    branches: list[tuple[ir.Value, str]] = [
        (line_type.isin(("RIFee", "SavingsPlanRecurringFee")), "Recurring"),
        (line_type.isin(("SavingsPlanUpfrontFee", *CREDIT_TYPES)), "One-Time"),
        (category == "Usage", "Usage-Based"),
    ]
    if bill_type is not None:
        branches.append((bill_type.isin(("Purchase", "Refund")), "One-Time"))
    return ibis.cases(*branches, else_="Recurring")


def _list_cost(rows: AwsNative, line_type: ir.StringValue, billed: ir.Value) -> ir.Value:
    """Public on-demand cost of usage; 0 for negations and discounts; billed for the rest."""
    on_demand = rows.money("pricing_public_on_demand_cost")
    usage_list = billed if on_demand is None else ibis.coalesce(on_demand, billed)
    return ibis.cases(
        (line_type.isin(("SavingsPlanNegation", *DISCOUNT_TYPES)), _money_literal(0)),
        (
            line_type.isin(PRICED_USAGE_TYPES),
            usage_list.cast(MONEY),
        ),
        else_=billed,
    )


def _contracted_cost(rows: AwsNative, line_type: ir.StringValue, billed: ir.Value) -> ir.Value:
    """Cost at the account's rates before commitment discounts (RI usage at on-demand cost)."""
    on_demand = rows.money("pricing_public_on_demand_cost")
    ri_covered = billed if on_demand is None else ibis.coalesce(on_demand, billed)
    return ibis.cases(
        (line_type == "SavingsPlanNegation", _money_literal(0)),
        (line_type == "DiscountedUsage", ri_covered.cast(MONEY)),
        else_=billed,
    )


def _contracted_unit_price(rows: AwsNative, line_type: ir.StringValue) -> ir.Value | None:
    rate = rows.preferred("line_item_net_unblended_rate", "line_item_unblended_rate")
    on_demand_rate = rows.money("pricing_public_on_demand_rate")
    if rate is None and on_demand_rate is None:
        return None
    null_money = ibis.null(MONEY)
    return ibis.cases(
        (
            line_type.isin(("Usage", "SavingsPlanCoveredUsage")),
            rate if rate is not None else null_money,
        ),
        (
            line_type == "DiscountedUsage",
            on_demand_rate if on_demand_rate is not None else null_money,
        ),
        else_=null_money,
    )


def _purchase_option(
    line_type: ir.StringValue, spot: ir.BooleanValue, ri_arn: ir.StringValue | None
) -> ir.Value:
    branches: list[tuple[ir.Value, str]] = [
        (line_type.isin(("DiscountedUsage", "RIFee")), "Reserved"),
    ]
    if ri_arn is not None:
        branches.append(((line_type == "Fee") & ri_arn.notnull(), "Reserved"))
    branches += [
        (line_type.startswith("SavingsPlan"), "SavingsPlan"),
        ((line_type == "Usage") & spot, "Spot"),
        (line_type == "Usage", "OnDemand"),
    ]
    return ibis.cases(*branches, else_=ibis.null("string"))


def _commitment_columns(
    category: ir.StringValue, sp_arn: ir.StringValue | None, ri_arn: ir.StringValue | None
) -> dict[str, ir.Value]:
    """A Savings Plan or RI ARN identifies the commitment; covered usage rows are `Used`."""
    arns = [arn for arn in (sp_arn, ri_arn) if arn is not None]
    if not arns:
        return {}
    commitment_id = arns[0] if len(arns) == 1 else ibis.coalesce(*arns)
    kinds: list[tuple[ir.Value, str, str]] = []
    if sp_arn is not None:
        kinds.append((sp_arn.notnull(), "Savings Plan", "Spend"))
    if ri_arn is not None:
        kinds.append((ri_arn.notnull(), "Reserved Instance", "Usage"))
    null = ibis.null("string")
    return {
        "CommitmentDiscountId": commitment_id,
        "CommitmentDiscountType": ibis.cases(*((c, t) for c, t, _ in kinds), else_=null),
        "CommitmentDiscountCategory": ibis.cases(*((c, k) for c, _, k in kinds), else_=null),
        "CommitmentDiscountStatus": ibis.ifelse(
            commitment_id.notnull() & (category == "Usage"), "Used", null
        ),
    }


def _service_columns(
    rows: AwsNative, product_code: ir.StringValue | None
) -> dict[str, ir.Value | None]:
    return {
        "x_ServiceCode": product_code,
        "ServiceName": first_of(rows.product_attribute("product_name"), product_code),
        "ServiceCategory": service_category(product_code)
        if product_code is not None
        else literal_string("Other"),
        "SkuId": rows.text("product_sku"),
        "SkuPriceId": first_of(rows.text("pricing_rate_code"), rows.text("pricing_rate_id")),
    }


def _resource_columns(
    rows: AwsNative, usage_type: ir.StringValue | None, product_code: ir.StringValue | None
) -> dict[str, ir.Value | None]:
    instance_type = instance_type_of(rows.product_attribute("instance_type"), usage_type)
    gpu_model, gpu_count = (
        aws_gpu_case(instance_type) if instance_type is not None else (None, None)
    )
    return {
        "x_UsageType": usage_type,
        "x_Operation": rows.text("line_item_operation"),
        "RegionId": first_of(
            rows.product_attribute("region_code"), rows.product_attribute("region")
        ),
        "RegionName": rows.product_attribute("location"),
        "AvailabilityZone": rows.text("line_item_availability_zone"),
        "ResourceId": rows.text("line_item_resource_id"),
        "x_InstanceType": instance_type,
        "x_GpuModel": gpu_model,
        "x_GpuCount": gpu_count,
        "x_StorageClass": storage_class(
            usage_type, product_code, rows.product_attribute("storage_class")
        ),
        "x_TransferKind": transfer_kind(rows.product_attribute("transfer_type"), usage_type),
        "x_FromRegion": rows.product_attribute("from_region_code"),
        "x_ToRegion": rows.product_attribute("to_region_code"),
    }


def instance_type_of(
    product_instance_type: ir.StringValue | None, usage_type: ir.StringValue | None
) -> ir.StringValue | None:
    """The product's instance type, else the one at the end of the usage type.

    EC2 Spot rows leave `product_instance_type` empty; their usage type still names the type
    (`USE1-SpotUsage:g5.xlarge`).
    """
    from_usage = (
        ibis.ifelse(
            usage_type.contains(":"),
            usage_type.re_extract(USAGE_TYPE_INSTANCE, 1).nullif(""),
            ibis.null("string"),
        )
        if usage_type is not None
        else None
    )
    return first_of(product_instance_type, from_usage)  # type: ignore[return-value]


def storage_class(
    usage_type: ir.StringValue | None,
    product_code: ir.StringValue | None,
    product_storage_class: ir.StringValue | None,
) -> ir.Value | None:
    """S3 storage class (S3 API names) from the usage type; other services: the product's label."""
    if usage_type is None or product_code is None:
        return product_storage_class
    token = usage_type.re_extract(r"-(GDA|GIR|SIA|ZIA|INT|RRS)(?:-|$)", 1)
    from_usage = ibis.cases(
        *((token == code, literal_string(name)) for code, name in S3_CLASS_TOKENS.items()),
        (usage_type.re_search(r"(?i)glacier|EarlyDelete-ByteHrs"), literal_string("GLACIER")),
        (usage_type.re_search(r"TimedStorage-ByteHrs$"), literal_string("STANDARD")),
        else_=product_storage_class if product_storage_class is not None else ibis.null("string"),
    )
    fallback = product_storage_class if product_storage_class is not None else ibis.null("string")
    return ibis.ifelse(product_code == "AmazonS3", from_usage, fallback)


def transfer_kind(
    product_transfer_type: ir.StringValue | None, usage_type: ir.StringValue | None
) -> ir.Value | None:
    """InterRegion / Internet / IntraRegion from the product's transfer type, else usage type."""
    kinds: list[ir.Value] = []
    if product_transfer_type is not None:
        kinds.append(
            ibis.cases(
                (product_transfer_type.startswith("InterRegion"), "InterRegion"),
                (product_transfer_type.startswith("IntraRegion"), "IntraRegion"),
                (product_transfer_type.isin(("AWS Outbound", "AWS Inbound")), "Internet"),
                else_=ibis.null("string"),
            )
        )
    if usage_type is not None:
        kinds.append(
            ibis.cases(
                (~usage_type.contains("Bytes"), ibis.null("string")),
                (usage_type.re_search(r"-AWS-(In|Out)-A?Bytes"), "InterRegion"),
                (
                    usage_type.re_search(r"DataTransfer-(Regional|xAZ)|C3DataTransfer"),
                    "IntraRegion",
                ),
                (usage_type.re_search(r"(^|-)DataTransfer-(In|Out)-Bytes$"), "Internet"),
                else_=ibis.null("string"),
            )
        )
    return first_of(*kinds)


@cache
def service_categories() -> dict[str, str]:
    """Product code → FOCUS ServiceCategory (FinOps Foundation focus_converters mapping)."""
    source = resources.files("costrail.sources").joinpath("data", "aws_category_mapping.csv")
    with source.open(encoding="utf-8") as handle:
        return {row["product_code"]: row["ServiceCategory"] for row in csv.DictReader(handle)}


def service_category(product_code: ir.StringValue) -> ir.Value:
    """A lookup in a literal map (one evaluation of the code per row); unmapped codes → Other."""
    categories = ibis.literal(service_categories(), type=dt.Map(dt.string, dt.string))
    return ibis.coalesce(categories.get(product_code), literal_string("Other"))
