"""Azure rows (under canonical field names) → FOCUS account, charge, cost and commitment columns."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.schema.costs import MONEY, QUANTITY
from costrail.sources.base import literal_string
from costrail.sources.expr import add_days, add_months, parse_money

PROVIDER = "azure"
PROVIDER_NAME = "Microsoft"

#: ChargeType (lower-cased) → ChargeCategory. A refund is also ChargeClass `Correction`.
CHARGE_TYPES: dict[str, str] = {
    "usage": "Usage",
    "purchase": "Purchase",
    "tax": "Tax",
    "refund": "Credit",
    "credit": "Credit",
    "unusedreservation": "Usage",
    "unusedsavingsplan": "Usage",
    "roundingadjustment": "Adjustment",
    "adjustment": "Adjustment",
}
UNUSED_COMMITMENT = ("unusedreservation", "unusedsavingsplan")

#: PricingModel (lower-cased) → (PricingCategory, x_PurchaseOption).
PRICING_MODELS: dict[str, tuple[str, str]] = {
    "ondemand": ("Standard", "OnDemand"),
    "spot": ("Dynamic", "Spot"),
    "reservation": ("Committed", "Reserved"),
    "savingsplan": ("Committed", "SavingsPlan"),
}

FREQUENCIES = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}


def load_key(rows: ir.Table) -> dict[str, ir.Value]:
    """x_Provider, BillingAccountId and BillingPeriodStart: what a re-load replaces."""
    return {
        "x_Provider": literal_string(PROVIDER),
        "BillingAccountId": rows.billing_account_id,
        "BillingPeriodStart": rows._period_start,
    }


def account_columns(rows: ir.Table) -> dict[str, ir.Value]:
    return {
        **load_key(rows),
        "ProviderName": literal_string(PROVIDER_NAME),
        "InvoiceIssuerName": literal_string(PROVIDER_NAME),
        "PublisherName": ibis.coalesce(rows.publisher_name, literal_string(PROVIDER_NAME)),
        "BillingAccountName": rows.billing_account_name,
        "BillingPeriodEnd": ibis.coalesce(rows._period_end, add_months(rows._period_start, 1)),
        "BillingCurrency": rows.currency,
        "InvoiceId": rows.invoice_id,
        "SubAccountId": rows.subscription_id,
        "SubAccountName": rows.subscription_name,
        "SubAccountType": ibis.ifelse(
            rows.subscription_id.isnull(), ibis.null("string"), literal_string("Subscription")
        ),
    }


def charge_columns(rows: ir.Table) -> dict[str, ir.Value]:
    charge_type = rows._charge_type
    categories = [
        (charge_type == name, literal_string(category)) for name, category in CHARGE_TYPES.items()
    ]
    return {
        "ChargeCategory": ibis.cases(
            *categories,
            (charge_type.isnull(), literal_string("Usage")),
            else_=literal_string("Adjustment"),
        ),
        "ChargeClass": ibis.ifelse(charge_type == "refund", "Correction", ibis.null("string")),
        "ChargeDescription": rows.product,
        "ChargeFrequency": rows.frequency.lower().substitute(
            FREQUENCIES, else_=ibis.null("string")
        ),
        "ChargePeriodStart": rows._date,
        "ChargePeriodEnd": add_days(rows._date, 1),
    }


def cost_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """Costs as exported; list and contracted costs from unit prices on usage rows only.

    Purchases, refunds and adjustments carry their own amount (a refund's positive quantity
    times its price would flip the sign). EA's `PayGPrice` of 0 on commitment-covered usage
    means "not given", so such rows fall back to the contracted cost.
    """
    cost = parse_money(rows.cost, MONEY)
    quantity = parse_money(rows.quantity, QUANTITY)
    unit_price = parse_money(rows.unit_price, MONEY)
    payg_price = parse_money(rows.payg_price, MONEY)
    usage_like = rows._charge_type.isnull() | rows._charge_type.isin(["usage", *UNUSED_COMMITMENT])
    contracted = ibis.ifelse(usage_like, ibis.coalesce(_times(unit_price, quantity), cost), cost)
    list_from_price = ibis.ifelse(
        usage_like & (payg_price > 0), _times(payg_price, quantity), ibis.null(MONEY)
    )
    block_size = rows._unit_block_size
    return {
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ListCost": ibis.coalesce(parse_money(rows.payg_cost, MONEY), list_from_price, contracted),
        "ListUnitPrice": payg_price,
        "ContractedUnitPrice": unit_price,
        "ContractedCost": contracted,
        "PricingQuantity": quantity,
        "PricingUnit": rows.unit_of_measure,
        "ConsumedQuantity": ibis.ifelse(
            block_size.isnull(), quantity, _times(quantity, block_size).cast(QUANTITY)
        ),
        "ConsumedUnit": ibis.coalesce(rows._unit_distinct, rows.unit_of_measure),
    }


def commitment_columns(rows: ir.Table) -> dict[str, ir.Value]:
    pricing_model, charge_type = rows._pricing_model, rows._charge_type
    is_unused = charge_type.isin(list(UNUSED_COMMITMENT))
    is_reservation = (pricing_model == "reservation") | (charge_type == "unusedreservation")
    is_savings_plan = (pricing_model == "savingsplan") | (charge_type == "unusedsavingsplan")
    is_commitment = is_reservation | is_savings_plan
    is_spot_meter = rows.meter_name.re_search(r"(?i) (spot|low priority)$")
    pricing_category = ibis.cases(
        *[
            (pricing_model == model, literal_string(pc))
            for model, (pc, _) in PRICING_MODELS.items()
        ],
        (pricing_model.isnull(), ibis.null("string")),
        else_=literal_string("Other"),
    )
    purchase_option = ibis.cases(
        *[
            (pricing_model == model, literal_string(po))
            for model, (_, po) in PRICING_MODELS.items()
        ],
        else_=ibis.null("string"),
    )
    return {
        "PricingCategory": ibis.ifelse(is_commitment, "Committed", pricing_category),
        "x_PurchaseOption": ibis.cases(
            (is_reservation, literal_string("Reserved")),
            (is_savings_plan, literal_string("SavingsPlan")),
            (is_spot_meter, literal_string("Spot")),
            else_=purchase_option,
        ),
        "CommitmentDiscountId": ibis.ifelse(
            is_commitment, ibis.coalesce(rows.benefit_id, rows.reservation_id), ibis.null("string")
        ),
        "CommitmentDiscountName": ibis.ifelse(
            is_commitment,
            ibis.coalesce(rows.benefit_name, rows.reservation_name),
            ibis.null("string"),
        ),
        "CommitmentDiscountType": ibis.cases(
            (is_reservation, literal_string("Reservation")),
            (is_savings_plan, literal_string("Savings Plan")),
            else_=ibis.null("string"),
        ),
        "CommitmentDiscountCategory": ibis.cases(
            (is_reservation, literal_string("Usage")),
            (is_savings_plan, literal_string("Spend")),
            else_=ibis.null("string"),
        ),
        "CommitmentDiscountStatus": ibis.cases(
            (is_unused, literal_string("Unused")),
            (is_commitment & (charge_type == "usage"), literal_string("Used")),
            else_=ibis.null("string"),
        ),
    }


def _times(price: ir.Value, quantity: ir.Value) -> ir.Value:
    """price × quantity as money; narrowed first so the product fits 38 digits on every engine."""
    narrow = dt.Decimal(24, 12)
    return (price.cast(narrow) * quantity.cast(narrow)).cast(MONEY)
