"""Acme AI's GPU telemetry: dcgm-exporter scrapes of its GPU fleet, with planted GPU waste.

    DIR/telemetry/dcgm/<hostname>.prom   (one capture file per host)

Each file holds one host's dcgm-exporter `/metrics` answers, one every 15 min over the last
`DAYS` days of the timeline, saved one after another (Prometheus exposition text; every sample
carries its time in ms, so a whole capture loads without scrape-time comments); ~26 MB in all.
One file per scrape would be ~5k files, and the telemetry loader pays a fixed ~0.15 s per file
(its own DuckDB connection and a dozen queries): loading took minutes; five files take seconds.

The p4d host runs a newer exporter (`hostname` label, profiling counters); the EKS serving nodes
carry Kubernetes pod labels; the Azure VM runs an older exporter (`Hostname` label, no profiling
counters). Host names are what the bills name: EC2 resource-based names `i-….ec2.internal`, the
Azure VM name.

Planted (unless `clean`): the Azure H100 VM left idle (already in the billing truth), low
utilisation on a p4d training node, a zombie pod on a serving node, oversized L40S serving
GPUs an L4 would carry. Clean: the same hosts busy and right-sized. Same seed → same bytes.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from costrail.demo.aws_compute import ec2_price, savings_plan_rate
from costrail.demo.ids import IdFactory
from costrail.demo.money import E10, to_units
from costrail.demo.planting import Planted
from costrail.demo.timeline import Timeline
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA

TELEMETRY_DIR = Path("telemetry") / "dcgm"
DAYS = 10
INTERVAL_S = 900
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GpuHost:
    """One host's GPUs and what they did at each scrape (arrays: scrape × GPU)."""

    hostname: str
    label: str  # "hostname" (newer dcgm-exporter) or "Hostname" (older)
    model: str
    memory_total_mib: int
    profiling: bool
    util_pct: FloatArray
    sm_active: FloatArray
    memory_used_mib: FloatArray
    power_w: FloatArray
    pods: tuple[str | None, ...]
    namespace: str | None = None
    container: str | None = None

    @property
    def gpus(self) -> int:
        return int(self.util_pct.shape[1])


@dataclass(frozen=True)
class Telemetry:
    hosts: tuple[GpuHost, ...]
    times: tuple[datetime, ...]
    planted: tuple[Planted, ...]


def _uuid(host: str, index: int) -> str:
    digest = hashlib.sha256(f"gpu/{host}/{index}".encode()).digest()[:16]
    return "GPU-" + str(uuid.UUID(bytes=digest, version=4))


def _host(
    rng: np.random.Generator,
    scrapes: int,
    gpus: int,
    busy: tuple[float, float],
    memory_mib: tuple[float, float],
    idle_power_w: float,
    max_power_w: float,
) -> dict[str, FloatArray]:
    sm = rng.uniform(busy[0], busy[1], (scrapes, gpus)).round(4)
    util = np.where(sm > 0, np.minimum(100, np.round(sm * 100 + 45)), 0).astype(np.float64)
    memory = rng.uniform(memory_mib[0], memory_mib[1], (scrapes, gpus)).round(0)
    power = (idle_power_w + sm * (max_power_w - idle_power_w)).round(3)
    return {"sm_active": sm, "util_pct": util, "memory_used_mib": memory, "power_w": power}


def build_telemetry(timeline: Timeline, ids: IdFactory, clean: bool) -> Telemetry:
    """The fleet's samples, and the planted GPU waste priced from the billed prices."""
    end = timeline.end
    start = end - timedelta(days=DAYS)
    scrapes = DAYS * 86400 // INTERVAL_S
    times = tuple(start + timedelta(seconds=INTERVAL_S * i) for i in range(scrapes))
    hosts: list[GpuHost] = []
    planted: list[Planted] = []
    nov = len(timeline.periods) - 1
    month_hours = Decimal(timeline.hours_in_period(nov))

    def units(amount: Decimal) -> npt.NDArray[np.int64]:
        by_period = np.zeros(len(timeline.periods), dtype=np.int64)
        by_period[nov] = to_units(amount, E10)
        return by_period

    p4d = f"{ids.ec2_instance_id('atlas-train-p4d-0')}.ec2.internal"
    rng = ids.rng("telemetry/p4d-0")
    busy = (0.70, 0.90) if clean else (0.12, 0.32)
    values = _host(rng, scrapes, 8, busy, (31000, 33500), 60, 400)
    hosts.append(
        GpuHost(p4d, "hostname", "NVIDIA A100-SXM4-40GB", 40960, True, pods=(None,) * 8, **values)  # type: ignore[arg-type]
    )
    if not clean:
        # 8 GPUs averaging 22 % busy: ⌈8 × 0.22 ÷ 0.7⌉ = 3 GPUs would do; 5 of 8 are spare
        cost = savings_plan_rate("p4d.24xlarge", "us-east-1") * month_hours
        planted.append(
            Planted(
                "gpu_low_utilisation", "aws", (p4d.split(".")[0],), units(cost), units(cost * 5 / 8)
            )
        )

    l40s_price, _ = ec2_price("g6e.xlarge", "us-east-1")
    l4_price, _ = ec2_price("g6.xlarge", "us-east-1")
    oversized: list[str] = []
    for index in range(3):
        name = f"lumen-serve-g6e-{index}"
        instance = ids.ec2_instance_id(name)
        rng = ids.rng(f"telemetry/{name}")
        zombie = index == 2 and not clean
        if clean:
            values = _host(rng, scrapes, 1, (0.50, 0.70), (36000, 40000), 35, 350)
        elif zombie:
            values = _host(rng, scrapes, 1, (0.0, 0.0), (0, 0), 22, 22)
        else:
            # an inference server using ~14 GiB and ~7 % of an L40S: an L4 (24 GB) carries it
            values = _host(rng, scrapes, 1, (0.04, 0.10), (13500, 14000), 35, 350)
            oversized.append(instance)
        pod = (
            f"lumen-chat-canary-{ids.hex(name + '/canary', 5)}"
            if zombie
            else f"lumen-chat-7c9d5f8b6-{ids.hex(name + '/pod', 5)}"
        )
        hosts.append(
            GpuHost(
                f"{instance}.ec2.internal",
                "hostname",
                "NVIDIA L40S",
                46068,
                True,
                pods=(pod,),
                namespace="lumen",
                container="vllm",
                **values,  # type: ignore[arg-type]
            )
        )
        if zombie:
            cost = l40s_price * month_hours
            planted.append(Planted("gpu_zombie", "aws", (instance,), units(cost), units(cost)))
    if oversized:
        cost = l40s_price * month_hours * len(oversized)
        saving = (l40s_price - l4_price) * month_hours * len(oversized)
        planted.append(
            Planted("gpu_oversized", "aws", tuple(oversized), units(cost), units(saving))
        )

    if not clean:
        # the VM left running after its job (already planted by the Azure fleet; found here)
        rng = ids.rng("telemetry/atlas-nd-h100-1")
        values = _host(rng, scrapes, 8, (0.0, 0.0), (0, 0), 68, 68)
        hosts.append(
            GpuHost(
                "atlas-nd-h100-1",
                "Hostname",
                "NVIDIA H100 80GB HBM3",
                81559,
                False,
                pods=(None,) * 8,
                **values,  # type: ignore[arg-type]
            )
        )
    return Telemetry(tuple(hosts), times, tuple(planted))


#: (metric, HELP text, TYPE) in dcgm-exporter's default-counters order
METRICS = (
    ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "gauge"),
    ("DCGM_FI_DEV_FB_FREE", "Frame buffer memory free (in MB).", "gauge"),
    ("DCGM_FI_DEV_FB_USED", "Frame buffer memory used (in MB).", "gauge"),
    ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "gauge"),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active.", "gauge"),
    ("DCGM_FI_PROF_SM_ACTIVE", "The ratio of cycles an SM has at least 1 warp assigned.", "gauge"),
)


def _labels(host: GpuHost, index: int) -> str:
    pairs = [
        ("gpu", str(index)),
        ("UUID", _uuid(host.hostname, index)),
        ("pci_bus_id", f"00000000:{0x10 + 16 * index:02X}:00.0"),
        ("device", f"nvidia{index}"),
        ("modelName", host.model),
        (host.label, host.hostname),
        ("container", (host.container or "") if host.pods[index] else ""),
        ("namespace", (host.namespace or "") if host.pods[index] else ""),
        ("pod", host.pods[index] or ""),
    ]
    return ",".join(f'{key}="{value}"' for key, value in pairs)


def _values(host: GpuHost, scrape: int, index: int) -> dict[str, str]:
    used = host.memory_used_mib[scrape, index]
    sm = host.sm_active[scrape, index]
    return {
        "DCGM_FI_DEV_GPU_UTIL": f"{host.util_pct[scrape, index]:.0f}",
        "DCGM_FI_DEV_FB_FREE": f"{host.memory_total_mib - used:.0f}",
        "DCGM_FI_DEV_FB_USED": f"{used:.0f}",
        "DCGM_FI_DEV_POWER_USAGE": f"{host.power_w[scrape, index]:.3f}",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": f"{min(1.0, sm * 1.1):.6f}",
        "DCGM_FI_PROF_SM_ACTIVE": f"{sm:.6f}",
    }


def scrape_text(host: GpuHost, scrape: int, moment: datetime) -> str:
    """One dcgm-exporter answer: HELP/TYPE per family, one line per GPU, times in ms."""
    stamp = int(moment.timestamp() * 1000)
    labels = [_labels(host, i) for i in range(host.gpus)]
    values = [_values(host, scrape, i) for i in range(host.gpus)]
    lines: list[str] = []
    for metric, help_text, kind in METRICS:
        if metric.startswith("DCGM_FI_PROF") and not host.profiling:
            continue
        lines.append(f"# HELP {metric} {help_text}")
        lines.append(f"# TYPE {metric} {kind}")
        lines.extend(
            f"{metric}{{{labels[i]}}} {values[i][metric]} {stamp}" for i in range(host.gpus)
        )
    return "\n".join(lines) + "\n"


def write_telemetry(out_dir: Path, telemetry: Telemetry) -> list[Path]:
    """One capture file per host, `out_dir/telemetry/dcgm/<host>.prom`, holding its scrapes in
    time order; returns the paths written."""
    folder = out_dir / TELEMETRY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for host in telemetry.hosts:
        path = folder / f"{host.hostname}.prom"
        scrapes = (scrape_text(host, i, moment) for i, moment in enumerate(telemetry.times))
        path.write_text("".join(scrapes), encoding="utf-8")
        written.append(path)
    return written


def samples_table(telemetry: Telemetry) -> pa.Table:
    """The same samples as `gpu_samples` rows (what loading the scrape files should give)."""
    columns: dict[str, list[object]] = {name: [] for name in GPU_SAMPLES_SCHEMA.names}
    for host in telemetry.hosts:
        for index in range(host.gpus):
            count = len(telemetry.times)
            pod = host.pods[index]
            fixed: dict[str, object] = {
                "host": host.hostname,
                "instance_id": None,
                "node": host.hostname,
                "gpu_index": index,
                "gpu_uuid": _uuid(host.hostname, index),
                "gpu_model": host.model,
                "pci_bus_id": f"00000000:{0x10 + 16 * index:02X}:00.0",
                "mig_profile": None,
                "mig_instance_id": None,
                "memory_total_mib": float(host.memory_total_mib),
                "namespace": host.namespace if pod else None,
                "pod": pod,
                "container": host.container if pod else None,
                "job_id": None,
                "process_count": None,
                "interval_s": float(INTERVAL_S),
                "source": "dcgm-exposition",
                "source_file": None,
                "ingest_id": None,
            }
            for name, value in fixed.items():
                columns[name].extend([value] * count)
            sm = host.sm_active[:, index]
            columns["time"].extend(telemetry.times)
            columns["gpu_util_pct"].extend(host.util_pct[:, index].tolist())
            prof = host.profiling
            columns["sm_active"].extend(sm.tolist() if prof else [None] * count)
            columns["tensor_active"].extend([None] * count)
            gr = np.minimum(1.0, np.round(sm * 1.1, 6))
            columns["gr_engine_active"].extend(gr.tolist() if prof else [None] * count)
            columns["dram_active"].extend([None] * count)
            columns["memory_used_mib"].extend(host.memory_used_mib[:, index].tolist())
            columns["power_w"].extend(host.power_w[:, index].tolist())
    return pa.table(columns, schema=GPU_SAMPLES_SCHEMA.to_pyarrow())
