"""Azure service and resource columns: service, region, VM size and GPUs, blob tier, transfer."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.pricing.gpu_instances import gpu_case
from costrail.sources.azure.tags import tags_map
from costrail.sources.base import literal_string
from costrail.sources.expr import blank_to_null

#: VM size as AdditionalInfo carries it: {"ServiceType":"Standard_ND96isr_H100_v5", …}.
VM_SIZE_PATTERN = r'(?i)"(?:ServiceType|VMSize)"\s*:\s*"((?:Standard|Basic)_[^"]+)"'
#: A VM meter name ("ND96isr H100 v5", "DS4 v2 Spot", "D2 v3/D2s v3") without its pricing suffix.
VM_METER_PATTERN = r"(?i)^([^/]+?)(?: Spot| Low Priority)?(?:/.*)?$"


def resource_columns(rows: ir.Table, engine: str) -> dict[str, ir.Value]:
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
        "Tags": tags_map(rows.tags, engine),
        "x_InstanceType": instance_type,
        "x_GpuModel": gpu_model,
        "x_GpuCount": gpu_count,
        "x_StorageClass": _storage_class(rows),
        "x_TransferKind": _transfer_kind(rows),
    }


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
