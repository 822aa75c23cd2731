"""AWS service and resource columns: ServiceCategory, region, instance type and GPUs, S3 class."""

from __future__ import annotations

from functools import cache

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.package_data import csv_rows
from costrail.pricing.gpu_instances import aws_gpu_case
from costrail.sources.aws.line_items import AwsNative, first_of
from costrail.sources.base import literal_string

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


def service_columns(
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


def resource_columns(
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
    rows = csv_rows("costrail.sources", "aws_category_mapping.csv")
    return {row["product_code"]: row["ServiceCategory"] for row in rows}


def service_category(product_code: ir.StringValue) -> ir.Value:
    """A lookup in a literal map (one evaluation of the code per row); unmapped codes → Other."""
    categories = ibis.literal(service_categories(), type=dt.Map(dt.string, dt.string))
    return ibis.coalesce(categories.get(product_code), literal_string("Other"))
