"""The sampling loop: read GPUs every interval, map processes to pods, write segments, serve."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from costrail.gpu.agent.cgroups import CgroupResolver, Workload
from costrail.gpu.agent.metrics import AgentCollector, Exposition, ProcessSeries, serve
from costrail.gpu.agent.nvml import GpuReader, GpuReading, Snapshot
from costrail.gpu.agent.segments import SEGMENT_SCHEMA, Rotation, SegmentWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentOptions:
    host: str
    node: str
    interval_s: float = 1.0
    out_dir: Path | None = None
    rotation: Rotation = field(default_factory=Rotation)
    serve_address: str | None = None
    duration_s: float | None = None
    once: bool = False
    process_names: bool = False


@dataclass
class AgentStats:
    ticks: int = 0
    rows: int = 0
    read_failures: int = 0
    segments: list[Path] = field(default_factory=list)
    last_rows: list[dict[str, Any]] = field(default_factory=list)


def _workload_columns(workload: Workload) -> dict[str, str | None]:
    """Names when the kubelet logs resolve them; else the pod uid / container id themselves."""
    return {
        "namespace": workload.namespace,
        "pod": workload.pod or workload.pod_uid,
        "container": workload.container or workload.container_id,
        "job_id": workload.job_id,
    }


def rows_for_reading(
    reading: GpuReading,
    workloads: dict[int, Workload],
    sample_time: datetime,
    options: AgentOptions,
) -> list[dict[str, Any]]:
    """One row per (GPU, workload holding it); one row with no pod when no process runs.

    Every row of a shared GPU carries the whole device's readings (utilisation, memory used,
    power), exactly as dcgm-exporter labels a time-sliced GPU once per pod; `process_count`
    is that workload's processes. Sum device figures per (time, gpu_uuid, mig_instance_id).
    """
    groups: dict[tuple[str | None, str | None, str | None], list[Workload]] = {}
    for process in reading.processes:
        workload = workloads.get(process.pid, Workload())
        groups.setdefault(workload.key, []).append(workload)
    base = {
        "time": sample_time,
        "host": options.host,
        "instance_id": None,
        "node": options.node,
        "gpu_index": reading.gpu_index,
        "gpu_uuid": reading.gpu_uuid,
        "gpu_model": reading.gpu_model,
        "pci_bus_id": reading.pci_bus_id,
        "mig_profile": reading.mig_profile,
        "mig_instance_id": reading.mig_instance_id,
        "gpu_util_pct": reading.gpu_util_pct,
        "sm_active": reading.sm_active,
        "tensor_active": reading.tensor_active,
        "gr_engine_active": reading.gr_engine_active,
        "dram_active": reading.dram_active,
        "memory_used_mib": reading.memory_used_mib,
        "memory_total_mib": reading.memory_total_mib,
        "power_w": reading.power_w,
        "interval_s": options.interval_s,
        "source": "agent",
    }
    if not groups:
        return [base | _workload_columns(Workload()) | {"process_count": 0}]
    return [
        base | _workload_columns(members[0]) | {"process_count": len(members)}
        for members in groups.values()
    ]


class Agent:
    """One sampler: `tick()` is a whole sampling step, `run()` repeats it until stopped."""

    def __init__(
        self,
        reader: GpuReader,
        options: AgentOptions,
        resolver: CgroupResolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader = reader
        self.options = options
        self.resolver = resolver or CgroupResolver()
        self.clock = clock
        self.stats = AgentStats()
        self.collector = AgentCollector()
        self.stop_event = threading.Event()
        self._failing: dict[int, str] = {}
        self.writer = (
            SegmentWriter(options.out_dir, options.host, options.rotation)
            if options.out_dir is not None
            else None
        )

    def tick(self) -> list[dict[str, Any]]:
        sample_time = self.clock()
        snapshot = self.reader.read()
        self._log_failures(snapshot)
        rows, processes = self._rows(snapshot, sample_time)
        if self.writer is not None:
            segment_rows = [{name: row[name] for name in SEGMENT_SCHEMA.names} for row in rows]
            self.writer.add(segment_rows, sample_time)
        self.collector.update(Exposition(tuple(rows), tuple(processes)), len(snapshot.failures))
        self.stats.ticks += 1
        self.stats.rows += len(rows)
        self.stats.read_failures += len(snapshot.failures)
        self.stats.last_rows = rows
        return rows

    def _log_failures(self, snapshot: Snapshot) -> None:
        """Log when a GPU starts failing, changes error, or recovers — not once per tick."""
        now_failing = {failure.gpu_index: failure.message for failure in snapshot.failures}
        for gpu_index, message in now_failing.items():
            if self._failing.get(gpu_index) != message:
                log.warning("GPU %s could not be read: %s (counted)", gpu_index, message)
        read_now = {reading.gpu_index for reading in snapshot.readings}
        for gpu_index in self._failing.keys() - now_failing.keys():
            if gpu_index in read_now:
                log.warning("GPU %s is readable again", gpu_index)
        self._failing = now_failing

    def _rows(
        self, snapshot: Snapshot, sample_time: datetime
    ) -> tuple[list[dict[str, Any]], list[ProcessSeries]]:
        rows: list[dict[str, Any]] = []
        processes: list[ProcessSeries] = []
        for reading in snapshot.readings:
            workloads = {p.pid: self.resolver.workload(p.pid) for p in reading.processes}
            reading_rows = rows_for_reading(reading, workloads, sample_time, self.options)
            for row in reading_rows:
                row["memory_free_mib"] = reading.memory_free_mib
            rows.extend(reading_rows)
            by_key = {
                (row["pod"], row["container"], row["job_id"]): row
                for row in reading_rows
                if row["process_count"]
            }
            for process in reading.processes:
                columns = _workload_columns(workloads[process.pid])
                name = (
                    self.resolver.process_name(process.pid) if self.options.process_names else None
                )
                key = (columns["pod"], columns["container"], columns["job_id"])
                row = by_key.get(key, reading_rows[0])
                processes.append(ProcessSeries(row, process.pid, process.used_memory_mib, name))
        return rows, processes

    def run(self) -> AgentStats:
        """Tick on a fixed schedule until stopped, the duration ends, or once; then flush."""
        server = None
        if self.options.serve_address is not None:
            server, _ = serve(self.collector, self.options.serve_address)
        started_s = time.monotonic()
        ticks_done = 0
        try:
            while not self.stop_event.is_set():
                self.tick()
                ticks_done += 1
                if self.options.once or self._past_duration(ticks_done):
                    break
                next_tick_s = started_s + ticks_done * self.options.interval_s
                self.stop_event.wait(max(0.0, next_tick_s - time.monotonic()))
        finally:
            self._close(server)
        return self.stats

    def _past_duration(self, ticks_done: int) -> bool:
        """`--duration 20 --interval 1s` is 20 ticks (on a fixed schedule, not drifting)."""
        duration_s = self.options.duration_s
        return duration_s is not None and ticks_done * self.options.interval_s >= duration_s - 1e-9

    def _close(self, server: Any) -> None:
        if self.writer is not None:
            self.writer.close()
            self.stats.segments = list(self.writer.written)
        if server is not None:
            server.shutdown()
            server.server_close()
        self.reader.close()

    def install_signal_handlers(self) -> None:
        """SIGINT / SIGTERM end the loop after the current tick; the open segment is written."""

        def _stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: stopping after this tick", signum)
            self.stop_event.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
