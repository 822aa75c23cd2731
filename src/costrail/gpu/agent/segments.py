"""Rotating, atomically written Parquet segments in the `gpu_samples` shape."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA

#: the key `costrail ingest` looks for to recognise an agent segment
SEGMENT_KEY = b"costrail.segment"
SEGMENT_VALUE = b"gpu_samples/1"
#: columns the warehouse fills at ingest time, so a segment leaves them out
_INGEST_COLUMNS = ("source_file", "ingest_id")


def segment_schema() -> pa.Schema:
    """`GPU_SAMPLES_SCHEMA` minus the ingest columns, with the segment marker in its metadata."""
    full = GPU_SAMPLES_SCHEMA.to_pyarrow()
    fields = [full.field(name) for name in full.names if name not in _INGEST_COLUMNS]
    return pa.schema(fields, metadata={SEGMENT_KEY: SEGMENT_VALUE})


SEGMENT_SCHEMA = segment_schema()
_SAFE_HOST = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Rotation:
    """Close a segment after `every_s` seconds of samples, or after `max_rows` rows."""

    every_s: float | None = 900.0
    max_rows: int | None = None


def segment_name(host: str, start: datetime) -> str:
    safe_host = _SAFE_HOST.sub("-", host).strip("-") or "host"
    return f"gpu-samples-{safe_host}-{start.astimezone(UTC):%Y%m%dT%H%M%SZ}.parquet"


def write_atomically(table: pa.Table, path: Path) -> None:
    """Temp name in the same folder, fsync, rename, fsync the folder: readers never see half."""
    temp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temp)
    with temp.open("rb") as handle:
        os.fsync(handle.fileno())
    temp.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class SegmentWriter:
    """Buffers rows of one open segment and writes it whole when it rotates or closes.

    A graceful stop (`close()`, called on SIGINT/SIGTERM) writes the open segment; a hard kill
    loses at most the open segment, so `--rotate` bounds what can be lost.
    """

    def __init__(self, out_dir: Path, host: str, rotation: Rotation) -> None:
        self.out_dir = out_dir
        self.host = host
        self.rotation = rotation
        self.written: list[Path] = []
        self._rows: list[dict[str, Any]] = []
        self._start: datetime | None = None
        out_dir.mkdir(parents=True, exist_ok=True)

    def add(self, rows: list[dict[str, Any]], sample_time: datetime) -> None:
        """Add one tick's rows; rotates first when the open segment is due."""
        if self._start is not None and self._due(sample_time):
            self.flush()
        if self._start is None:
            self._start = sample_time
        self._rows.extend(rows)
        if self.rotation.max_rows is not None and len(self._rows) >= self.rotation.max_rows:
            self.flush()

    def _due(self, sample_time: datetime) -> bool:
        every_s = self.rotation.every_s
        assert self._start is not None
        return every_s is not None and (sample_time - self._start).total_seconds() >= every_s

    def flush(self) -> Path | None:
        """Write the open segment (if it has rows) and start a new one."""
        if self._start is None or not self._rows:
            self._start = None
            return None
        path = self._free_path(self.out_dir / segment_name(self.host, self._start))
        write_atomically(pa.Table.from_pylist(self._rows, schema=SEGMENT_SCHEMA), path)
        self.written.append(path)
        self._rows = []
        self._start = None
        return path

    def close(self) -> Path | None:
        return self.flush()

    @staticmethod
    def _free_path(path: Path) -> Path:
        """Two segments started in the same second (small --rotate-rows) get `-2`, `-3`, …"""
        candidate, number = path, 2
        while candidate.exists():
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
            number += 1
        return candidate
