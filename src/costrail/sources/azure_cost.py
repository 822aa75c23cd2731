"""Azure Cost Management exports (EA and MCA, actual or amortized cost CSV) → FOCUS.

EA files say `Cost`, `BillingCurrency`, `Date` as `MM/DD/YYYY`; MCA files say
`costInBillingCurrency`, `billingCurrency`, ISO dates — column names are matched without regard
to case, and each field accepts the spellings listed in `ALIASES`.

Actual and amortized exports share one header, so the reader does not try to tell them apart:
the cost view is a property of the data. Every row's cost is taken as the file states it, as both
BilledCost and EffectiveCost, so each file reconciles to its own total. In an amortized file that
makes EffectiveCost the amortized cost (commitment purchases spread over the usage they covered,
plus `UnusedReservation`/`UnusedSavingsPlan` rows); in an actual file it is the invoiced cost.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import ClassVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.pricing.gpu_instances import gpu_case
from costrail.schema.costs import MONEY, QUANTITY, TAGS, TIMESTAMP
from costrail.sources.base import (
    FILE_COLUMN,
    ROW_COLUMN,
    FileKind,
    FilePeek,
    LoadWarnings,
    MappingContext,
    Reader,
    SourceFile,
    literal_string,
    readers,
)
from costrail.sources.checks import require_columns, require_parsable
from costrail.sources.expr import (
    SOURCE_MONEY,
    add_months,
    blank_to_null,
    json_tags,
    month_start,
    parse_money,
    parse_timestamp,
)

PROVIDER = "azure"
PROVIDER_NAME = "Microsoft"

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

#: VM size as AdditionalInfo carries it: {"ServiceType":"Standard_ND96isr_H100_v5", …}.
VM_SIZE_PATTERN = r'(?i)"(?:ServiceType|VMSize)"\s*:\s*"((?:Standard|Basic)_[^"]+)"'
#: A VM meter name ("ND96isr H100 v5", "DS4 v2 Spot", "D2 v3/D2s v3") without its pricing suffix.
VM_METER_PATTERN = r"(?i)^([^/]+?)(?: Spot| Low Priority)?(?:/.*)?$"


@readers.register("azure-cost")
class AzureCostReader(Reader):
    """Azure Cost Management cost details (EA or MCA; actual or amortized) as CSV."""

    name: ClassVar[str] = "azure-cost"
    description: ClassVar[str] = (
        "Azure Cost Management export, EA or MCA, actual or amortized (CSV)"
    )
    file_kinds: ClassVar[tuple[FileKind, ...]] = ("csv",)

    def detect(self, peek: FilePeek) -> bool:
        found = _resolve(peek.columns)
        return all(name in found for name in ("cost", "date", "subscription_id", "meter_category"))

    def validate_peek(self, peek: FilePeek) -> None:
        found = _resolve(peek.columns)
        missing = [ALIASES[name][0] for name in ("cost", "date") if name not in found]
        require_columns(peek, missing, "an Azure cost export")

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        found = _resolve(native.columns)
        require_parsable(
            native,
            {column: parse_money for name in MONEY_FIELDS for column in found.get(name, [])},
            "a decimal number",
        )
        require_parsable(
            native,
            {column: parse_timestamp for name in DATE_FIELDS for column in found.get(name, [])},
            "a date (MM/DD/YYYY or ISO 8601)",
        )
        _count_quirks(native, native.get_backend().name, warnings)

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        rows = _with_lookups(_prepare(native))
        columns = {
            **_account_columns(rows),
            **_charge_columns(rows),
            **_cost_columns(rows),
            **_commitment_columns(rows),
            **_resource_columns(rows, context.engine),
            "x_SourceFile": rows[FILE_COLUMN],
            "x_SourceRow": rows[ROW_COLUMN],
        }
        return rows.select(**columns)

    def source_totals(self, native: ir.Table) -> ir.Table:
        rows = _prepare(native)
        keyed = rows.select(
            x_Provider=literal_string(PROVIDER),
            BillingAccountId=rows.billing_account_id,
            BillingPeriodStart=rows._period_start,
            _amount=parse_money(rows.cost, SOURCE_MONEY),
        )
        return keyed.group_by(["x_Provider", "BillingAccountId", "BillingPeriodStart"]).aggregate(
            source_rows=keyed.count(), source_total=keyed._amount.sum()
        )


# -- columns, whatever their spelling ------------------------------------------------------------


def _resolve(columns: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """Canonical field → the columns that hold it, in alias order.

    One file has one of them; a load of EA and MCA files together has several (`Cost` from EA
    rows, `costInBillingCurrency` from MCA rows), which `_prepare` coalesces.
    """
    found: dict[str, list[str]] = {}
    for name, aliases in ALIASES.items():
        wanted = [alias.lower() for alias in aliases]
        matches = [column for column in columns if column.strip().lower() in wanted]
        matches.sort(key=lambda column: wanted.index(column.strip().lower()))
        if matches:
            found[name] = matches
    return found


def _prepare(native: ir.Table) -> ir.Table:
    """Every field under its canonical name, blank text as null, dates parsed — once.

    Later expressions refer to these clean columns rather than repeat the parsing, which keeps
    the generated SQL small.
    """
    found = _resolve(native.columns)
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
        _period_end=_plus_days(period_end, 1),
        _charge_type=clean.charge_type.lower(),
        _pricing_model=clean.pricing_model.lower(),
    )


# -- FOCUS columns --------------------------------------------------------------------------------


def _account_columns(rows: ir.Table) -> dict[str, ir.Value]:
    return {
        "x_Provider": literal_string(PROVIDER),
        "ProviderName": literal_string(PROVIDER_NAME),
        "InvoiceIssuerName": literal_string(PROVIDER_NAME),
        "PublisherName": ibis.coalesce(rows.publisher_name, literal_string(PROVIDER_NAME)),
        "BillingAccountId": rows.billing_account_id,
        "BillingAccountName": rows.billing_account_name,
        "BillingPeriodStart": rows._period_start,
        "BillingPeriodEnd": ibis.coalesce(rows._period_end, add_months(rows._period_start, 1)),
        "BillingCurrency": rows.currency,
        "InvoiceId": rows.invoice_id,
        "SubAccountId": rows.subscription_id,
        "SubAccountName": rows.subscription_name,
        "SubAccountType": ibis.ifelse(
            rows.subscription_id.isnull(), ibis.null("string"), literal_string("Subscription")
        ),
    }


def _charge_columns(rows: ir.Table) -> dict[str, ir.Value]:
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
        "ChargePeriodEnd": _plus_days(rows._date, 1),
    }


def _cost_columns(rows: ir.Table) -> dict[str, ir.Value]:
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


def _commitment_columns(rows: ir.Table) -> dict[str, ir.Value]:
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


def _resource_columns(rows: ir.Table, engine: str) -> dict[str, ir.Value]:
    instance_type = _instance_type(rows)
    gpu_model, gpu_count = gpu_case(instance_type)
    return {
        "ServiceName": ibis.coalesce(rows._rt_service, rows._cs_service, rows.meter_category),
        "ServiceCategory": ibis.coalesce(
            rows._rt_category, rows._cs_category, literal_string("Other")
        ),
        "ServiceSubcategory": ibis.coalesce(rows._rt_subcategory, rows._cs_subcategory),
        "x_ServiceCode": rows.consumed_service,
        "SkuId": ibis.coalesce(rows.product_id, rows.meter_id),
        "SkuMeter": rows.meter_name,
        "x_UsageType": rows.meter_subcategory,
        "RegionId": ibis.coalesce(rows._region_id, rows._k_region.replace(" ", "")),
        "RegionName": rows._region_name,
        "AvailabilityZone": rows.availability_zone,
        "ResourceId": rows.resource_id,
        "ResourceName": rows.resource_name,
        "Tags": _tags(rows.tags, engine),
        "x_InstanceType": instance_type,
        "x_GpuModel": gpu_model,
        "x_GpuCount": gpu_count,
        "x_StorageClass": _storage_class(rows),
        "x_TransferKind": _transfer_kind(rows),
    }


def _times(price: ir.Value, quantity: ir.Value) -> ir.Value:
    """price × quantity as money; narrowed first so the product fits 38 digits on every engine."""
    narrow = dt.Decimal(24, 12)
    return (price.cast(narrow) * quantity.cast(narrow)).cast(MONEY)


def _plus_days(timestamp: ir.Value, days: int) -> ir.Value:
    return (timestamp + ibis.interval(days=days)).cast(TIMESTAMP)


def _instance_type(rows: ir.Table) -> ir.StringValue:
    """VM size from AdditionalInfo, else from a Virtual Machines meter (`ND96isr H100 v5`)."""
    from_info = blank_to_null(rows.additional_info.re_extract(VM_SIZE_PATTERN, 1))
    meter_size = blank_to_null(rows.meter_name.re_extract(VM_METER_PATTERN, 1))
    from_meter = ibis.ifelse(
        (rows.meter_category == "Virtual Machines") & meter_size.notnull(),
        "Standard_" + meter_size.replace(" ", "_"),
        ibis.null("string"),
    )
    return ibis.coalesce(from_info, from_meter)


def _meter_text(rows: ir.Table) -> ir.StringValue:
    return ibis.coalesce(rows.meter_subcategory, "") + " " + ibis.coalesce(rows.meter_name, "")


def _storage_class(rows: ir.Table) -> ir.StringValue:
    """Blob tier named by a Storage meter: `Hot LRS Write Operations`, `Archive LRS Data Stored`."""
    text = _meter_text(rows)
    tier = ibis.cases(
        (text.re_search(r"(?i)\bhot\b"), literal_string("Hot")),
        (text.re_search(r"(?i)\bcool\b"), literal_string("Cool")),
        (text.re_search(r"(?i)\bcold\b"), literal_string("Cold")),
        (text.re_search(r"(?i)\barchive\b"), literal_string("Archive")),
        else_=ibis.null("string"),
    )
    return ibis.ifelse(rows.meter_category == "Storage", tier, ibis.null("string"))


def _transfer_kind(rows: ir.Table) -> ir.StringValue:
    """Bandwidth and peering meters: `Inter-Region`, `Intra-Region Egress`, `Data Transfer Out`."""
    text = _meter_text(rows)
    is_transfer = rows.meter_category.isin(["Bandwidth", "Virtual Network"]) | text.re_search(
        r"(?i)(data transfer|ingress|egress)"
    )
    kind = ibis.cases(
        (
            text.re_search(r"(?i)(inter[- ]?region|inter[- ]?continent|intra[- ]?continent)"),
            literal_string("InterRegion"),
        ),
        (
            text.re_search(r"(?i)(intra[- ]?region|inter[- ]?zone|availability zone)"),
            literal_string("IntraRegion"),
        ),
        (text.re_search(r"(?i)(internet|data transfer out)"), literal_string("Internet")),
        else_=ibis.null("string"),
    )
    return ibis.ifelse(is_transfer, kind, ibis.null("string"))


# -- tags ----------------------------------------------------------------------------------------


@ibis.udf.scalar.builtin(name="json_valid", signature=((dt.string,), dt.boolean))
def _duckdb_json_valid(text: str) -> bool:  # type: ignore[empty-body]
    """DuckDB: whether text is JSON (its JSON → map transform raises on malformed text)."""


def _tags_json(value: ir.Value) -> ir.StringValue:
    """EA writes tags without braces (`"env": "prod","team": "ml"`); MCA writes a JSON object."""
    text = blank_to_null(value.cast("string"))
    return ibis.ifelse(text.startswith("{"), text, "{" + text + "}")


def _tags_readable(value: ir.Value, engine: str) -> ir.BooleanValue:
    text = _tags_json(value)
    if engine == "duckdb":
        return _duckdb_json_valid(text)
    return json_tags(text, engine).notnull()


def _tags(value: ir.Value, engine: str) -> ir.Value:
    """Tags as a map; text that is not JSON gives no tags (reported as a counted warning)."""
    text = _tags_json(value)
    readable = _tags_readable(value, engine)
    return ibis.cases((readable, json_tags(text, engine)), else_=ibis.null(TAGS))


def _count_quirks(native: ir.Table, engine: str, warnings: LoadWarnings) -> None:
    """One aggregate query counts unreadable tags and unknown ChargeType values."""
    rows = _prepare(native)
    measures = {
        "tags": (rows.tags.notnull() & ~_tags_readable(rows.tags, engine)).cast("int64").sum(),
        "charge_type": (rows._charge_type.notnull() & ~rows._charge_type.isin(list(CHARGE_TYPES)))
        .cast("int64")
        .sum(),
    }
    counts = rows.aggregate(**measures).to_pyarrow().to_pylist()[0]
    messages = {
        "tags": "Tags that are not JSON left empty",
        "charge_type": "ChargeType values outside the known list read as Adjustment",
    }
    for key, count in counts.items():
        warnings.add(messages[key], int(count or 0))


# -- lookups from the FinOps toolkit's open data -------------------------------------------------


@dataclass(frozen=True)
class ServiceInfo:
    name: str | None
    category: str
    subcategory: str | None


def _open_data(filename: str) -> list[dict[str, str]]:
    path = resources.files("costrail.sources").joinpath("data", filename)
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _unambiguous(candidates: dict[str, set[ServiceInfo]]) -> dict[str, ServiceInfo]:
    """Keep keys with one answer; where only the category agrees, keep just the category."""
    chosen: dict[str, ServiceInfo] = {}
    for key, infos in candidates.items():
        if len(infos) == 1:
            chosen[key] = next(iter(infos))
        elif len({info.category for info in infos}) == 1:
            chosen[key] = ServiceInfo(None, next(iter(infos)).category, None)
    return chosen


@cache
def service_lookups() -> tuple[dict[str, ServiceInfo], dict[str, ServiceInfo]]:
    """(resource type → service, consumed service → service), both keyed lower-case."""
    by_type: dict[str, set[ServiceInfo]] = {}
    by_consumed: dict[str, set[ServiceInfo]] = {}
    for row in _open_data("azure_services.csv"):
        info = ServiceInfo(
            row["ServiceName"] or None,
            row["ServiceCategory"] or "Other",
            row["ServiceSubcategory"] or None,
        )
        if row["ResourceType"]:
            by_type.setdefault(row["ResourceType"].strip().lower(), set()).add(info)
        if row["ConsumedService"]:
            by_consumed.setdefault(row["ConsumedService"].strip().lower(), set()).add(info)
    return _unambiguous(by_type), _unambiguous(by_consumed)


@cache
def regions() -> dict[str, tuple[str, str]]:
    """Any spelling of a region in exports (lower-case) → (RegionId, RegionName)."""
    return {
        row["OriginalValue"].strip().lower(): (row["RegionId"], row["RegionName"])
        for row in _open_data("azure_regions.csv")
    }


@cache
def pricing_units() -> dict[str, tuple[Decimal, str]]:
    """UnitOfMeasure → (block size, distinct unit): `100 Hours` → (100, Hours)."""
    units: dict[str, tuple[Decimal, str]] = {}
    for row in _open_data("azure_pricing_units.csv"):
        units.setdefault(
            row["UnitOfMeasure"].strip(), (Decimal(row["PricingBlockSize"]), row["DistinctUnits"])
        )
    return units


def _lookup_tables() -> dict[str, ir.Table]:
    by_type, by_consumed = service_lookups()
    return {
        "rt": ibis.memtable(
            {
                "_rt_key": list(by_type),
                "_rt_service": [info.name for info in by_type.values()],
                "_rt_category": [info.category for info in by_type.values()],
                "_rt_subcategory": [info.subcategory for info in by_type.values()],
            },
            schema={
                name: "string"
                for name in ("_rt_key", "_rt_service", "_rt_category", "_rt_subcategory")
            },
        ),
        "cs": ibis.memtable(
            {
                "_cs_key": list(by_consumed),
                "_cs_service": [info.name for info in by_consumed.values()],
                "_cs_category": [info.category for info in by_consumed.values()],
                "_cs_subcategory": [info.subcategory for info in by_consumed.values()],
            },
            schema={
                name: "string"
                for name in ("_cs_key", "_cs_service", "_cs_category", "_cs_subcategory")
            },
        ),
        "region": ibis.memtable(
            {
                "_region_key": list(regions()),
                "_region_id": [value[0] for value in regions().values()],
                "_region_name": [value[1] for value in regions().values()],
            },
            schema={"_region_key": "string", "_region_id": "string", "_region_name": "string"},
        ),
        "unit": ibis.memtable(
            {
                "_unit_key": list(pricing_units()),
                "_unit_block_size": [value[0] for value in pricing_units().values()],
                "_unit_distinct": [value[1] for value in pricing_units().values()],
            },
            schema={
                "_unit_key": "string",
                "_unit_block_size": QUANTITY,
                "_unit_distinct": "string",
            },
        ),
    }


def _with_lookups(rows: ir.Table) -> ir.Table:
    """Left-join the small reference tables (service, region, pricing unit) onto every row.

    Keys are unique in each reference table, so no row is duplicated or dropped.
    """
    lookups = _lookup_tables()
    keyed = rows.mutate(
        _k_rt=blank_to_null(rows.resource_id.lower().re_extract(r"/providers/([^/]+/[^/]+)", 1)),
        _k_cs=rows.consumed_service.lower(),
        _k_region=rows.resource_location.lower(),
        _k_unit=rows.unit_of_measure,
    )
    joined = keyed.left_join(lookups["rt"], keyed._k_rt == lookups["rt"]._rt_key)
    joined = joined.left_join(lookups["cs"], joined._k_cs == lookups["cs"]._cs_key)
    joined = joined.left_join(lookups["region"], joined._k_region == lookups["region"]._region_key)
    return joined.left_join(lookups["unit"], joined._k_unit == lookups["unit"]._unit_key)
