"""GCP export rows → FOCUS: each row's cost as one row, each of its credits as a row of its own."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.pricing.gpu_instances import gpu_case
from costrail.schema.costs import MONEY, QUANTITY
from costrail.sources.base import literal_string, source_position
from costrail.sources.expr import add_months, blank_to_null, parse_money
from costrail.sources.gcp.attributes import (
    MACHINE_SPEC_LABEL,
    label_value,
    merged_tags,
    service_category,
    sku_gpu_model,
    storage_class,
    transfer_kind,
)
from costrail.sources.gcp.export_schema import FIELDS, MONEY_FIELDS
from costrail.sources.gcp.values import as_text, bigquery_timestamp, invoice_month

PROVIDER = "gcp"
PROVIDER_NAME = "Google Cloud"

#: cost_type → ChargeCategory. `rounding error` is how the export spells it; both are accepted.
COST_TYPES = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding error": "Adjustment",
    "rounding_error": "Adjustment",
}

CUD_CREDIT_TYPES = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")


def prepare(flat: ir.Table) -> ir.Table:
    """Clean each field once, then derive the dimensions from the clean columns.

    Two steps (each a subquery) keep the generated SQL small: every derived expression refers
    to a clean column instead of repeating its parsing.
    """
    clean = flat.mutate(
        **{path: as_text(flat[path]) for path in FIELDS if path not in MONEY_FIELDS},
        _start=bigquery_timestamp(flat.usage_start_time),
        _end=bigquery_timestamp(flat.usage_end_time),
        _period=invoice_month(flat["invoice.month"]),
        _machine_type=blank_to_null(label_value(flat.system_labels, MACHINE_SPEC_LABEL)),
        _tags=merged_tags(flat),
    )
    sku = clean["sku.description"]
    cost_type = clean.cost_type.lower()
    model, count = gpu_case(clean._machine_type)
    commitment_fee = sku.re_search(r"(?i)^commitment\b")
    category = ibis.cases(
        *[(cost_type == name, literal_string(value)) for name, value in COST_TYPES.items()],
        (cost_type.isnull(), literal_string("Usage")),
        else_=literal_string("Adjustment"),
    )
    return clean.mutate(
        _category=ibis.ifelse((category == "Usage") & commitment_fee, "Purchase", category),
        _commitment_fee=commitment_fee,
        _spot=sku.re_search(r"(?i)\b(spot|preemptible)\b"),
        _gpu_model=ibis.coalesce(model, sku_gpu_model(sku)),
        _gpu_count=count,
        _storage_class=storage_class(clean["service.description"], sku),
        _transfer_kind=transfer_kind(sku),
        _service_category=service_category(clean["service.description"]),
    )


def shared_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """Columns a credit row shares with the cost row it belongs to."""
    return {
        "x_Provider": literal_string(PROVIDER),
        "ProviderName": literal_string(PROVIDER_NAME),
        "PublisherName": ibis.coalesce(rows.seller_name, literal_string(PROVIDER_NAME)),
        "InvoiceIssuerName": literal_string(PROVIDER_NAME),
        "BillingAccountId": rows.billing_account_id,
        "BillingPeriodStart": rows._period,
        "BillingPeriodEnd": add_months(rows._period, 1),
        "BillingCurrency": rows.currency,
        "ChargePeriodStart": rows._start,
        "ChargePeriodEnd": rows._end,
        "ServiceName": rows["service.description"],
        "ServiceCategory": rows._service_category,
        "x_ServiceCode": rows["service.id"],
        "SkuId": rows["sku.id"],
        "SkuMeter": rows["sku.description"],
        "SubAccountId": rows["project.id"],
        "SubAccountName": rows["project.name"],
        "SubAccountType": ibis.ifelse(
            rows["project.id"].isnull(), ibis.null("string"), literal_string("Project")
        ),
        "RegionId": ibis.coalesce(rows["location.region"], rows["location.location"]),
        "AvailabilityZone": rows["location.zone"],
        "ResourceId": ibis.coalesce(rows["resource.global_name"], rows["resource.name"]),
        "ResourceName": rows["resource.name"],
        "Tags": rows._tags,
        "x_InstanceType": rows._machine_type,
        "x_GpuModel": rows._gpu_model,
        "x_GpuCount": rows._gpu_count,
        "x_StorageClass": rows._storage_class,
        "x_TransferKind": rows._transfer_kind,
        **source_position(rows),
    }


def cost_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """The export row's own cost: Usage, Tax, Adjustment — or Purchase for commitment fees."""
    category = rows._category
    usage_like = category.isin(["Usage", "Purchase"])
    corrects_prior_period = (category == "Adjustment") & (rows._start < rows._period)
    cost = parse_money(rows.cost, MONEY)
    return {
        "ChargeCategory": category,
        "ChargeClass": ibis.ifelse(corrects_prior_period, "Correction", ibis.null("string")),
        "ChargeDescription": rows["sku.description"],
        "ChargeFrequency": ibis.cases(
            (category == "Usage", literal_string("Usage-Based")),
            (category == "Purchase", literal_string("Recurring")),
            else_=ibis.null("string"),
        ),
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ContractedCost": cost,
        "ListCost": parse_money(rows.cost_at_list, MONEY),
        "ContractedUnitPrice": parse_money(rows["price.effective_price"], MONEY),
        "ConsumedQuantity": parse_money(rows["usage.amount"], QUANTITY),
        "ConsumedUnit": rows["usage.unit"],
        "PricingQuantity": parse_money(rows["usage.amount_in_pricing_units"], QUANTITY),
        "PricingUnit": rows["usage.pricing_unit"],
        "PricingCategory": ibis.cases(
            (~usage_like, ibis.null("string")),
            (rows._commitment_fee, literal_string("Committed")),
            (rows._spot, literal_string("Dynamic")),
            else_=literal_string("Standard"),
        ),
        "x_PurchaseOption": ibis.cases(
            (~usage_like, ibis.null("string")),
            (rows._commitment_fee, literal_string("CommittedUse")),
            (rows._spot, literal_string("Spot")),
            else_=literal_string("OnDemand"),
        ),
        "CommitmentDiscountCategory": ibis.cases(
            (~rows._commitment_fee, ibis.null("string")),
            (rows["sku.description"].re_search(r"(?i)dollar|spend"), literal_string("Spend")),
            else_=literal_string("Usage"),
        ),
        "CommitmentDiscountType": ibis.ifelse(
            rows._commitment_fee, "Committed Use Discount", ibis.null("string")
        ),
    }


def credit_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """One credit of an export row (`rows.credits` is a single credit after the unnest)."""
    credit = rows.credits
    credit_type = ibis.coalesce(as_text(credit["type"]).upper(), literal_string("CREDIT"))
    name = ibis.coalesce(as_text(credit["full_name"]), as_text(credit["name"]))
    is_cud = credit_type.isin(list(CUD_CREDIT_TYPES))
    amount = parse_money(credit["amount"], MONEY)
    return {
        "ChargeCategory": literal_string("Credit"),
        "ChargeClass": ibis.null("string"),
        "ChargeDescription": ibis.ifelse(name.isnull(), credit_type, credit_type + ": " + name),
        "ChargeFrequency": ibis.null("string"),
        "BilledCost": amount,
        "EffectiveCost": amount,
        "ContractedCost": amount,
        "ListCost": ibis.literal(0, type=MONEY),
        "ContractedUnitPrice": ibis.null(MONEY),
        "ConsumedQuantity": ibis.null(QUANTITY),
        "ConsumedUnit": ibis.null("string"),
        "PricingQuantity": ibis.null(QUANTITY),
        "PricingUnit": ibis.null("string"),
        "PricingCategory": ibis.ifelse(is_cud, "Committed", ibis.null("string")),
        "x_PurchaseOption": ibis.cases(
            (is_cud, literal_string("CommittedUse")),
            (rows._spot, literal_string("Spot")),
            else_=literal_string("OnDemand"),
        ),
        "CommitmentDiscountCategory": ibis.cases(
            (credit_type == "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE", literal_string("Spend")),
            (credit_type == "COMMITTED_USAGE_DISCOUNT", literal_string("Usage")),
            else_=ibis.null("string"),
        ),
        "CommitmentDiscountType": ibis.ifelse(
            is_cud, "Committed Use Discount", ibis.null("string")
        ),
        "CommitmentDiscountId": ibis.ifelse(is_cud, as_text(credit["id"]), ibis.null("string")),
        "CommitmentDiscountName": ibis.ifelse(is_cud, name, ibis.null("string")),
        "CommitmentDiscountStatus": ibis.ifelse(is_cud, "Used", ibis.null("string")),
    }
