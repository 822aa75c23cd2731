"""AWS compute line items: EC2 GPU instances (On-Demand, Spot, Savings Plan) and SageMaker.

Prices of EC2 instances come from costrail's shipped catalog (`instance_prices("aws")`);
SageMaker is not in that catalog, so its few list prices are kept here (us-east-1 public prices,
rounded as published).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import numpy as np

from costrail.demo.aws_lines import (
    AWS_REGIONS,
    CurBatch,
    Template,
    ec2_usage_type,
    hourly_seconds,
    list_price_template,
    metered,
    region_prefix,
    usage_template,
)
from costrail.demo.company import AWS_ACCOUNTS, AWS_PAYER_ACCOUNT, Owner, aws_resource_tags
from costrail.demo.ids import IdFactory
from costrail.demo.money import E10, scaled_product, to_units
from costrail.demo.timeline import IntArray, Timeline
from costrail.pricing.gpu_instances import aws_instance_gpu, instance_prices

#: vCPUs and memory (GiB) of the instance types the demo runs (AWS instance-type pages).
EC2_SHAPES: dict[str, tuple[int, int]] = {
    "p4d.24xlarge": (96, 1152),
    "p4de.24xlarge": (96, 1152),
    "p5.48xlarge": (192, 2048),
    "g5.12xlarge": (48, 192),
    "g5.48xlarge": (192, 768),
    "g6e.xlarge": (4, 32),
    "g6e.12xlarge": (48, 384),
    "g5.xlarge": (4, 16),
}

#: SageMaker list prices, USD per instance-hour, us-east-1 (component → instance type → price).
SAGEMAKER_PRICES: dict[str, dict[str, Decimal]] = {
    "Train": {"ml.p4d.24xlarge": Decimal("37.688"), "ml.g5.12xlarge": Decimal("7.09")},
    "Host": {"ml.g5.2xlarge": Decimal("1.515"), "ml.g5.12xlarge": Decimal("7.09")},
    "Notebk": {"ml.g5.2xlarge": Decimal("1.515")},
}
_SAGEMAKER_WORDS = {"Train": "Training", "Host": "Hosting", "Notebk": "Notebook"}
_SAGEMAKER_OPERATIONS = {
    "Train": "CreateTrainingJob",
    "Host": "RunInstance",
    "Notebk": "RunInstance",
}

#: Compute Savings Plan rate as a fraction of On-Demand (1 year, No Upfront, GPU instances).
SAVINGS_PLAN_RATE_FRACTION = Decimal("0.72")
#: SageMaker Savings Plan rate as a fraction of the list price (1 year, No Upfront, ml.g5).
SAGEMAKER_SAVINGS_PLAN_RATE_FRACTION = Decimal("0.72")


@dataclass(frozen=True)
class SavingsPlanOffering:
    """How a plan's fee rows name it: product code, usage type, description, offering type."""

    product_code: str
    usage_type: str
    description: str
    product_name: str
    offering_type: str


COMPUTE_SAVINGS_PLAN = SavingsPlanOffering(
    "ComputeSavingsPlans",
    "ComputeSP:1yrNoUpfront",
    "1 year No Upfront Compute Savings Plan",
    "Savings Plans for AWS Compute usage",
    "ComputeSavingsPlans",
)
SAGEMAKER_SAVINGS_PLAN = SavingsPlanOffering(
    "SageMakerSavingsPlans",
    "SageMakerSP:1yrNoUpfront",
    "1 year No Upfront SageMaker Savings Plan",
    "Savings Plans for Amazon SageMaker usage",
    "SageMakerSavingsPlans",
)


@dataclass(frozen=True)
class Ec2Instance:
    name: str
    instance_id: str
    instance_type: str
    region: str
    zone: str
    account: str
    owner: Owner


def ec2_instance(
    ids: IdFactory, name: str, itype: str, region: str, zone: str, account: str, owner: Owner
) -> Ec2Instance:
    """An instance named `name` in the AWS account called `account` (prod, research, …)."""
    return Ec2Instance(
        name, ids.ec2_instance_id(name), itype, region, zone, AWS_ACCOUNTS[account], owner
    )


@cache
def ec2_price(instance_type: str, region: str) -> tuple[Decimal, Decimal]:
    """(On-Demand, Spot) USD per hour from the shipped catalog; a missing price is an error."""
    for price in instance_prices("aws"):
        if price.instance_type == instance_type and price.region == region:
            spot = price.spot_usd_per_hour or price.on_demand_usd_per_hour
            return price.on_demand_usd_per_hour, spot.quantize(Decimal("0.0001"))
    raise KeyError(f"no catalog price for {instance_type} in {region}")


def savings_plan_rate(instance_type: str, region: str) -> Decimal:
    on_demand, _ = ec2_price(instance_type, region)
    return (on_demand * SAVINGS_PLAN_RATE_FRACTION).quantize(Decimal("0.0001"))


def _ec2_product(instance_type: str) -> tuple[tuple[str, str], ...]:
    vcpu, memory = EC2_SHAPES[instance_type]
    gpu = aws_instance_gpu(instance_type)
    extra = [
        ("operating_system", "Linux"),
        ("tenancy", "Shared"),
        ("vcpu", str(vcpu)),
        ("memory", f"{memory} GiB"),
        ("servicename", "Amazon Elastic Compute Cloud"),
    ]
    if gpu is not None:
        extra += [
            ("gpu", str(gpu.gpu_count)),
            ("gpu_memory", f"{gpu.gpu_count * _gpu_gib(gpu.gpu_model)} GB"),
        ]
    return tuple(extra)


def _gpu_gib(model: str) -> int:
    from costrail.pricing.gpu_instances import GPU_MEMORY_GIB

    return GPU_MEMORY_GIB.get(model, 0)


def ec2_template(
    instance: Ec2Instance, purchase: str, sp_arn: str | None = None
) -> dict[str, object]:
    """Template of an EC2 instance-hour line; `purchase` is OnDemand, Spot, Covered or Negation."""
    on_demand, spot = ec2_price(instance.instance_type, instance.region)
    location = AWS_REGIONS[instance.region][1]
    spot_usage = purchase == "Spot"
    usage_type = ec2_usage_type(
        instance.region, "SpotUsage" if spot_usage else "BoxUsage", instance.instance_type
    )
    if spot_usage:
        zone_number = "abcdef".index(instance.zone[-1]) + 1
        description = (
            f"{instance.instance_type} Linux/UNIX Spot Instance-hour in {location} "
            f"in VPC Zone #{zone_number}"
        )
    else:
        description = (
            f"${on_demand.normalize():f} per On Demand Linux {instance.instance_type} Instance Hour"
        )
    line_type = {"OnDemand": "Usage", "Spot": "Usage", "Covered": "SavingsPlanCoveredUsage"}.get(
        purchase, "SavingsPlanNegation"
    )
    template = usage_template(
        account=instance.account,
        product_code="AmazonEC2",
        usage_type=usage_type,
        operation="RunInstances:SV001" if spot_usage else "RunInstances",
        description=description,
        resource_id=instance.instance_id,
        region=instance.region,
        availability_zone=instance.zone,
        unit="Hrs",
        rate=spot if spot_usage else on_demand,
        public_rate=on_demand,
        tags=aws_resource_tags(instance.owner),
        product_family="Compute Instance",
        product_name="Amazon Elastic Compute Cloud",
        line_item_type=line_type,
        pricing_term="Spot" if spot_usage else "OnDemand",
        # CUR leaves the instance type empty on Spot usage rows; it is in the description.
        instance_type=None if spot_usage else instance.instance_type,
        instance_family="GPU instance",
        product_extra=_ec2_product(instance.instance_type),
    )
    if sp_arn is not None:
        template.update(savings_plan_columns(sp_arn))
        template["savings_plan_savings_plan_rate"] = float(
            savings_plan_rate(instance.instance_type, instance.region)
        )
        if purchase == "Negation":
            template["line_item_line_item_description"] = (
                f"SavingsPlanNegation used by AccountId : {instance.account} "
                f"and UsageSku : {template['product_sku']}"
            )
    return template


def ec2_hours(instance: Ec2Instance, mask: np.ndarray, purchase: str = "OnDemand") -> CurBatch:
    """On-Demand or Spot hours of one instance (whole hours where `mask` is True)."""
    hours, seconds = hourly_seconds(mask)
    return ec2_seconds(instance, hours, seconds, purchase)


def ec2_seconds(
    instance: Ec2Instance, hours: IntArray, seconds: IntArray, purchase: str
) -> CurBatch:
    on_demand, spot = ec2_price(instance.instance_type, instance.region)
    rate = spot if purchase == "Spot" else on_demand
    return metered(ec2_template(instance, purchase), hours, seconds, 3600, rate, on_demand)


def savings_plan_columns(
    sp_arn: str, offering: SavingsPlanOffering = COMPUTE_SAVINGS_PLAN
) -> dict[str, object]:
    return {
        "savings_plan_savings_plan_a_r_n": sp_arn,
        "savings_plan_offering_type": offering.offering_type,
        "savings_plan_payment_option": "No Upfront",
        "savings_plan_purchase_term": "1yr",
        "savings_plan_start_time": "2026-03-01T00:00:00.000Z",
        "savings_plan_end_time": "2027-02-28T23:59:59.000Z",
    }


def savings_plan_covered(
    instance: Ec2Instance, mask: np.ndarray, sp_arn: str
) -> tuple[CurBatch, CurBatch]:
    """SavingsPlanCoveredUsage rows (On-Demand cost, SP effective cost) and their negations."""
    hours, seconds = hourly_seconds(mask)
    on_demand, _ = ec2_price(instance.instance_type, instance.region)
    sp_rate_e10 = to_units(savings_plan_rate(instance.instance_type, instance.region), E10)
    covered = metered(
        ec2_template(instance, "Covered", sp_arn), hours, seconds, 3600, on_demand, on_demand
    )
    covered.sp_effective_e10 = scaled_product(seconds, sp_rate_e10, 3600)
    negation = metered(ec2_template(instance, "Negation", sp_arn), hours, seconds, 3600, on_demand)
    negation.cost_e10 = -negation.cost_e10
    negation.usage_amount = np.zeros(hours.size)
    negation.public_cost_e10 = None
    return covered, negation


def savings_plan_fees(
    timeline: Timeline,
    sp_arn: str,
    commitment_per_hour: Decimal,
    used_e10_by_hour: IntArray,
    offering: SavingsPlanOffering = COMPUTE_SAVINGS_PLAN,
) -> list[CurBatch]:
    """One SavingsPlanRecurringFee row per hour: the commitment, and how much of it was used."""
    commitment_e10 = to_units(commitment_per_hour, E10)
    batches = []
    for period_index in range(len(timeline.periods)):
        first, end = (
            int(timeline.period_start_hours[period_index]),
            int(timeline.period_end_hours[period_index]),
        )
        hours = np.arange(first, end, dtype=np.int64)
        template = usage_template(
            account=AWS_PAYER_ACCOUNT,
            product_code=offering.product_code,
            usage_type=offering.usage_type,
            operation=None,
            description=offering.description,
            resource_id=sp_arn,
            region=None,
            unit="Hrs",
            rate=commitment_per_hour,
            public_rate=None,
            tags=(),
            product_family=None,
            product_name=offering.product_name,
            line_item_type="SavingsPlanRecurringFee",
            pricing_term=None,
        )
        template.update(savings_plan_columns(sp_arn, offering))
        template["savings_plan_recurring_commitment_for_billing_period"] = float(
            commitment_per_hour * (end - first)
        )
        template["savings_plan_amortized_upfront_commitment_for_billing_period"] = 0.0
        batch = metered(
            template, hours, np.ones(hours.size, dtype=np.int64), 1, commitment_per_hour
        )
        batch.sp_commitment_e10 = np.full(hours.size, commitment_e10, dtype=np.int64)
        batch.sp_used_e10 = np.minimum(used_e10_by_hour[first:end], commitment_e10)
        batches.append(batch)
    return batches


def sagemaker_savings_plan_rate(component: str, instance_type: str) -> Decimal:
    price = SAGEMAKER_PRICES[component][instance_type]
    return (price * SAGEMAKER_SAVINGS_PLAN_RATE_FRACTION).quantize(Decimal("0.0001"))


def sagemaker_covered(
    component: str,
    instance_type: str,
    account: str,
    resource_arn: str,
    owner: Owner,
    hours: IntArray,
    seconds: IntArray,
    sp_arn: str,
) -> tuple[CurBatch, CurBatch]:
    """SageMaker instance-hours under a SageMaker Savings Plan: covered rows and negations."""
    price = SAGEMAKER_PRICES[component][instance_type]
    covered = sagemaker(component, instance_type, account, resource_arn, owner, hours, seconds)
    covered.template = _sagemaker_sp_template(covered.template, "SavingsPlanCoveredUsage", sp_arn)
    covered.template["savings_plan_savings_plan_rate"] = float(
        sagemaker_savings_plan_rate(component, instance_type)
    )
    sp_rate_e10 = to_units(sagemaker_savings_plan_rate(component, instance_type), E10)
    covered.sp_effective_e10 = scaled_product(seconds, sp_rate_e10, 3600)
    negation = metered(
        _sagemaker_sp_template(covered.template, "SavingsPlanNegation", sp_arn),
        hours,
        seconds,
        3600,
        price,
    )
    negation.template["line_item_line_item_description"] = (
        f"SavingsPlanNegation used by AccountId : {account} "
        f"and UsageSku : {negation.template['product_sku']}"
    )
    negation.cost_e10 = -negation.cost_e10
    negation.usage_amount = np.zeros(hours.size)
    negation.public_cost_e10 = None
    return covered, negation


def _sagemaker_sp_template(template: Template, line_type: str, sp_arn: str) -> Template:
    return {
        **template,
        "line_item_line_item_type": line_type,
        **savings_plan_columns(sp_arn, SAGEMAKER_SAVINGS_PLAN),
    }


def sagemaker(
    component: str,
    instance_type: str,
    account: str,
    resource_arn: str,
    owner: Owner,
    hours: IntArray,
    seconds: IntArray,
) -> CurBatch:
    """SageMaker instance-hours: Train (jobs), Host (real-time endpoints) or Notebk (notebooks)."""
    price = SAGEMAKER_PRICES[component][instance_type]
    word = _SAGEMAKER_WORDS[component]
    template = list_price_template(
        price,
        f"{word} {instance_type} hour in US East",
        owner,
        account=account,
        product_code="AmazonSageMaker",
        usage_type=f"{region_prefix('us-east-1')}-{component}:{instance_type}",
        operation=_SAGEMAKER_OPERATIONS[component],
        resource_id=resource_arn,
        region="us-east-1",
        unit="Hrs",
        product_family="ML Instance",
        product_name="Amazon SageMaker",
        instance_type=instance_type,
        product_extra=(("component", word.lower()),),
    )
    return metered(template, hours, seconds, 3600, price, price)


SAGEMAKER_DATA_PER_GB = Decimal("0.016")


def sagemaker_endpoint_data(
    account: str, endpoint_arn: str, owner: Owner, direction: str, hours: IntArray, mb: IntArray
) -> CurBatch:
    """Bytes in/out of a real-time endpoint (`USE1-Hst:Data-Bytes-In`): invoked ones only."""
    template = list_price_template(
        SAGEMAKER_DATA_PER_GB,
        f"GB data processed {direction}",
        owner,
        account=account,
        product_code="AmazonSageMaker",
        usage_type=f"{region_prefix('us-east-1')}-Hst:Data-Bytes-{direction}",
        operation="RunInstance",
        resource_id=endpoint_arn,
        region="us-east-1",
        unit="GB",
        product_family="ML Instance",
        product_name="Amazon SageMaker",
        product_extra=(("component", "hosting"),),
    )
    return metered(template, hours, mb, 1000, SAGEMAKER_DATA_PER_GB, SAGEMAKER_DATA_PER_GB)
