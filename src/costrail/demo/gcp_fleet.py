"""Acme AI on GCP Compute Engine: L4 serving under a committed-use discount, A100 training, an
idle A100 notebook and a T4 labelling box earning sustained-use discounts.

Compute Engine bills a VM as separate core, RAM and GPU SKUs; the core/RAM rates below split
the shipped catalog's machine price, GPU rates come from the catalog's per-accelerator prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from costrail.demo import gcp_fleet_services, patterns
from costrail.demo.company import (
    GCP_PROJECTS,
    PLATFORM_LUMEN,
    RESEARCH_ATLAS,
    Owner,
)
from costrail.demo.gcp_export import Credit, GcpBatch, metered_rows
from costrail.demo.gcp_rows import GcpBuild, row_fields
from costrail.demo.ids import IdFactory
from costrail.demo.money import E6
from costrail.demo.planting import Planted
from costrail.demo.timeline import BoolArray, Timeline
from costrail.package_data import csv_rows
from costrail.pricing.gpu_instances import gcp_accelerator_prices

#: Machine families: (core USD/vCPU-hour, RAM USD/GiB-hour, SKU family word).
CORE_RAM_PRICES = {
    "a2": (Decimal("0.031611"), Decimal("0.004237"), "A2"),
    "g2": (Decimal("0.024874"), Decimal("0.002956"), "G2"),
    "n1": (Decimal("0.031611"), Decimal("0.004237"), "N1 Predefined"),
}
GPU_SKU_NAMES = {"A100": "Nvidia Tesla A100", "L4": "Nvidia L4", "T4": "Nvidia Tesla T4"}
#: Spot VMs bill under their own SKUs, named like the On-Demand ones with this prefix.
SPOT_SKU_PREFIX = "Spot Preemptible "
#: 1-year resource-based CUD price of an L4 GPU as a fraction of On-Demand.
CUD_FRACTION = Decimal("0.63")


@dataclass(frozen=True)
class Vm:
    name: str
    machine_type: str
    vcpus: int
    memory_gib: int
    gpu_model: str
    gpu_count: int
    project: str
    zone: str
    owner: Owner

    @property
    def region(self) -> str:
        return self.zone.rsplit("-", 1)[0]

    @property
    def family(self) -> str:
        return self.machine_type.split("-", 1)[0]


def vm_global_name(ids: IdFactory, vm: Vm) -> str:
    project_id, _ = GCP_PROJECTS[vm.project]
    number = ids.digits("gce/" + vm.name, 19)
    return f"//compute.googleapis.com/projects/{project_id}/zones/{vm.zone}/instances/{number}"


def spot_prices(vm: Vm) -> tuple[Decimal, Decimal, Decimal]:
    """Spot (core, RAM, GPU) USD per unit-hour from the shipped catalog.

    The catalog prices a machine type's host (cores + RAM) and each accelerator, On-Demand and
    Spot; the core and RAM rates are scaled by the host's Spot/On-Demand ratio so that a Spot VM
    bills exactly the catalog's Spot host price plus its GPUs at the catalog's Spot GPU price.
    """
    host: tuple[Decimal, Decimal] | None = None
    gpu: Decimal | None = None
    for row in csv_rows("costrail.pricing", "gcp_gpu_vms.csv"):
        if row["Region"] != vm.region or not row["SpotPrice"]:
            continue
        if row["InstanceType"] == vm.machine_type and host is None:
            host = (Decimal(row["Price"]), Decimal(row["SpotPrice"]))
        elif not row["InstanceType"] and row["AcceleratorName"] == vm.gpu_model and gpu is None:
            gpu = Decimal(row["SpotPrice"]) / Decimal(row["AcceleratorCount"] or 1)
    if host is None or gpu is None:
        raise KeyError(f"no catalog spot price for {vm.machine_type} in {vm.region}")
    core_price, ram_price, _ = CORE_RAM_PRICES[vm.family]
    micro = Decimal("0.000001")
    ratio = host[1] / host[0]
    return (
        (core_price * ratio).quantize(micro),
        (ram_price * ratio).quantize(micro),
        gpu.quantize(micro),
    )


def vm_rows(ids: IdFactory, vm: Vm, mask: BoolArray, spot: bool = False) -> list[GcpBatch]:
    """Core, RAM and GPU rows of one VM for every hour in `mask` (per-second SKUs, hourly rows).

    `spot` bills the hours as a Spot VM: "Spot Preemptible …" SKUs at the catalog Spot prices.
    """
    hours = np.flatnonzero(mask).astype(np.int64)
    ones = np.ones(hours.size, dtype=np.int64)
    core_price, ram_price, family_word = CORE_RAM_PRICES[vm.family]
    gpu_price = gcp_accelerator_prices()[(vm.gpu_model, vm.region)].quantize(Decimal("0.000001"))
    prefix = SPOT_SKU_PREFIX if spot else ""
    if spot:
        core_price, ram_price, gpu_price = spot_prices(vm)
    system = {
        "compute.googleapis.com/machine_spec": vm.machine_type,
        "compute.googleapis.com/cores": str(vm.vcpus),
        "compute.googleapis.com/memory": str(vm.memory_gib * 1024),
        "compute.googleapis.com/is_unused_reservation": "false",
    }
    resource = (vm.name, vm_global_name(ids, vm))

    def fields(description: str) -> dict[str, Any]:
        return row_fields(
            "compute", description, vm.project, vm.owner, system, vm.region, vm.zone, resource
        )

    seconds = 3600.0 * ones
    return [
        metered_rows(
            fields(f"{prefix}{family_word} Instance Core running in Americas"),
            "seconds",
            "hour",
            core_price,
            hours,
            seconds * vm.vcpus,
            ones * vm.vcpus,
        ),
        metered_rows(
            fields(f"{prefix}{family_word} Instance Ram running in Americas"),
            "byte-seconds",
            "gibibyte hour",
            ram_price,
            hours,
            seconds * vm.memory_gib * 2**30,
            ones * vm.memory_gib,
        ),
        metered_rows(
            fields(f"{prefix}{GPU_SKU_NAMES[vm.gpu_model]} GPU running in Americas"),
            "seconds",
            "hour",
            gpu_price,
            hours,
            seconds * vm.gpu_count,
            ones * vm.gpu_count,
        ),
    ]


def build_gcp(timeline: Timeline, ids: IdFactory, clean: bool) -> GcpBuild:
    """Every export row of the GCP company and, unless `clean`, its planted waste."""
    build = GcpBuild()
    _l4_serving(build, timeline, ids, clean)
    _a100_training(build, timeline, ids, clean)
    _a100_notebook(build, timeline, ids, clean)
    _t4_labelling(build, timeline, ids, clean)
    gcp_fleet_services.vertex(build, timeline, ids)
    gcp_fleet_services.storage(build, timeline, ids)
    return build


def _l4_serving(build: GcpBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    """Two g2-standard-8 (1 × L4) serve 24×7; a 1-year CUD covers both GPUs (clean: a second
    CUD covers their cores and RAM too)."""
    vms: list[Vm] = []
    commitment_id = "projects/acme-lumen-serving/regions/us-central1/commitments/l4-serving-1y"
    credit = Credit(
        "Committed use discount: GPU",
        "Committed use discount: Nvidia L4 GPU",
        commitment_id,
        "COMMITTED_USAGE_DISCOUNT",
    )
    for i in range(2):
        vm = Vm(
            f"lumen-l4-{i}",
            "g2-standard-8",
            8,
            32,
            "L4",
            1,
            "serving",
            "us-central1-b",
            PLATFORM_LUMEN,
        )
        core, ram, gpu = vm_rows(ids, vm, patterns.always_on(tl))
        gpu.credit, gpu.credit_e6 = credit, -gpu.cost_e6
        if clean:
            _cud_covered(core, ram, commitment_id="g2-serving-1y", project="serving")
        build.add(core, ram, gpu)
        vms.append(vm)
    if clean:
        _cud_fees(build, tl, vms, with_gpu=False)
    l4_price = gcp_accelerator_prices()[("L4", "us-central1")]
    _commitment_fee(build, tl, "Nvidia L4 GPU", "serving", "us-central1", l4_price, 2)


def _a100_training(build: GcpBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    """Atlas start/stop training runs on an a2-highgpu-8g: On-Demand (planted) unless `clean`,
    which runs the same hours as a Spot VM."""
    vm = Vm(
        "atlas-a100-0",
        "a2-highgpu-8g",
        96,
        680,
        "A100",
        8,
        "research",
        "us-central1-a",
        RESEARCH_ATLAS,
    )
    runs = patterns.training_runs(ids.rng("gcp/atlas-a100-0"), tl, 0.4, 24, 120)
    on_demand, spot = vm_rows(ids, vm, runs), vm_rows(ids, vm, runs, spot=True)
    build.add(*(spot if clean else on_demand))
    if not clean:
        resources = [vm_global_name(ids, vm)]
        build.planted.append(
            Planted.of_rows(
                tl, "ondemand_should_be_spot", "gcp", resources, on_demand, spot, scale=E6
            )
        )


def _a100_notebook(build: GcpBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    """An a2-highgpu-1g notebook VM that nobody stops at night (planted unless `clean`)."""
    owner = Owner("applied", "orca", "dev", None, "Team", "alice")
    vm = Vm(
        "alice-a100-notebook",
        "a2-highgpu-1g",
        12,
        85,
        "A100",
        1,
        "research",
        "us-central1-c",
        owner,
    )
    work = patterns.work_hours(tl)
    build.add(*vm_rows(ids, vm, work if clean else patterns.always_on(tl)))
    if not clean:
        idle = vm_rows(ids, vm, ~work)
        resources = [vm_global_name(ids, vm)]
        build.planted.append(
            Planted.of_rows(tl, "idle_gpu_instance", "gcp", resources, idle, scale=E6)
        )


def _t4_labelling(build: GcpBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    """n1-standard-8 + T4 running all month: sustained-use discounts grow over the month.

    Clean, a 1-year CUD covers the box (cores, RAM and GPU) instead; SUDs do not apply to
    usage a CUD covers.
    """
    owner = Owner(None, None, None, None, "untagged", None)
    vm = Vm("label-studio-t4", "n1-standard-8", 8, 30, "T4", 1, "tools", "us-central1-f", owner)
    if clean:
        batches = vm_rows(ids, vm, patterns.always_on(tl))
        _cud_covered(*batches, commitment_id="labelling-1y", project="tools")
        build.add(*batches)
        _cud_fees(build, tl, [vm], with_gpu=True)
        return
    credit = Credit(
        "Sustained Usage Discount", "Sustained Usage Discount", "", "SUSTAINED_USAGE_DISCOUNT"
    )
    for batch in vm_rows(ids, vm, patterns.always_on(tl)):
        fraction = (
            batch.start_hour - tl.period_start_hours[tl.period_of_hours(batch.start_hour)]
        ) / tl.hours_in_month_of(batch.start_hour)
        percent = np.select(
            [fraction < 0.25, fraction < 0.5, fraction < 0.75], [0, 20, 40], 60
        ).astype(np.int64)
        batch.credit = credit
        batch.credit_e6 = -((batch.cost_e6 * percent + 50) // 100)
        build.add(batch)


CUD_CREDIT_NAMES = {"Core": "CPU", "Ram": "RAM"}


def _cud_covered(*batches: GcpBatch, commitment_id: str, project: str) -> None:
    """Give each batch a COMMITTED_USAGE_DISCOUNT credit equal to its cost (fully covered)."""
    project_id, _ = GCP_PROJECTS[project]
    commitment = f"projects/{project_id}/regions/us-central1/commitments/{commitment_id}"
    for batch in batches:
        sku_name = str(batch.fields["sku"]["description"])
        kind = next((word for key, word in CUD_CREDIT_NAMES.items() if key in sku_name), "GPU")
        batch.credit = Credit(
            f"Committed use discount: {kind}",
            f"Committed use discount: {sku_name.removesuffix(' running in Americas')}",
            commitment,
            "COMMITTED_USAGE_DISCOUNT",
        )
        batch.credit_e6 = -batch.cost_e6


def _cud_fees(build: GcpBuild, tl: Timeline, vms: list[Vm], with_gpu: bool) -> None:
    """Hourly `Commitment v1: …` fee rows for the cores, RAM (and GPUs) of `vms`, at the
    1-year CUD price (a fraction of On-Demand)."""
    first = vms[0]
    core_price, ram_price, family_word = CORE_RAM_PRICES[first.family]
    # N1 commitments are plain "Cpu"/"Ram"; other families name theirs ("G2 Cpu").
    family = "" if first.family == "n1" else family_word.split()[0] + " "
    units = [
        (f"{family}Cpu", core_price, sum(vm.vcpus for vm in vms)),
        (f"{family}Ram", ram_price, sum(vm.memory_gib for vm in vms)),
    ]
    if with_gpu:
        gpu_price = gcp_accelerator_prices()[(first.gpu_model, first.region)]
        units.append(
            (f"{GPU_SKU_NAMES[first.gpu_model]} GPU", gpu_price, sum(vm.gpu_count for vm in vms))
        )
    for name, price, count in units:
        _commitment_fee(build, tl, name, first.project, first.region, price, count)


def _commitment_fee(
    build: GcpBuild,
    tl: Timeline,
    name: str,
    project: str,
    region: str,
    on_demand_price: Decimal,
    count: int,
) -> None:
    """Hourly `Commitment v1: {name}` fee rows for `count` committed units, at the 1-year CUD
    price (a fraction of the On-Demand `on_demand_price`)."""
    hours = tl.all_hours
    fields = row_fields(
        "compute",
        f"Commitment v1: {name} in Americas for 1 Year",
        project,
        None,
        {},
        region,
        None,
        None,
    )
    build.add(
        metered_rows(
            fields,
            "seconds",
            "hour",
            (on_demand_price * CUD_FRACTION).quantize(Decimal("0.000001")),
            hours,
            np.full(hours.size, 3600.0 * count),
            np.full(hours.size, count, dtype=np.int64),
        )
    )
