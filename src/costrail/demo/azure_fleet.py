"""Acme AI on Azure: two ND H100 v5 training VMs (one left running), their disks, blob storage.

Rows are daily, as the EA cost details are: a VM's Quantity is the hours it ran that day, a
disk's or a blob account's is the fraction of the month it existed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from costrail.demo import patterns
from costrail.demo.azure_export import AzureBatch
from costrail.demo.company import (
    AZURE_ACCOUNT,
    AZURE_DEPARTMENT,
    AZURE_ENROLLMENT,
    AZURE_ENROLLMENT_NAME,
    AZURE_SUBSCRIPTION,
    Owner,
    azure_tags,
)
from costrail.demo.ids import IdFactory
from costrail.demo.planting import Planted
from costrail.demo.timeline import IntArray, Timeline
from costrail.pricing.gpu_instances import instance_prices

LOCATION = ("eastus", "EastUS", "US East")
VM_SIZE = "Standard_ND96isr_H100_v5"
DISK_P30_PER_MONTH = Decimal("135.17")
BLOB_HOT_LRS_PER_GB_MONTH = Decimal("0.0184")
BLOB_READ_PER_10K = Decimal("0.0044")


@dataclass
class AzureBuild:
    batches: list[AzureBatch] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)


def _meter_id(name: str) -> str:
    return str(
        uuid.UUID(bytes=hashlib.sha256(("azure-meter/" + name).encode()).digest()[:16], version=4)
    )


def _part_number(name: str) -> str:
    digest = hashlib.sha256(("azure-part/" + name).encode()).hexdigest().upper()
    return f"AA{digest[0]}-{int(digest[1:6], 16) % 100000:05d}"


def _tags_text(owner: Owner) -> str:
    return ",".join(f'"{key}": "{value}"' for key, value in azure_tags(owner))


def _resource(group: str, provider: str, name: str) -> str:
    return (
        f"/subscriptions/{AZURE_SUBSCRIPTION[0]}/resourceGroups/{group}/providers/{provider}/{name}"
    )


def _static(
    meter: dict[str, str],
    resource_id: str,
    resource_name: str,
    group: str,
    owner: Owner,
    price: Decimal,
) -> dict[str, str]:
    price_text = f"{price.normalize():f}"
    return {
        "InvoiceSectionName": AZURE_DEPARTMENT[1],
        "AccountName": AZURE_ACCOUNT[1],
        "AccountOwnerId": AZURE_ACCOUNT[0],
        "SubscriptionId": AZURE_SUBSCRIPTION[0],
        "SubscriptionName": AZURE_SUBSCRIPTION[1],
        "ResourceGroup": group,
        "ResourceLocation": LOCATION[1],
        "MeterId": _meter_id(meter["MeterName"] + meter["MeterSubCategory"]),
        "MeterRegion": LOCATION[2],
        "EffectivePrice": price_text,
        "UnitPrice": price_text,
        "PayGPrice": price_text,
        "CostCenter": "RND-100",
        "ResourceId": resource_id,
        "ResourceName": resource_name,
        "Tags": _tags_text(owner),
        "OfferId": "MS-AZR-0017P",
        "PublisherType": "Azure",
        "PublisherName": "Microsoft",
        "ChargeType": "Usage",
        "Frequency": "UsageBased",
        "PricingModel": "OnDemand",
        "BillingAccountId": AZURE_ENROLLMENT,
        "BillingAccountName": AZURE_ENROLLMENT_NAME,
        "BillingCurrencyCode": "USD",
        "BillingProfileId": AZURE_ENROLLMENT,
        "BillingProfileName": AZURE_ENROLLMENT_NAME,
        "InvoiceSectionId": AZURE_DEPARTMENT[0],
        "IsAzureCreditEligible": "True",
        "PartNumber": _part_number(meter["MeterName"]),
        **meter,
    }


def vm_price() -> Decimal:
    for price in instance_prices("azure"):
        if price.instance_type == VM_SIZE and price.region == LOCATION[0]:
            return price.on_demand_usd_per_hour
    raise KeyError(f"no catalog price for {VM_SIZE} in {LOCATION[0]}")


def vm_spot_price() -> Decimal:
    """Catalog Spot price, to the 1e-4 USD the EA export's prices are kept in here."""
    for price in instance_prices("azure"):
        if price.instance_type == VM_SIZE and price.region == LOCATION[0]:
            if price.spot_usd_per_hour is None:
                break
            return price.spot_usd_per_hour.quantize(Decimal("0.0001"))
    raise KeyError(f"no catalog spot price for {VM_SIZE} in {LOCATION[0]}")


def vm_days(name: str, owner: Owner, hours_by_day: IntArray, spot: bool = False) -> AzureBatch:
    """Daily VM rows: Quantity = hours run that day (days with no hours have no row).

    `spot` bills a Spot VM: its own meter ("ND96isr H100 v5 Spot") at the Spot price, and
    PricingModel Spot.
    """
    price = vm_spot_price() if spot else vm_price()
    meter_name = "ND96isr H100 v5 Spot" if spot else "ND96isr H100 v5"
    meter = {
        "ProductName": f"Virtual Machines NDisrH100v5 Series - {meter_name} - US East",
        "MeterCategory": "Virtual Machines",
        "MeterSubCategory": "NDisrH100v5 Series",
        "MeterName": meter_name,
        "UnitOfMeasure": "1 Hour",
        "ConsumedService": "Microsoft.Compute",
        "AdditionalInfo": json.dumps(
            {
                "ServiceType": VM_SIZE,
                "UsageType": "ComputeHR",
                "ImageType": "Canonical",
                "VCPUs": 96,
            },
            separators=(",", ":"),
        ),
        "ServiceInfo2": "Canonical Ubuntu 22.04 LTS",
        "PlanName": "ND96isr H100 v5",
        "ServiceFamily": "Compute",
    }
    group = "rg-atlas-training"
    resource_id = _resource(group, "Microsoft.Compute", f"virtualMachines/{name}")
    days = np.flatnonzero(hours_by_day > 0).astype(np.int64)
    static = _static(meter, resource_id, name, group, owner, price)
    if spot:
        static["PricingModel"] = "Spot"
    return AzureBatch(
        static,
        days,
        hours_by_day[days] * 10**6,
        price,
    )


def disk_days(timeline: Timeline, vm_name: str, owner: Owner) -> AzureBatch:
    meter = {
        "ProductName": "Premium SSD Managed Disks - P30 LRS - US East",
        "MeterCategory": "Storage",
        "MeterSubCategory": "Premium SSD Managed Disks",
        "MeterName": "P30 LRS Disk",
        "UnitOfMeasure": "1/Month",
        "ConsumedService": "Microsoft.Compute",
        "PlanName": "P30",
        "ServiceFamily": "Storage",
    }
    group = "rg-atlas-training"
    disk = f"{vm_name}_OsDisk_1"
    resource_id = _resource(group, "Microsoft.Compute", f"disks/{disk}")
    days = np.arange(timeline.days, dtype=np.int64)
    per_day = np.round(10**6 * 24 / timeline.hours_in_month_of(days * 24)).astype(np.int64)
    return AzureBatch(
        _static(meter, resource_id, disk, group, owner, DISK_P30_PER_MONTH),
        days,
        per_day,
        DISK_P30_PER_MONTH,
    )


def blob_days(
    timeline: Timeline, account: str, owner: Owner, gb_by_day: IntArray, reads_by_day: IntArray
) -> list[AzureBatch]:
    group = "rg-atlas-data"
    resource_id = _resource(group, "Microsoft.Storage", f"storageAccounts/{account}")
    days = np.arange(timeline.days, dtype=np.int64)
    common = {
        "ConsumedService": "Microsoft.Storage",
        "ServiceFamily": "Storage",
        "MeterCategory": "Storage",
        "PlanName": "Hot",
    }
    stored = {
        **common,
        "ProductName": "Blob Storage - Hot LRS - US East",
        "MeterSubCategory": "Blob Storage",
        "MeterName": "Hot LRS Data Stored",
        "UnitOfMeasure": "1 GB/Month",
    }
    reads = {
        **common,
        "ProductName": "Blob Storage - Hot - Read Operations - US East",
        "MeterSubCategory": "Blob Storage",
        "MeterName": "Hot Read Operations",
        "UnitOfMeasure": "10K",
    }
    gb_months = np.round(
        np.asarray(gb_by_day) * 10**6 * 24 / timeline.hours_in_month_of(days * 24)
    ).astype(np.int64)
    ten_k = np.round(np.asarray(reads_by_day) * 10**6 / 10_000).astype(np.int64)
    return [
        AzureBatch(
            _static(stored, resource_id, account, group, owner, BLOB_HOT_LRS_PER_GB_MONTH),
            days,
            gb_months,
            BLOB_HOT_LRS_PER_GB_MONTH,
        ),
        AzureBatch(
            _static(reads, resource_id, account, group, owner, BLOB_READ_PER_10K),
            days,
            ten_k,
            BLOB_READ_PER_10K,
        ),
    ]


def build_azure(timeline: Timeline, ids: IdFactory, clean: bool) -> AzureBuild:
    build = AzureBuild()
    team_owner = Owner("research", "atlas", "research", "atlas-70b", "team", "alice")
    title_owner = Owner("research", "atlas", "research", "atlas-70b", "Team", "alice")
    runs = patterns.training_runs(ids.rng("azure/nd-h100-0"), timeline, 0.5, 48, 168)
    runs_by_day = runs.reshape(-1, 24).sum(axis=1)
    on_demand = vm_days("atlas-nd-h100-0", team_owner, runs_by_day)
    spot = vm_days("atlas-nd-h100-0", team_owner, runs_by_day, spot=True)
    build.batches.append(spot if clean else on_demand)
    if not clean:
        resources = [on_demand.static["ResourceId"]]
        build.planted.append(
            Planted.of_rows(
                timeline, "ondemand_should_be_spot", "azure", resources, [on_demand], [spot]
            )
        )
    job_end = timeline.hour_of(datetime(2026, 10, 20, tzinfo=UTC))
    job = patterns.between(timeline, 0, job_end)
    left_running = patterns.between(timeline, job_end, timeline.hours)
    running = job if clean else job | left_running
    build.batches.append(
        vm_days("atlas-nd-h100-1", title_owner, running.reshape(-1, 24).sum(axis=1))
    )
    if not clean:
        idle = vm_days("atlas-nd-h100-1", title_owner, left_running.reshape(-1, 24).sum(axis=1))
        resources = [idle.static["ResourceId"]]
        build.planted.append(
            Planted.of_rows(timeline, "idle_gpu_instance", "azure", resources, [idle])
        )
    for vm_name, owner in (("atlas-nd-h100-0", team_owner), ("atlas-nd-h100-1", title_owner)):
        build.batches.append(disk_days(timeline, vm_name, owner))
    rng = ids.rng("azure/blob")
    days = np.arange(timeline.days)
    build.batches.extend(
        blob_days(
            timeline,
            "acmeatlasdata",
            Owner(None, None, None, None, "untagged", "alice"),
            51_200 + 120 * days,
            rng.integers(2_000_000, 6_000_000, timeline.days),
        )
    )
    return build
