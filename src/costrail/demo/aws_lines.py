"""CUR 2.0 line items before they become Parquet: a static template plus per-row arrays.

A `CurBatch` is one kind of charge on one resource (e.g. p4d On-Demand hours of one instance):
its template holds the CUR column values that do not change from row to row, its arrays hold
the hour, usage and exact cost (1e-10 USD units) of each row. The writer turns many batches into
dictionary-encoded Arrow columns without a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from costrail.demo.company import AWS_ACCOUNT_NAMES, Owner, aws_resource_tags
from costrail.demo.ids import sku_code
from costrail.demo.money import E10, scaled_product, to_units
from costrail.demo.planting import Planted
from costrail.demo.timeline import IntArray

FloatArray = npt.NDArray[np.float64]
Template = dict[str, Any]

#: Region → (billing code prefix of usage types, price-list location name).
AWS_REGIONS: dict[str, tuple[str, str]] = {
    "us-east-1": ("USE1", "US East (N. Virginia)"),
    "us-west-2": ("USW2", "US West (Oregon)"),
}


def region_prefix(region: str) -> str:
    return AWS_REGIONS[region][0]


def ec2_usage_type(region: str, kind: str, instance_type: str) -> str:
    """EC2 usage types carry no region prefix in us-east-1 (`BoxUsage:p4d.24xlarge`)."""
    prefix = "" if region == "us-east-1" else region_prefix(region) + "-"
    return f"{prefix}{kind}:{instance_type}"


def rate_text(rate: Decimal) -> str:
    """CUR 2.0 rate columns are strings; AWS writes them with 10 decimals."""
    return f"{rate:.10f}"


@dataclass
class CurBatch:
    """Rows of one charge. Costs are in 1e-10 USD; `None` arrays leave the column null."""

    template: Template
    start_hour: IntArray
    span_hours: IntArray
    usage_amount: FloatArray
    cost_e10: IntArray
    public_cost_e10: IntArray | None = None
    sp_effective_e10: IntArray | None = None
    sp_commitment_e10: IntArray | None = None
    sp_used_e10: IntArray | None = None

    def __len__(self) -> int:
        return int(self.start_hour.size)

    @property
    def cost_units(self) -> IntArray:
        """Net unblended cost of each row in 1e-10 USD (for `period_costs`)."""
        return self.cost_e10


def usage_template(
    *,
    account: str,
    product_code: str,
    usage_type: str,
    operation: str | None,
    description: str,
    resource_id: str | None,
    region: str | None,
    unit: str,
    rate: Decimal | None,
    public_rate: Decimal | None,
    tags: tuple[tuple[str, str], ...],
    product_family: str | None,
    product_name: str,
    line_item_type: str = "Usage",
    pricing_term: str | None = "OnDemand",
    servicecode: str | None = None,
    availability_zone: str | None = None,
    instance_type: str | None = None,
    instance_family: str | None = None,
    product_extra: tuple[tuple[str, str], ...] = (),
    from_region: str | None = None,
    to_region: str | None = None,
) -> Template:
    """The static CUR 2.0 columns of a usage-like line (Usage, SavingsPlanCoveredUsage, …)."""
    location = AWS_REGIONS[region][1] if region else None
    sku = sku_code(f"{product_code}/{usage_type}/{operation}/{pricing_term}")
    product: list[tuple[str, str]] = [("product_name", product_name)]
    if region:
        product.append(("region", region))
    product.extend(product_extra)
    template: Template = {
        "line_item_usage_account_id": account,
        "line_item_usage_account_name": AWS_ACCOUNT_NAMES[account],
        "line_item_product_code": product_code,
        "line_item_line_item_type": line_item_type,
        "line_item_usage_type": usage_type,
        "line_item_operation": operation,
        "line_item_line_item_description": description,
        "line_item_resource_id": resource_id,
        "line_item_availability_zone": availability_zone,
        "line_item_unblended_rate": rate_text(rate) if rate is not None else None,
        "line_item_blended_rate": rate_text(rate) if rate is not None else None,
        "line_item_net_unblended_rate": rate_text(rate) if rate is not None else None,
        "pricing_public_on_demand_rate": rate_text(public_rate)
        if public_rate is not None
        else None,
        "pricing_term": pricing_term,
        "pricing_unit": unit,
        "pricing_currency": "USD",
        "product_sku": sku,
        "product_servicecode": servicecode or product_code,
        "product_product_family": product_family,
        "product_usagetype": usage_type,
        "product_operation": operation,
        "product_region_code": region,
        "product_location": location,
        "product_location_type": "AWS Region" if region else None,
        "product_instance_type": instance_type,
        "product_instance_family": instance_family,
        "product_pricing_unit": unit,
        "product_from_region_code": from_region,
        "product_to_region_code": to_region,
        "product_from_location": AWS_REGIONS[from_region][1] if from_region else None,
        "product_from_location_type": "AWS Region" if from_region else None,
        "product_to_location": AWS_REGIONS[to_region][1] if to_region else None,
        "product_to_location_type": "AWS Region" if to_region else None,
        "resource_tags": tags,
        "product": tuple(product),
    }
    return template


def list_price_template(price: Decimal, per: str, owner: Owner, **fields: Any) -> Template:
    """A usage template charged at the public list price: rate and public rate are `price`, the
    description is AWS's `$0.023 per GB-Month of …` (`per` is what follows "per"), and the tags
    are `owner`'s. `fields` are the other `usage_template` arguments."""
    return usage_template(
        description=f"${price.normalize():f} per {per}",
        rate=price,
        public_rate=price,
        tags=aws_resource_tags(owner),
        **fields,
    )


def metered(
    template: Template,
    hours: IntArray,
    quantity: IntArray,
    quantity_per_unit: int | IntArray,
    rate: Decimal,
    public_rate: Decimal | None = None,
    span_hours: int = 1,
) -> CurBatch:
    """Rows whose usage is `quantity / quantity_per_unit` units at `rate` USD per unit.

    `quantity_per_unit` lets usage be counted exactly in small integers (seconds of an hour,
    GB-hours of a GB-month, MB of a GB); cost = round_half_up(quantity × rate / per_unit) to
    10 decimals, the way AWS rounds line items.
    """
    rate_e10 = to_units(rate, E10)
    cost = scaled_product(quantity, rate_e10, quantity_per_unit)
    public = None
    if public_rate is not None:
        public = scaled_product(quantity, to_units(public_rate, E10), quantity_per_unit)
    per_unit = np.asarray(quantity_per_unit, dtype=np.float64)
    usage = np.round(np.asarray(quantity, dtype=np.float64) / per_unit, 10)
    return CurBatch(
        template=template,
        start_hour=np.asarray(hours, dtype=np.int64),
        span_hours=np.full(len(hours), span_hours, dtype=np.int64),
        usage_amount=usage,
        cost_e10=cost,
        public_cost_e10=public,
    )


def hourly_seconds(mask_or_hours: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """(hours, 3600 seconds each) for a boolean hour mask or an array of hour indexes."""
    array = np.asarray(mask_or_hours)
    hours = np.flatnonzero(array) if array.dtype == np.bool_ else array.astype(np.int64)
    return np.asarray(hours, dtype=np.int64), np.full(hours.size, 3600, dtype=np.int64)


@dataclass
class AwsBuild:
    """The CUR batches of the AWS company and the waste planted in them."""

    batches: list[CurBatch] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)

    def add(self, *batches: CurBatch) -> None:
        self.batches.extend(b for b in batches if len(b) > 0)
