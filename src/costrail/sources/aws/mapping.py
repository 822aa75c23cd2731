"""AWS line items → every FOCUS column, as one Ibis projection (see docs/sources/aws.md)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import MONEY, QUANTITY, TAGS
from costrail.sources.aws.amortisation import effective_cost
from costrail.sources.aws.attributes import resource_columns, service_columns
from costrail.sources.aws.line_items import (
    COVERED_TYPES,
    CREDIT_TYPES,
    DISCOUNT_TYPES,
    PRICED_USAGE_TYPES,
    PURCHASE_TYPES,
    USAGE_TYPES,
    AwsNative,
    billed_cost,
    billing_period_start,
    load_key,
)
from costrail.sources.base import literal_string, source_position
from costrail.sources.expr import add_months, money_literal, parse_money

PROVIDER_NAME = "AWS"
AWS_ENTITY = "Amazon Web Services, Inc."
MARKETPLACE = "AWS Marketplace"


def focus_columns(rows: AwsNative) -> dict[str, ir.Value]:
    """Every costs column an AWS line item fills, keyed by name (see docs/sources/aws.md)."""
    line_type = rows.line_item_type()
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
        **service_columns(rows, product_code),
        **resource_columns(rows, usage_type, product_code),
        "Tags": rows.tags.cast(TAGS) if rows.tags is not None else None,
        **source_position(rows.table),
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
        (line_type.isin(("SavingsPlanNegation", *DISCOUNT_TYPES)), money_literal(0)),
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
        (line_type == "SavingsPlanNegation", money_literal(0)),
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
