"""Every GPU machine one can rent, from the five shipped catalogs, as uniform priced offers.

Catalog quirks handled here (see data/SOURCES.md and the upstream SOURCES note):
- a spot price of 0, empty, or not below the on-demand price is "no spot offer" (Vast writes
  0.00, Lambda leaves it empty, Azure fills H200 spot with the on-demand price, GCP has an
  A100-80GB accelerator whose spot row is dearer than on-demand);
- GCP prices a GPU machine as a host row plus accelerator rows (per accelerator bundle): an A2,
  A3, A4 or G2 offer is host + its bundled accelerators; N1 hosts get T4 / V100 / P100 / P4
  attached, one n1-standard-8 per GPU; GCP rows are per zone, an offer is per region (cheapest);
- Azure sizes with a fraction of a GPU (A10 v5 partitions) are left out;
- Vast regions are free text ("Japan, JP, AS", ", US, NA"); the leading comma is dropped.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from costrail.package_data import csv_rows
from costrail.pricing.gpu_instances import gcp_machine_gpu

CLOUDS = ("aws", "azure", "gcp", "lambda", "vast")


@dataclass(frozen=True)
class GpuOffer:
    """One rentable machine in one region. Prices are USD per hour for the whole machine.

    `gpu_memory_mib` is the per-GPU memory the catalog states (None where it states none).
    """

    cloud: str
    region: str
    instance_type: str
    gpu_model: str
    gpu_count: int
    gpu_memory_mib: int | None
    on_demand_usd_per_hour: Decimal
    spot_usd_per_hour: Decimal | None


def _money(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    value = Decimal(text.strip())
    return value if value > 0 else None


def _spot(on_demand: Decimal, spot_text: str | None) -> Decimal | None:
    spot = _money(spot_text)
    return spot if spot is not None and spot < on_demand else None


def _count(text: str) -> int:
    """Whole GPUs, or 0 for a fraction of one (Azure's partitioned A10s)."""
    value = float(text) if text.strip() else 0.0
    return int(value) if value >= 1 and value == int(value) else 0


def _gpu_info_mib(text: str, count: int, summed: bool) -> int | None:
    """Per-GPU memory from a `GpuInfo` dict literal.

    Vast states the machine's total (2 × 32,607 MiB = 65,214 for two RTX 5090s); Lambda and GCP
    state one GPU's memory.
    """
    if not text.startswith("{") or count < 1:
        return None
    try:
        info = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(info, dict):
        return None
    total = info.get("TotalGpuMemoryInMiB")
    if isinstance(total, int | float) and total > 0:
        return int(total // count) if summed else int(total)
    gpus = info.get("Gpus")
    first = gpus[0] if isinstance(gpus, list) and gpus and isinstance(gpus[0], dict) else {}
    memory = first.get("MemoryInfo")
    size = memory.get("SizeInMiB") if isinstance(memory, dict) else None
    return int(size) if isinstance(size, int | float) and size > 0 else None


def _simple_offers(cloud: str, filename: str) -> list[GpuOffer]:
    """AWS, Azure, Lambda and Vast: one row is one machine with its GPUs."""
    offers: dict[tuple[str, str, int | None], GpuOffer] = {}
    for row in csv_rows("costrail.pricing", filename):
        count = _count(row.get("AcceleratorCount", ""))
        on_demand = _money(row.get("Price"))
        if not row.get("InstanceType") or not row.get("AcceleratorName") or not count:
            continue
        if on_demand is None:
            continue
        memory = _row_memory_mib(cloud, row, count)
        region = row["Region"].strip().lstrip(",").strip()
        offer = GpuOffer(
            cloud=cloud,
            region=region,
            instance_type=row["InstanceType"],
            gpu_model=row["AcceleratorName"],
            gpu_count=count,
            gpu_memory_mib=memory,
            on_demand_usd_per_hour=on_demand,
            spot_usd_per_hour=_spot(on_demand, row.get("SpotPrice")),
        )
        offers.setdefault((offer.instance_type, region, memory), offer)
    return list(offers.values())


def _row_memory_mib(cloud: str, row: dict[str, str], count: int) -> int | None:
    if row.get("GpuMemoryMiB"):
        return int(float(row["GpuMemoryMiB"])) // count
    return _gpu_info_mib(row.get("GpuInfo", ""), count, summed=cloud == "vast")


#: GCP machine family → the accelerator name its GPUs are priced under.
_GCP_ACCELERATOR = (
    (re.compile(r"^a2-(highgpu|megagpu)-"), "A100"),
    (re.compile(r"^a2-ultragpu-"), "A100-80GB"),
    (re.compile(r"^a3-megagpu-"), "H100-MEGA"),
    (re.compile(r"^a3-(highgpu|edgegpu)-"), "H100"),
    (re.compile(r"^a3-ultragpu-"), "H200"),
    (re.compile(r"^a4-highgpu-"), "B200"),
    (re.compile(r"^g2-standard-"), "L4"),
)
_GCP_N1_ATTACHABLE = ("T4", "V100", "P100", "P4")


def _gcp_cheapest_by_region(
    rows: list[dict[str, str]],
) -> dict[tuple[str, str, int, str], tuple[Decimal, Decimal | None]]:
    """(instance type, accelerator, count, region) → (on-demand, spot), cheapest zone."""
    cheapest: dict[tuple[str, str, int, str], tuple[Decimal, Decimal | None]] = {}
    for row in rows:
        on_demand = _money(row["Price"])
        if on_demand is None:
            on_demand = Decimal(0) if row["InstanceType"].startswith("a4-") else None
        if on_demand is None:
            continue
        key = (
            row["InstanceType"],
            row["AcceleratorName"],
            _count(row["AcceleratorCount"] or "0"),
            row["Region"],
        )
        spot = _money(row["SpotPrice"])
        known = cheapest.get(key)
        if known is None or on_demand < known[0]:
            cheapest[key] = (on_demand, spot)
    return cheapest


def _gcp_offers() -> list[GpuOffer]:
    rows = csv_rows("costrail.pricing", "gcp_gpu_vms.csv")
    prices = _gcp_cheapest_by_region(rows)
    accelerators = {(a, n, r): p for (i, a, n, r), p in prices.items() if not i and a}
    hosts = {(i, r): p for (i, a, n, r), p in prices.items() if i}
    memory: dict[str, int] = {}
    for row in rows:
        if not row["InstanceType"] and row["AcceleratorName"] not in memory:
            mib = _gpu_info_mib(row["GpuInfo"], 1, summed=False)
            if mib is not None:
                memory[row["AcceleratorName"]] = mib
    offers: list[GpuOffer] = []
    for (machine, region), host in hosts.items():
        bundled = gcp_machine_gpu(machine)
        accelerator = next((name for rx, name in _GCP_ACCELERATOR if rx.match(machine)), None)
        if bundled is None or accelerator is None:
            continue
        gpu_price = accelerators.get((accelerator, bundled.gpu_count, region))
        if gpu_price is None:
            continue
        offers.append(
            _gcp_offer(machine, region, accelerator, bundled.gpu_count, host, gpu_price, memory)
        )
    for (accelerator, count, region), gpu_price in accelerators.items():
        n1_host = hosts.get((f"n1-standard-{8 * count}", region))
        if accelerator in _GCP_N1_ATTACHABLE and n1_host is not None and count <= 8:
            label = f"n1-standard-{8 * count}+{count}x{accelerator}"
            offers.append(_gcp_offer(label, region, accelerator, count, n1_host, gpu_price, memory))
    return offers


def _gcp_offer(
    instance_type: str,
    region: str,
    accelerator: str,
    count: int,
    host: tuple[Decimal, Decimal | None],
    gpus: tuple[Decimal, Decimal | None],
    memory: dict[str, int],
) -> GpuOffer:
    on_demand = host[0] + gpus[0]
    spot_total = host[1] + gpus[1] if host[1] is not None and gpus[1] is not None else None
    spot = (
        spot_total if spot_total is not None and gpus[1] is not None and gpus[1] < gpus[0] else None
    )
    model = "H100" if accelerator == "H100-MEGA" else accelerator
    return GpuOffer(
        cloud="gcp",
        region=region,
        instance_type=instance_type,
        gpu_model=model,
        gpu_count=count,
        gpu_memory_mib=memory.get(accelerator),
        on_demand_usd_per_hour=on_demand,
        spot_usd_per_hour=spot,
    )


@cache
def gpu_offers(cloud: str) -> tuple[GpuOffer, ...]:
    """All GPU offers of one cloud (aws, azure, gcp, lambda, vast)."""
    if cloud == "gcp":
        return tuple(_gcp_offers())
    filename = {
        "aws": "aws_vms.csv",
        "azure": "azure_gpu_vms.csv",
        "lambda": "lambda_vms.csv",
        "vast": "vast_vms.csv",
    }.get(cloud)
    if filename is None:
        raise ValueError(f"unknown cloud {cloud!r}; known: {', '.join(CLOUDS)}")
    return tuple(_simple_offers(cloud, filename))


def all_gpu_offers(clouds: tuple[str, ...] = CLOUDS) -> tuple[GpuOffer, ...]:
    """Offers of every listed cloud, in catalog order."""
    return tuple(offer for cloud in clouds for offer in gpu_offers(cloud))
