"""The canonical `costs` table: FOCUS 1.2 CostAndUsage columns plus the `x_` columns analyses need.

Money and quantities are exact decimals (never floats) so that totals reconcile with the source
to the cent on every engine. Timestamps are UTC. Tags are a string→string map; the FOCUS export
writes them back as a JSON object.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

#: 38 digits with 12 after the point: sub-cent unit prices of the clouds (AWS quotes up to 10
#: decimals) fit, and a sum of 10^9 rows cannot overflow on DuckDB or Spark.
MONEY = dt.Decimal(38, 12)
#: Quantities keep more decimals: providers report usage such as 8.3819032e-8 GB-months.
QUANTITY = dt.Decimal(38, 16)
TIMESTAMP = dt.Timestamp(timezone="UTC")
TAGS = dt.Map(dt.string, dt.string)
STRING = dt.string

#: FOCUS 1.2 CostAndUsage columns, in the order of the specification's column list.
FOCUS_COLUMNS: dict[str, dt.DataType] = {
    "AvailabilityZone": STRING,
    "BilledCost": MONEY,
    "BillingAccountId": STRING,
    "BillingAccountName": STRING,
    "BillingAccountType": STRING,
    "BillingCurrency": STRING,
    "BillingPeriodEnd": TIMESTAMP,
    "BillingPeriodStart": TIMESTAMP,
    "CapacityReservationId": STRING,
    "CapacityReservationStatus": STRING,
    "ChargeCategory": STRING,
    "ChargeClass": STRING,
    "ChargeDescription": STRING,
    "ChargeFrequency": STRING,
    "ChargePeriodEnd": TIMESTAMP,
    "ChargePeriodStart": TIMESTAMP,
    "CommitmentDiscountCategory": STRING,
    "CommitmentDiscountId": STRING,
    "CommitmentDiscountName": STRING,
    "CommitmentDiscountQuantity": QUANTITY,
    "CommitmentDiscountStatus": STRING,
    "CommitmentDiscountType": STRING,
    "CommitmentDiscountUnit": STRING,
    "ConsumedQuantity": QUANTITY,
    "ConsumedUnit": STRING,
    "ContractedCost": MONEY,
    "ContractedUnitPrice": MONEY,
    "EffectiveCost": MONEY,
    "InvoiceId": STRING,
    "InvoiceIssuerName": STRING,
    "ListCost": MONEY,
    "ListUnitPrice": MONEY,
    "PricingCategory": STRING,
    "PricingCurrency": STRING,
    "PricingCurrencyContractedUnitPrice": MONEY,
    "PricingCurrencyEffectiveCost": MONEY,
    "PricingCurrencyListUnitPrice": MONEY,
    "PricingQuantity": QUANTITY,
    "PricingUnit": STRING,
    "ProviderName": STRING,
    "PublisherName": STRING,
    "RegionId": STRING,
    "RegionName": STRING,
    "ResourceId": STRING,
    "ResourceName": STRING,
    "ResourceType": STRING,
    "ServiceCategory": STRING,
    "ServiceName": STRING,
    "ServiceSubcategory": STRING,
    "SkuId": STRING,
    "SkuMeter": STRING,
    "SkuPriceDetails": STRING,
    "SkuPriceId": STRING,
    "SubAccountId": STRING,
    "SubAccountName": STRING,
    "SubAccountType": STRING,
    "Tags": TAGS,
}

#: Columns FOCUS 1.2 marks Mandatory for CostAndUsage (conditional ones may be null).
FOCUS_MANDATORY_COLUMNS: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)

#: costrail's own columns. `x_Provider` is a short lower-case key (aws, gcp, azure, oci, or the
#: FOCUS ProviderName lower-cased) used for idempotent replacement together with
#: BillingAccountId and BillingPeriodStart.
EXTENSION_COLUMNS: dict[str, dt.DataType] = {
    "x_Provider": STRING,
    "x_ServiceCode": STRING,
    "x_UsageType": STRING,
    "x_Operation": STRING,
    "x_InstanceType": STRING,
    "x_GpuModel": STRING,
    "x_GpuCount": dt.int32,
    "x_PurchaseOption": STRING,  # OnDemand, Spot, Reserved, SavingsPlan, CommittedUse
    "x_StorageClass": STRING,
    "x_TransferKind": STRING,  # InterRegion, Internet, IntraRegion
    "x_FromRegion": STRING,
    "x_ToRegion": STRING,
    "x_SourceFormat": STRING,
    "x_SourceFile": STRING,
    "x_SourceRow": dt.int64,
    "x_IngestId": STRING,
}

COSTS_SCHEMA = ibis.schema({**FOCUS_COLUMNS, **EXTENSION_COLUMNS})


def conform_costs(table: ir.Table) -> ir.Table:
    """Return `table` with exactly the canonical columns, in order, each cast to its type.

    Readers only produce the columns their source can fill; the rest become typed nulls here,
    so every reader's output unions cleanly with every other's.
    """
    present = set(table.columns)
    unknown = sorted(name for name in present if name not in COSTS_SCHEMA)
    if unknown:
        raise ValueError(f"reader produced columns outside the costs schema: {unknown}")
    selections: dict[str, ir.Value] = {}
    for name, dtype in COSTS_SCHEMA.items():
        if name in present:
            column = table[name]
            selections[name] = column if column.type() == dtype else column.cast(dtype)
        else:
            selections[name] = ibis.null(dtype)
    return table.select(**selections)
