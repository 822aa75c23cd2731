"""Prometheus exposition of the agent's latest readings, under dcgm-exporter's names and labels."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from costrail.errors import ConfigError

#: dcgm-exporter's own label names, so its dashboards and costrail's DCGM reader work unchanged
_GPU_LABELS = ("gpu", "UUID", "device", "modelName", "Hostname", "pci_bus_id")
_MIG_LABELS = ("GPU_I_PROFILE", "GPU_I_ID")
_POD_LABELS = ("namespace", "pod", "container")


@dataclass(frozen=True)
class ProcessSeries:
    """Per-process GPU memory for the costrail-only metric (no DCGM equivalent)."""

    row: dict[str, Any]
    pid: int
    used_memory_mib: float | None
    process_name: str | None


@dataclass(frozen=True)
class Exposition:
    """What one tick leaves for the next scrape: the sample rows and process memory."""

    rows: tuple[dict[str, Any], ...] = ()
    processes: tuple[ProcessSeries, ...] = ()


def _labels(row: dict[str, Any]) -> dict[str, str]:
    labels = {
        "gpu": str(row["gpu_index"]),
        "UUID": row["gpu_uuid"],
        "device": f"nvidia{row['gpu_index']}",
        "modelName": row["gpu_model"],
        "Hostname": row["host"],
        "pci_bus_id": row["pci_bus_id"],
    }
    if row.get("mig_profile"):
        labels["GPU_I_PROFILE"] = row["mig_profile"]
        labels["GPU_I_ID"] = row["mig_instance_id"] or ""
    for name in _POD_LABELS:
        if row.get(name):
            labels[name] = row[name]
    return labels


def _family(name: str, documentation: str, points: list[tuple[dict[str, str], float]]) -> Metric:
    """A family whose series may carry different label sets (MIG, pod), as dcgm-exporter's do."""
    family = GaugeMetricFamily(name, documentation, labels=())
    for labels, value in points:
        family.add_sample(name, labels, value)
    return family


class AgentCollector(Collector):
    """Yields the latest readings at scrape time; the sampling loop replaces them each tick."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exposition = Exposition()
        self._read_failures = 0
        self._ticks = 0

    def update(self, exposition: Exposition, read_failures: int) -> None:
        with self._lock:
            self._exposition = exposition
            self._read_failures += read_failures
            self._ticks += 1

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            exposition, failures, ticks = self._exposition, self._read_failures, self._ticks
        yield from self._gpu_families(exposition.rows)
        yield self._process_family(exposition.processes)
        errors = CounterMetricFamily(
            "costrail_agent_read_errors", "GPUs that could not be read, summed over ticks"
        )
        errors.add_metric([], failures)
        yield errors
        samples = CounterMetricFamily("costrail_agent_ticks", "Sampling ticks completed")
        samples.add_metric([], ticks)
        yield samples

    def _gpu_families(self, rows: tuple[dict[str, Any], ...]) -> Iterator[Metric]:
        specs = (
            ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "gpu_util_pct"),
            ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "memory_used_mib"),
            ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", "memory_free_mib"),
            ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "power_w"),
            # GPM activity (Hopper+): kept under our own names, since NVML's GPM definitions are
            # not documented as identical to DCGM's DCGM_FI_PROF_* fields
            ("costrail_agent_gpm_sm_util_ratio", "GPM: share of SMs busy.", "sm_active"),
            ("costrail_agent_gpm_tensor_util_ratio", "GPM: tensor pipe use.", "tensor_active"),
            ("costrail_agent_gpm_graphics_util_ratio", "GPM: engine busy.", "gr_engine_active"),
            ("costrail_agent_gpm_dram_bw_util_ratio", "GPM: DRAM bandwidth.", "dram_active"),
        )
        for name, documentation, column in specs:
            points = [(_labels(row), row[column]) for row in rows if row.get(column) is not None]
            if points:
                yield _family(name, documentation, points)

    @staticmethod
    def _process_family(processes: tuple[ProcessSeries, ...]) -> Metric:
        points: list[tuple[dict[str, str], float]] = []
        for process in processes:
            if process.used_memory_mib is None:
                continue
            labels = _labels(process.row) | {"pid": str(process.pid)}
            if process.process_name:
                labels["process_name"] = process.process_name
            points.append((labels, process.used_memory_mib))
        return _family(
            "costrail_agent_process_gpu_memory_used_mib",
            "GPU memory used by one compute process (MiB); process_name only with --process-names",
            points,
        )


def parse_listen(address: str) -> tuple[str, int]:
    """`:9400` (every interface, as dcgm-exporter), `127.0.0.1:9400`, or `[::1]:9400`."""
    host, _, port_text = address.rpartition(":")
    if not port_text.isdigit():
        raise ValueError(f"--serve {address!r} is not [HOST]:PORT, e.g. :9400")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port_text)


def serve(collector: AgentCollector, address: str) -> tuple[WSGIServer, threading.Thread]:
    """Start the /metrics endpoint on a daemon thread; `server.shutdown()` stops it."""
    host, port = parse_listen(address)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    try:
        return start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        raise ConfigError(
            f"--serve {address}: cannot listen ({error.strerror}); pick another port"
        ) from error
