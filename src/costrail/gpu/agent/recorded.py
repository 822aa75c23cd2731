"""A `GpuReader` that replays readings from a JSON file: it replaces GPU hardware, not our code.

Tests and the CPU-only overhead baseline run the real loop, cgroup mapping, segment writer and
Prometheus endpoint over it; only the NVML calls are replaced. The file holds a list of
snapshots, each `{"readings": [GpuReading fields, "processes": [{pid, used_memory_mib}]],
"failures": [{gpu_index, message}]}`; replay cycles through them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from costrail.gpu.agent.nvml import GpuReading, ProcessReading, ReadFailure, Snapshot


def _reading(fields: dict[str, Any]) -> GpuReading:
    processes = tuple(ProcessReading(**process) for process in fields.get("processes", ()))
    return GpuReading(**{**fields, "processes": processes})


def load_snapshots(path: Path) -> list[Snapshot]:
    raw = json.loads(path.read_text())
    return [
        Snapshot(
            readings=tuple(_reading(reading) for reading in snapshot["readings"]),
            failures=tuple(ReadFailure(**failure) for failure in snapshot.get("failures", ())),
        )
        for snapshot in raw
    ]


class RecordedReader:
    """Replays snapshots in order, cycling; `closed` tells a test the loop shut the reader."""

    def __init__(self, snapshots: list[Snapshot]) -> None:
        if not snapshots:
            raise ValueError("a recorded reader needs at least one snapshot")
        self._snapshots = snapshots
        self._next = 0
        self.closed = False

    @classmethod
    def from_file(cls, path: Path) -> RecordedReader:
        return cls(load_snapshots(path))

    def read(self) -> Snapshot:
        snapshot = self._snapshots[self._next % len(self._snapshots)]
        self._next += 1
        return snapshot

    def close(self) -> None:
        self.closed = True
