"""Azure export columns under canonical field names, whatever their spelling (EA, MCA, legacy)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.sources.base import FILE_COLUMN, ROW_COLUMN
from costrail.sources.expr import add_days, blank_to_null, month_start, parse_timestamp

#: Canonical field → the export's column names for it (EA first, then MCA and legacy spellings).
#: Matching ignores case, so `CostInBillingCurrency` also finds MCA's `costInBillingCurrency`.
ALIASES: dict[str, tuple[str, ...]] = {
    "cost": ("CostInBillingCurrency", "Cost", "PreTaxCost"),
    "currency": ("BillingCurrencyCode", "BillingCurrency", "Currency"),
    "date": ("Date", "UsageDateTime", "UsageDate"),
    "billing_period_start": ("BillingPeriodStartDate",),
    "billing_period_end": ("BillingPeriodEndDate",),
    "billing_account_id": ("BillingAccountId", "EnrollmentNumber"),
    "billing_account_name": ("BillingAccountName",),
    "subscription_id": ("SubscriptionId", "SubscriptionGuid"),
    "subscription_name": ("SubscriptionName",),
    "resource_id": ("ResourceId", "InstanceId"),
    "resource_name": ("ResourceName",),
    "resource_location": ("ResourceLocation", "Location"),
    "availability_zone": ("AvailabilityZone",),
    "meter_id": ("MeterId",),
    "meter_category": ("MeterCategory",),
    "meter_subcategory": ("MeterSubCategory",),
    "meter_name": ("MeterName",),
    "product": ("ProductName", "Product"),
    "product_id": ("ProductId", "PartNumber"),
    "consumed_service": ("ConsumedService",),
    "quantity": ("Quantity", "UsageQuantity"),
    "unit_of_measure": ("UnitOfMeasure",),
    "unit_price": ("UnitPrice",),
    "payg_price": ("PayGPrice",),
    "payg_cost": ("PaygCostInBillingCurrency",),
    "charge_type": ("ChargeType",),
    "frequency": ("Frequency",),
    "pricing_model": ("PricingModel",),
    "reservation_id": ("ReservationId",),
    "reservation_name": ("ReservationName",),
    "benefit_id": ("BenefitId",),
    "benefit_name": ("BenefitName",),
    "additional_info": ("AdditionalInfo",),
    "tags": ("Tags",),
    "invoice_id": ("InvoiceId",),
    "publisher_name": ("PublisherName",),
}

MONEY_FIELDS = ("cost", "unit_price", "payg_price", "payg_cost", "quantity")
DATE_FIELDS = ("date", "billing_period_start", "billing_period_end")


def resolve(columns: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """Canonical field → the columns that hold it, in alias order.

    One file has one of them; a load of EA and MCA files together has several (`Cost` from EA
    rows, `costInBillingCurrency` from MCA rows), which `prepare` coalesces.
    """
    found: dict[str, list[str]] = {}
    for name, aliases in ALIASES.items():
        wanted = [alias.lower() for alias in aliases]
        matches = [column for column in columns if column.strip().lower() in wanted]
        matches.sort(key=lambda column: wanted.index(column.strip().lower()))
        if matches:
            found[name] = matches
    return found


def prepare(native: ir.Table) -> ir.Table:
    """Every field under its canonical name, blank text as null, dates parsed — once.

    Later expressions refer to these clean columns rather than repeat the parsing, which keeps
    the generated SQL small.
    """
    found = resolve(native.columns)
    fields = {
        name: ibis.coalesce(*[blank_to_null(native[column].cast("string")) for column in columns])
        for name, columns in found.items()
    }
    fields.update({name: ibis.null("string") for name in ALIASES if name not in found})
    clean = native.select(FILE_COLUMN, ROW_COLUMN, **fields)
    date = parse_timestamp(clean.date)
    period_end = parse_timestamp(clean.billing_period_end)
    return clean.mutate(
        _date=date,
        # BillingPeriodStartDate when the export has it, else the UTC month of the usage date.
        _period_start=ibis.coalesce(parse_timestamp(clean.billing_period_start), month_start(date)),
        # The export's end date is the period's last day; FOCUS ends are exclusive.
        _period_end=add_days(period_end, 1),
        _charge_type=clean.charge_type.lower(),
        _pricing_model=clean.pricing_model.lower(),
    )
