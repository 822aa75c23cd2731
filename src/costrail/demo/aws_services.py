"""AWS line items other than compute: S3, CloudWatch Logs, data transfer and Bedrock tokens.

S3 storage and CloudWatch Logs are metered once a day (usage in GB-months: GB × 24 hours /
hours in the month); transfer and Bedrock tokens are hourly. List prices are us-east-1 public
prices with the first pricing tier only (tiers are not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from costrail.demo.aws_lines import (
    AWS_REGIONS,
    CurBatch,
    Template,
    list_price_template,
    metered,
    region_prefix,
)
from costrail.demo.company import Owner
from costrail.demo.timeline import IntArray, Timeline

#: S3 storage classes: name → (usage type infix, operation, USD per GB-month, class name).
S3_CLASSES: dict[str, tuple[str, str, Decimal, str]] = {
    "STANDARD": ("TimedStorage-ByteHrs", "StandardStorage", Decimal("0.023"), "General Purpose"),
    "STANDARD_IA": (
        "TimedStorage-SIA-ByteHrs",
        "StandardIAStorage",
        Decimal("0.0125"),
        "Infrequent Access",
    ),
    "GLACIER_IR": (
        "TimedStorage-GIR-ByteHrs",
        "GlacierInstantRetrievalStorage",
        Decimal("0.004"),
        "Archive Instant Retrieval",
    ),
    "GLACIER": ("TimedStorage-GlacierByteHrs", "GlacierStorage", Decimal("0.0036"), "Archive"),
}
S3_REQUEST_PRICES = {"Tier1": Decimal("0.000005"), "Tier2": Decimal("0.0000004")}
CLOUDWATCH_INGEST_PER_GB = Decimal("0.50")
CLOUDWATCH_STORAGE_PER_GB_MONTH = Decimal("0.03")
INTER_REGION_PER_GB = Decimal("0.02")
INTERNET_EGRESS_PER_GB = Decimal("0.09")
_REQUEST_WORDS = {"Tier1": "PUT, COPY, POST, or LIST", "Tier2": "GET and all other"}
BEDROCK_PER_1K_TOKENS = {"input": Decimal("0.0008"), "output": Decimal("0.0032")}


def _prefixed(region: str, usage_type: str) -> str:
    """us-east-1 usage types of S3, CloudWatch and EC2 transfer carry no region prefix."""
    return usage_type if region == "us-east-1" else f"{region_prefix(region)}-{usage_type}"


def _daily_gb_months(
    timeline: Timeline, template: Template, gb_by_day: IntArray, price: Decimal
) -> CurBatch:
    """Storage metered once a day, in GB-months: GB × 24 h / hours in that day's month."""
    hours = np.arange(timeline.days, dtype=np.int64) * 24
    gb_hours = np.asarray(gb_by_day, dtype=np.int64) * 24
    per_gb_month = timeline.hours_in_month_of(hours)
    return metered(template, hours, gb_hours, per_gb_month, price, price, span_hours=24)


def _daily(
    template: Template, days: IntArray, quantity: IntArray, per_unit: int, price: Decimal
) -> CurBatch:
    """One row a day of `quantity / per_unit` units at the list price."""
    return metered(template, days * 24, quantity, per_unit, price, price, span_hours=24)


@dataclass(frozen=True)
class _ResourceLines:
    """What every line item of one resource shares: account, owner, product and region."""

    account: str
    owner: Owner
    product_code: str
    product_name: str
    resource_id: str
    region: str

    def at_list_price(self, price: Decimal, per: str, **fields: Any) -> Template:
        """A line of this resource at list price (see `list_price_template`)."""
        return list_price_template(
            price,
            per,
            self.owner,
            account=self.account,
            product_code=self.product_code,
            product_name=self.product_name,
            resource_id=self.resource_id,
            region=self.region,
            **fields,
        )


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str
    account: str
    owner: Owner

    @property
    def lines(self) -> _ResourceLines:
        return _ResourceLines(
            self.account,
            self.owner,
            "AmazonS3",
            "Amazon Simple Storage Service",
            self.name,
            self.region,
        )


def s3_storage(
    timeline: Timeline, bucket: Bucket, storage_class: str, gb_by_day: IntArray
) -> CurBatch:
    """Daily storage rows; usage is GB-months (GB × 24 h / hours in that month)."""
    infix, operation, price, class_name = S3_CLASSES[storage_class]
    template = bucket.lines.at_list_price(
        price,
        f"GB-Month of storage used in {class_name}",
        usage_type=_prefixed(bucket.region, infix),
        operation=operation,
        unit="GB-Mo",
        product_family="Storage",
        product_extra=(("storage_class", class_name), ("volume_type", storage_class)),
    )
    return _daily_gb_months(timeline, template, gb_by_day, price)


def s3_requests(
    timeline: Timeline, bucket: Bucket, tier: str, requests_by_day: IntArray
) -> CurBatch:
    price = S3_REQUEST_PRICES[tier]
    template = bucket.lines.at_list_price(
        price,
        f"{_REQUEST_WORDS[tier]} requests",
        usage_type=_prefixed(bucket.region, f"Requests-{tier}"),
        operation="PutObject" if tier == "Tier1" else "GetObject",
        unit="Requests",
        product_family="API Request",
        product_extra=(("group", f"S3-API-{tier}"),),
    )
    days = np.arange(timeline.days, dtype=np.int64)
    keep = np.asarray(requests_by_day) > 0
    return _daily(template, days[keep], np.asarray(requests_by_day)[keep], 1, price)


@dataclass(frozen=True)
class LogGroup:
    name: str
    account: str
    owner: Owner

    @property
    def arn(self) -> str:
        return f"arn:aws:logs:us-east-1:{self.account}:log-group:{self.name}"

    @property
    def lines(self) -> _ResourceLines:
        return _ResourceLines(
            self.account, self.owner, "AmazonCloudWatch", "AmazonCloudWatch", self.arn, "us-east-1"
        )


def log_ingestion(timeline: Timeline, group: LogGroup, mb_by_day: IntArray) -> CurBatch:
    """Daily `DataProcessing-Bytes` rows; quantity in MB (1/1000 GB, as AWS meters decimal GB)."""
    template = group.lines.at_list_price(
        CLOUDWATCH_INGEST_PER_GB,
        "GB custom log data ingested",
        usage_type="DataProcessing-Bytes",
        operation="PutLogEvents",
        unit="GB",
        product_family="Data Payload",
        product_extra=(("group", "Ingested Logs"),),
    )
    days = np.arange(timeline.days, dtype=np.int64)
    return _daily(template, days, mb_by_day, 1000, CLOUDWATCH_INGEST_PER_GB)


def log_storage(timeline: Timeline, group: LogGroup, gb_by_day: IntArray) -> CurBatch:
    template = group.lines.at_list_price(
        CLOUDWATCH_STORAGE_PER_GB_MONTH,
        "GB-mo of log storage",
        usage_type="TimedStorage-ByteHrs",
        operation="HourlyStorageMetering",
        unit="GB-Mo",
        product_family="Storage Snapshot",
        product_extra=(("group", "Log Storage"),),
    )
    return _daily_gb_months(timeline, template, gb_by_day, CLOUDWATCH_STORAGE_PER_GB_MONTH)


def inter_region_transfer(
    bucket: Bucket, to_region: str, hours: IntArray, mb: IntArray
) -> CurBatch:
    """S3 reads from another region: `USE1-USW2-AWS-Out-Bytes` on the source bucket."""
    template = bucket.lines.at_list_price(
        INTER_REGION_PER_GB,
        f"GB - {AWS_REGIONS[bucket.region][1]} data transfer to {AWS_REGIONS[to_region][1]}",
        usage_type=f"{region_prefix(bucket.region)}-{region_prefix(to_region)}-AWS-Out-Bytes",
        operation="GetObject",
        unit="GB",
        product_family="Data Transfer",
        servicecode="AWSDataTransfer",
        from_region=bucket.region,
        to_region=to_region,
        product_extra=(("transfer_type", "InterRegion Outbound"),),
    )
    return metered(template, hours, mb, 1000, INTER_REGION_PER_GB, INTER_REGION_PER_GB)


def internet_egress(
    account: str, resource_id: str, owner: Owner, hours: IntArray, mb: IntArray
) -> CurBatch:
    """EC2 traffic to the internet: `DataTransfer-Out-Bytes` (us-east-1 has no prefix)."""
    template = list_price_template(
        INTERNET_EGRESS_PER_GB,
        "GB - first 10 TB / month data transfer out beyond the global free tier",
        owner,
        account=account,
        product_code="AmazonEC2",
        usage_type="DataTransfer-Out-Bytes",
        operation="RunInstances",
        resource_id=resource_id,
        region="us-east-1",
        unit="GB",
        product_family="Data Transfer",
        product_name="Amazon Elastic Compute Cloud",
        servicecode="AWSDataTransfer",
        from_region="us-east-1",
        product_extra=(("transfer_type", "AWS Outbound"),),
    )
    template["product_to_location"] = "External"
    template["product_to_location_type"] = "Other"
    return metered(template, hours, mb, 1000, INTERNET_EGRESS_PER_GB, INTERNET_EGRESS_PER_GB)


def bedrock_tokens(
    account: str, owner: Owner, model: str, direction: str, hours: IntArray, tokens: IntArray
) -> CurBatch:
    """Bedrock on-demand tokens, priced per 1K tokens (`USE1-NovaPro-input-tokens`)."""
    price = BEDROCK_PER_1K_TOKENS[direction]
    template = list_price_template(
        price,
        f"1K {direction} tokens for {model} in US East",
        owner,
        account=account,
        product_code="AmazonBedrock",
        usage_type=f"USE1-{model}-{direction}-tokens",
        operation="InvokeModelInference",
        resource_id="arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        region="us-east-1",
        unit="1K tokens",
        product_family="Amazon Bedrock",
        product_name="Amazon Bedrock",
        product_extra=(("model", model), ("inference_type", f"{direction} tokens")),
    )
    return metered(template, hours, tokens, 1000, price, price)
