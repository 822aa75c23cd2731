"""GCP dimensions derived from SKUs, labels and services: GPUs, storage class, transfer, tags."""

from __future__ import annotations

from functools import cache

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.package_data import csv_rows
from costrail.schema.costs import TAGS
from costrail.sources.base import literal_string
from costrail.sources.expr import blank_to_null
from costrail.sources.gcp.export_schema import LABEL

MACHINE_SPEC_LABEL = "compute.googleapis.com/machine_spec"

#: GPU names in SKU descriptions ("Nvidia Tesla A100 80GB GPU running in Americas") → our names.
GPU_SKU_PATTERN = r"(?i)\b(A100 80GB|A100|H100|H200|B200|GB200|L4|T4|V100|P100|P4|K80)\b"
GPU_SKU_NAMES = {"A100 80GB": "A100-80GB"}
#: Machine families with bundled GPUs, named in SKUs ("A2 Instance Core running in Americas").
GPU_FAMILY_PATTERN = r"(?i)\b(A2|A3|A4|G2)( Ultra)? Instance\b"
GPU_FAMILIES = {
    "A2": "A100",
    "A2 Ultra": "A100-80GB",
    "A3": "H100",
    "A3 Ultra": "H200",
    "A4": "B200",
    "G2": "L4",
}


def label_value(labels: ir.ArrayValue, key: str) -> ir.StringValue:
    values = labels.filter(lambda label: label["key"] == key).map(lambda label: label["value"])
    return ibis.ifelse(values.length() > 0, values[0], ibis.null("string"))


def merged_tags(flat: ir.Table) -> ir.Value:
    """Resource labels, plus the project's labels for keys the resource does not set itself."""
    empty = ibis.literal([], type=dt.Array(LABEL))
    own = ibis.coalesce(flat.labels, empty)
    own_keys = own.map(lambda label: label["key"])
    inherited = ibis.coalesce(flat["project.labels"], empty).filter(
        lambda label: ~own_keys.contains(label["key"])
    )
    merged = own.concat(inherited)
    label_map = ibis.map(
        merged.map(lambda label: label["key"]), merged.map(lambda label: label["value"])
    )
    return ibis.ifelse(merged.length() > 0, label_map, ibis.null(TAGS))


def sku_gpu_model(sku: ir.StringValue) -> ir.StringValue:
    """GPU model named by a GPU SKU, or implied by a GPU machine family's core/RAM SKU."""
    gpu = blank_to_null(sku.re_extract(GPU_SKU_PATTERN, 1)).upper()
    gpu = gpu.substitute({raw.upper(): name for raw, name in GPU_SKU_NAMES.items()})
    family = blank_to_null(sku.re_extract(GPU_FAMILY_PATTERN, 1)).upper() + ibis.ifelse(
        sku.re_search(r"(?i)\bUltra Instance\b"), " Ultra", ""
    )
    family_model = family.substitute(GPU_FAMILIES, else_=ibis.null("string"))
    return ibis.cases(
        (sku.re_search(r"(?i)\bGPU\b") & gpu.notnull(), gpu),
        else_=family_model,
    )


def storage_class(service: ir.StringValue, sku: ir.StringValue) -> ir.StringValue:
    """Cloud Storage class named by the SKU: `Nearline Storage Iowa`, `Standard Storage US`."""
    cases = [
        (sku.re_search(r"(?i)\bnearline\b"), literal_string("Nearline")),
        (sku.re_search(r"(?i)\bcoldline\b"), literal_string("Coldline")),
        (sku.re_search(r"(?i)\barchive\b"), literal_string("Archive")),
        (
            sku.re_search(r"(?i)\b(standard|regional storage|multi-regional storage|dual-region)"),
            literal_string("Standard"),
        ),
    ]
    return ibis.ifelse(
        service == "Cloud Storage",
        ibis.cases(*cases, else_=ibis.null("string")),
        ibis.null("string"),
    )


def transfer_kind(sku: ir.StringValue) -> ir.StringValue:
    """Network SKUs: `… Inter Region Data Transfer Out …`, `… Internet Data Transfer Out …`."""
    is_transfer = sku.re_search(r"(?i)(network|egress|ingress|data transfer|download)")
    kind = ibis.cases(
        (sku.re_search(r"(?i)\binter[- ]?region\b"), literal_string("InterRegion")),
        (
            sku.re_search(r"(?i)(\binternet\b|\bdownload (worldwide|apac|china|australia))"),
            literal_string("Internet"),
        ),
        (
            sku.re_search(r"(?i)\b(inter[- ]?zone|intra[- ]?zone|intra[- ]?region)\b"),
            literal_string("IntraRegion"),
        ),
        else_=ibis.null("string"),
    )
    return ibis.ifelse(is_transfer, kind, ibis.null("string"))


@cache
def service_categories() -> dict[str, str]:
    """`service.description` → FOCUS ServiceCategory (focus_converters' GCP mapping)."""
    rows = csv_rows("costrail.sources", "gcp_service_categories.csv")
    return {row["ConsumedService"]: row["ServiceCategory"] for row in rows}


def service_category(service: ir.StringValue) -> ir.StringValue:
    return ibis.coalesce(
        service.substitute(service_categories(), else_=ibis.null("string")),
        literal_string("Other"),
    )
