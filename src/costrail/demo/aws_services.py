"""AWS line items other than compute: S3, CloudWatch Logs, data transfer and Bedrock tokens.

S3 storage and CloudWatch Logs are metered once a day (usage in GB-months: GB × 24 hours /
hours in the month); transfer and Bedrock tokens are hourly. List prices are us-east-1 public
prices with the first pricing tier only (tiers are not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from costrail.demo.aws_lines import AWS_REGIONS, CurBatch, metered, region_prefix, usage_template
from costrail.demo.company import Owner, aws_resource_tags
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


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str
    account: str
    owner: Owner


def s3_storage(
    timeline: Timeline, bucket: Bucket, storage_class: str, gb_by_day: IntArray
) -> CurBatch:
    """Daily storage rows; usage is GB-months (GB × 24 h / hours in that month)."""
    infix, operation, price, class_name = S3_CLASSES[storage_class]
    usage_type = _prefixed(bucket.region, infix)
    template = usage_template(
        account=bucket.account,
        product_code="AmazonS3",
        usage_type=usage_type,
        operation=operation,
        description=f"${price.normalize():f} per GB-Month of storage used in {class_name}",
        resource_id=bucket.name,
        region=bucket.region,
        unit="GB-Mo",
        rate=price,
        public_rate=price,
        tags=aws_resource_tags(bucket.owner),
        product_family="Storage",
        product_name="Amazon Simple Storage Service",
        product_extra=(("storage_class", class_name), ("volume_type", storage_class)),
    )
    days = np.arange(timeline.days, dtype=np.int64)
    hours = days * 24
    batch = metered(
        template,
        hours,
        np.asarray(gb_by_day, dtype=np.int64) * 24,
        timeline.hours_in_month_of(hours),
        price,
        price,
        span_hours=24,
    )
    return batch


def s3_requests(
    timeline: Timeline, bucket: Bucket, tier: str, requests_by_day: IntArray
) -> CurBatch:
    operation = "PutObject" if tier == "Tier1" else "GetObject"
    price = S3_REQUEST_PRICES[tier]
    template = usage_template(
        account=bucket.account,
        product_code="AmazonS3",
        usage_type=_prefixed(bucket.region, f"Requests-{tier}"),
        operation=operation,
        description=f"${price.normalize():f} per {_REQUEST_WORDS[tier]} requests",
        resource_id=bucket.name,
        region=bucket.region,
        unit="Requests",
        rate=price,
        public_rate=price,
        tags=aws_resource_tags(bucket.owner),
        product_family="API Request",
        product_name="Amazon Simple Storage Service",
        product_extra=(("group", f"S3-API-{tier}"),),
    )
    days = np.arange(timeline.days, dtype=np.int64)
    keep = np.asarray(requests_by_day) > 0
    batch = metered(
        template, days[keep] * 24, np.asarray(requests_by_day)[keep], 1, price, price, span_hours=24
    )
    return batch


@dataclass(frozen=True)
class LogGroup:
    name: str
    account: str
    owner: Owner

    @property
    def arn(self) -> str:
        return f"arn:aws:logs:us-east-1:{self.account}:log-group:{self.name}"


def log_ingestion(timeline: Timeline, group: LogGroup, mb_by_day: IntArray) -> CurBatch:
    """Daily `DataProcessing-Bytes` rows; quantity in MB (1/1000 GB, as AWS meters decimal GB)."""
    template = usage_template(
        account=group.account,
        product_code="AmazonCloudWatch",
        usage_type="DataProcessing-Bytes",
        operation="PutLogEvents",
        description=f"${CLOUDWATCH_INGEST_PER_GB.normalize():f} per GB custom log data ingested",
        resource_id=group.arn,
        region="us-east-1",
        unit="GB",
        rate=CLOUDWATCH_INGEST_PER_GB,
        public_rate=CLOUDWATCH_INGEST_PER_GB,
        tags=aws_resource_tags(group.owner),
        product_family="Data Payload",
        product_name="AmazonCloudWatch",
        product_extra=(("group", "Ingested Logs"),),
    )
    days = np.arange(timeline.days, dtype=np.int64)
    batch = metered(
        template,
        days * 24,
        mb_by_day,
        1000,
        CLOUDWATCH_INGEST_PER_GB,
        CLOUDWATCH_INGEST_PER_GB,
        span_hours=24,
    )
    return batch


def log_storage(timeline: Timeline, group: LogGroup, gb_by_day: IntArray) -> CurBatch:
    template = usage_template(
        account=group.account,
        product_code="AmazonCloudWatch",
        usage_type="TimedStorage-ByteHrs",
        operation="HourlyStorageMetering",
        description=f"${CLOUDWATCH_STORAGE_PER_GB_MONTH.normalize():f} per GB-mo of log storage",
        resource_id=group.arn,
        region="us-east-1",
        unit="GB-Mo",
        rate=CLOUDWATCH_STORAGE_PER_GB_MONTH,
        public_rate=CLOUDWATCH_STORAGE_PER_GB_MONTH,
        tags=aws_resource_tags(group.owner),
        product_family="Storage Snapshot",
        product_name="AmazonCloudWatch",
        product_extra=(("group", "Log Storage"),),
    )
    days = np.arange(timeline.days, dtype=np.int64)
    hours = days * 24
    batch = metered(
        template,
        hours,
        np.asarray(gb_by_day, dtype=np.int64) * 24,
        timeline.hours_in_month_of(hours),
        CLOUDWATCH_STORAGE_PER_GB_MONTH,
        CLOUDWATCH_STORAGE_PER_GB_MONTH,
        span_hours=24,
    )
    return batch


def inter_region_transfer(
    bucket: Bucket, to_region: str, hours: IntArray, mb: IntArray
) -> CurBatch:
    """S3 reads from another region: `USE1-USW2-AWS-Out-Bytes` on the source bucket."""
    usage_type = f"{region_prefix(bucket.region)}-{region_prefix(to_region)}-AWS-Out-Bytes"
    template = usage_template(
        account=bucket.account,
        product_code="AmazonS3",
        usage_type=usage_type,
        operation="GetObject",
        description=(
            f"${INTER_REGION_PER_GB.normalize():f} per GB - "
            f"{AWS_REGIONS[bucket.region][1]} data transfer to {AWS_REGIONS[to_region][1]}"
        ),
        resource_id=bucket.name,
        region=bucket.region,
        unit="GB",
        rate=INTER_REGION_PER_GB,
        public_rate=INTER_REGION_PER_GB,
        tags=aws_resource_tags(bucket.owner),
        product_family="Data Transfer",
        product_name="Amazon Simple Storage Service",
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
    template = usage_template(
        account=account,
        product_code="AmazonEC2",
        usage_type="DataTransfer-Out-Bytes",
        operation="RunInstances",
        description=(
            f"${INTERNET_EGRESS_PER_GB.normalize():f} per GB - first 10 TB / month "
            "data transfer out beyond the global free tier"
        ),
        resource_id=resource_id,
        region="us-east-1",
        unit="GB",
        rate=INTERNET_EGRESS_PER_GB,
        public_rate=INTERNET_EGRESS_PER_GB,
        tags=aws_resource_tags(owner),
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
    template = usage_template(
        account=account,
        product_code="AmazonBedrock",
        usage_type=f"USE1-{model}-{direction}-tokens",
        operation="InvokeModelInference",
        description=f"${price.normalize():f} per 1K {direction} tokens for {model} in US East",
        resource_id="arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        region="us-east-1",
        unit="1K tokens",
        rate=price,
        public_rate=price,
        tags=aws_resource_tags(owner),
        product_family="Amazon Bedrock",
        product_name="Amazon Bedrock",
        product_extra=(("model", model), ("inference_type", f"{direction} tokens")),
    )
    return metered(template, hours, tokens, 1000, price, price)
