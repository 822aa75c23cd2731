"""Which GPU, and how many, an instance type carries; and its list prices per region.

Readers use this to fill `x_GpuModel` / `x_GpuCount` from an instance type; the demo and the
planner use the prices. Data comes from the catalogs in `data/` (see `data/SOURCES.md`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.package_data import csv_rows

#: Memory per GPU in GiB, by costrail's GPU model name.
GPU_MEMORY_GIB: dict[str, int] = {
    "A100": 40,
    "A100-80GB": 80,
    "H100": 80,
    "H200": 141,
    "B200": 180,
    "L4": 24,
    "L40S": 48,
    "A10G": 24,
    "A10": 24,
    "T4": 16,
    "V100": 16,
    "V100-32GB": 32,
}

#: GCP machine-type families with bundled GPUs: regex → (model, count from the name's `-Ng`).
_GCP_BUNDLED = (
    (re.compile(r"^a2-(?:highgpu|megagpu)-(\d+)g$"), "A100"),
    (re.compile(r"^a2-ultragpu-(\d+)g$"), "A100-80GB"),
    (re.compile(r"^a3-(?:highgpu|megagpu|edgegpu)-(\d+)g$"), "H100"),
    (re.compile(r"^a3-ultragpu-(\d+)g$"), "H200"),
    (re.compile(r"^a4-highgpu-(\d+)g$"), "B200"),
)
_GCP_G2_COUNTS = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}

#: AWS families not (fully) in the shipped catalog: family → model, and size → count.
_AWS_FAMILIES = {
    "p3": "V100",
    "p3dn": "V100-32GB",
    "p4d": "A100",
    "p4de": "A100-80GB",
    "p5": "H100",
    "p5e": "H200",
    "p5en": "H200",
    "p6-b200": "B200",
    "g4dn": "T4",
    "g5": "A10G",
    "g6": "L4",
    "g6e": "L40S",
}
_AWS_SIZE_COUNTS = {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}


@dataclass(frozen=True)
class GpuInstance:
    provider: str
    instance_type: str
    gpu_model: str
    gpu_count: int


@dataclass(frozen=True)
class InstancePrice:
    provider: str
    instance_type: str
    region: str
    on_demand_usd_per_hour: Decimal
    spot_usd_per_hour: Decimal | None


@cache
def gpu_instances() -> tuple[GpuInstance, ...]:
    """Every known GPU instance type across AWS, Azure and GCP."""
    found: dict[tuple[str, str], GpuInstance] = {}
    for provider, filename in (("aws", "aws_vms.csv"), ("azure", "azure_gpu_vms.csv")):
        for row in csv_rows("costrail.pricing", filename):
            model = row["AcceleratorName"]
            if model and row["AcceleratorCount"] and row["InstanceType"]:
                key = (provider, row["InstanceType"])
                found[key] = GpuInstance(
                    provider, row["InstanceType"], model, int(float(row["AcceleratorCount"]))
                )
    for row in csv_rows("costrail.pricing", "gcp_gpu_vms.csv"):
        instance = gcp_machine_gpu(row["InstanceType"])
        if instance is not None:
            found[("gcp", row["InstanceType"])] = instance
    return tuple(found.values())


def gcp_machine_gpu(machine_type: str) -> GpuInstance | None:
    """GPU bundled with a GCP machine type (A2/A3/A4/G2), or None (N1 GPUs are attached apart)."""
    for pattern, model in _GCP_BUNDLED:
        match = pattern.match(machine_type)
        if match:
            return GpuInstance("gcp", machine_type, model, int(match.group(1)))
    g2 = re.match(r"^g2-standard-(\d+)$", machine_type)
    if g2 and int(g2.group(1)) in _GCP_G2_COUNTS:
        return GpuInstance("gcp", machine_type, "L4", _GCP_G2_COUNTS[int(g2.group(1))])
    return None


def aws_instance_gpu(instance_type: str) -> GpuInstance | None:
    """GPU of an AWS instance type from the catalog, else from its family and size."""
    for instance in gpu_instances():
        if instance.provider == "aws" and instance.instance_type == instance_type:
            return instance
    family, _, size = instance_type.partition(".")
    model = _AWS_FAMILIES.get(family)
    if model is None:
        return None
    if family in ("p4d", "p4de", "p5e", "p5en", "p6-b200", "p3dn"):
        count = 8
    elif family == "p3":
        count = {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8}.get(size, 1)
    elif family == "p5":
        count = 8 if size == "48xlarge" else 1
    else:
        count = _AWS_SIZE_COUNTS.get(size, 1)
    return GpuInstance("aws", instance_type, model, count)


def gpu_case(instance_type: ir.StringValue) -> tuple[ir.StringValue, ir.IntegerValue]:
    """(x_GpuModel, x_GpuCount) for an instance-type column of any provider; unknown → nulls."""
    return _gpu_lookup(instance_type, {i.instance_type: i for i in gpu_instances()})


def _gpu_lookup(
    instance_type: ir.StringValue, by_name: dict[str, GpuInstance]
) -> tuple[ir.StringValue, ir.IntegerValue]:
    """Lookups in two literal maps: the instance type is evaluated once per row (a CASE would
    repeat it in every branch) and no join reorders rows or shuffles on Spark."""
    models = {name: instance.gpu_model for name, instance in by_name.items()}
    counts = {name: instance.gpu_count for name, instance in by_name.items()}
    model_map = ibis.literal(models, type=dt.Map(dt.string, dt.string))
    count_map = ibis.literal(counts, type=dt.Map(dt.string, dt.int32))
    return model_map.get(instance_type), count_map.get(instance_type)  # type: ignore[return-value]


#: Sizes the AWS family rules are expanded over, so billing rows of types outside the shipped
#: catalog (g5.4xlarge, p5.4xlarge, …) still get their GPU. Sizes a family lacks never match.
_AWS_RULE_SIZES = (
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "48xlarge",
)


@cache
def aws_gpu_instance_types() -> tuple[GpuInstance, ...]:
    """AWS GPU instance types from the catalog plus the family rules of `aws_instance_gpu`."""
    found = {i.instance_type: i for i in gpu_instances() if i.provider == "aws"}
    for family in _AWS_FAMILIES:
        for size in _AWS_RULE_SIZES:
            name = f"{family}.{size}"
            instance = found.get(name) or aws_instance_gpu(name)
            if instance is not None:
                found[name] = instance
    return tuple(found.values())


def aws_gpu_case(instance_type: ir.StringValue) -> tuple[ir.StringValue, ir.IntegerValue]:
    """(x_GpuModel, x_GpuCount) for an AWS instance-type column; SageMaker's `ml.` is accepted."""
    by_name: dict[str, GpuInstance] = {}
    for instance in aws_gpu_instance_types():
        by_name[instance.instance_type] = instance
        by_name["ml." + instance.instance_type] = instance
    return _gpu_lookup(instance_type, by_name)


@cache
def instance_prices(provider: str) -> tuple[InstancePrice, ...]:
    """List prices per (instance type, region) for `provider` (aws, azure, gcp, lambda, vast)."""
    filename = {
        "aws": "aws_vms.csv",
        "azure": "azure_gpu_vms.csv",
        "gcp": "gcp_gpu_vms.csv",
        "lambda": "lambda_vms.csv",
        "vast": "vast_vms.csv",
    }[provider]
    prices: dict[tuple[str, str], InstancePrice] = {}
    for row in csv_rows("costrail.pricing", filename):
        if not row.get("InstanceType") or not row.get("Price"):
            continue
        spot = row.get("SpotPrice") or ""
        key = (row["InstanceType"], row["Region"])
        prices.setdefault(
            key,
            InstancePrice(
                provider=provider,
                instance_type=row["InstanceType"],
                region=row["Region"],
                on_demand_usd_per_hour=Decimal(row["Price"]),
                spot_usd_per_hour=Decimal(spot) if spot and Decimal(spot) > 0 else None,
            ),
        )
    return tuple(prices.values())


def gcp_accelerator_prices() -> dict[tuple[str, str], Decimal]:
    """GCP GPUs priced per accelerator: (accelerator name, region) → USD per hour."""
    prices: dict[tuple[str, str], Decimal] = {}
    for row in csv_rows("costrail.pricing", "gcp_gpu_vms.csv"):
        if not row["InstanceType"] and row["AcceleratorName"] and row["Price"]:
            prices.setdefault(
                (row["AcceleratorName"], row["Region"]),
                Decimal(row["Price"]) / Decimal(row["AcceleratorCount"] or 1),
            )
    return prices
