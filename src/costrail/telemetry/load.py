"""Telemetry files → the `gpu_samples` table, all files parsed before anything is written.

Text formats (exposition, Prometheus answers, nvidia-smi) are parsed in memory and written with
one keyed replace on `SAMPLE_KEY`: the same GPU at the same time (and pod) loaded again — the
same file, or an overlapping scrape of the same host — replaces the earlier row. Agent segments
are scanned by the engine and replaced per `source_file`: one agent writes one time-ordered,
non-overlapping stream, and keying 43 M rows on time would cost more than the load itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from costrail.errors import InputError, UnknownFormatError
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.telemetry.agent_segments import segments_table
from costrail.telemetry.dcgm import parse_exposition, parse_expositions
from costrail.telemetry.detect import Kind, detect
from costrail.telemetry.duck import parser_connection
from costrail.telemetry.nvidia_smi import parse_smi_csv
from costrail.telemetry.pivot import Parsed
from costrail.telemetry.prometheus_api import parse_query_json, pull
from costrail.warehouse.store import Warehouse

TABLE = "gpu_samples"
#: one sample of one GPU (or MIG instance, or pod sharing it) at one time
SAMPLE_KEY = ("host", "gpu_index", "gpu_uuid", "mig_instance_id", "pod", "time")
SEGMENT_KEY = ("source_file",)

Progress = Callable[[str], None]


@dataclass
class SourceSummary:
    """What one source kind contributed to a load."""

    rows: int
    hosts: int
    gpus: int
    start: datetime | None
    end: datetime | None


@dataclass
class TelemetryReport:
    """Rows per source, hosts, GPUs, time span and counted DCGM blank values of one load."""

    ingest_id: str
    files: dict[str, int] = field(default_factory=dict)
    sources: dict[str, SourceSummary] = field(default_factory=dict)
    sentinel_counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(summary.rows for summary in self.sources.values())

    def lines(self) -> list[str]:
        text = []
        for source, summary in self.sources.items():
            span = (
                f"{summary.start:%Y-%m-%d %H:%M:%S} → {summary.end:%Y-%m-%d %H:%M:%S} UTC"
                if summary.start and summary.end
                else "no samples"
            )
            text.append(
                f"loaded {summary.rows:,} GPU samples from {source} "
                f"({self.files.get(source, 0)} file(s)): {summary.hosts} host(s), "
                f"{summary.gpus} GPU(s), {span}"
            )
        for metric, count in sorted(self.sentinel_counts.items()):
            text.append(f"warning: {count:,} blank DCGM value(s) of {metric} ignored")
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "ingest_id": self.ingest_id,
            "rows": self.rows,
            "files": self.files,
            "sources": {
                source: {
                    "rows": summary.rows,
                    "hosts": summary.hosts,
                    "gpus": summary.gpus,
                    "start": summary.start,
                    "end": summary.end,
                }
                for source, summary in self.sources.items()
            },
            "warnings": [
                {"message": f"blank DCGM values of {metric} ignored", "rows": count}
                for metric, count in sorted(self.sentinel_counts.items())
            ],
        }


@dataclass(frozen=True)
class ParseOptions:
    """Choices the files cannot tell: see docs/telemetry.md."""

    host_map: Mapping[str, str] | None = None
    scrape_time: datetime | None = None
    smi_host: str | None = None
    smi_tz: str | None = None


def load_telemetry(
    warehouse: Warehouse,
    paths: list[Path],
    host_map: Mapping[str, str] | None = None,
    *,
    scrape_time: datetime | None = None,
    smi_host: str | None = None,
    smi_tz: str | None = None,
    progress: Progress | None = None,
) -> TelemetryReport:
    """Parse every file (format from content), then write `gpu_samples` keyed as described in
    the module docstring. Raises `InputError` (nothing written) for any bad file."""
    options = ParseOptions(host_map, scrape_time, smi_host, smi_tz)
    kinds = {path: _kind(path) for path in paths}
    ingest_id = uuid.uuid4().hex
    report = TelemetryReport(ingest_id)
    for kind in kinds.values():
        report.files[kind] = report.files.get(kind, 0) + 1
    parsed = parse_files(kinds, options, progress)
    segments = [path for path, kind in kinds.items() if kind == "agent"]
    segment_rows = segments_table(warehouse, segments, ingest_id) if segments else None
    for one in parsed:
        for metric, count in one.sentinel_counts.items():
            report.sentinel_counts[metric] = report.sentinel_counts.get(metric, 0) + count
    if parsed:
        if progress is not None:
            progress("writing gpu_samples")
        write_parsed(warehouse, parsed, ingest_id)
    if segment_rows is not None:
        if progress is not None:
            progress(f"loading {len(segments)} agent segment(s)")
        warehouse.replace(TABLE, segment_rows, GPU_SAMPLES_SCHEMA, SEGMENT_KEY)
    report.sources = summarise(warehouse, ingest_id)
    return report


def parse_files(
    kinds: Mapping[Path, Kind], options: ParseOptions, progress: Progress | None = None
) -> list[Parsed]:
    """Every text file parsed, in the order given (agent segments are skipped: the engine
    scans them). Exposition files are parsed together — thousands of one-scrape files cost
    one pass — and any bad file raises the error a file-by-file parse in order would."""
    texts = [path for path, kind in kinds.items() if kind != "agent"]
    position = {str(path): index for index, path in enumerate(texts)}
    expositions = [path for path in texts if kinds[path] == "dcgm-exposition"]
    done: dict[Path, Parsed] = {}
    first_error: InputError | None = None
    if expositions:
        if progress is not None:
            progress(f"parsing {len(expositions):,} exposition file(s)")
        try:
            together = parse_expositions(
                expositions, scrape_time=options.scrape_time, host_map=options.host_map
            )
            done.update(zip(expositions, together, strict=True))
        except InputError as error:
            first_error = error
    for index, path in enumerate(texts):
        if path in done or kinds[path] == "dcgm-exposition":
            continue
        if first_error is not None and index > position.get(str(first_error.file), index):
            break  # a bad exposition file comes earlier in the order given
        if progress is not None:
            progress(f"parsing {path.name}")
        try:
            done[path] = parse_file(path, kinds[path], options)
        except InputError as error:
            first_error = error
            break
    if first_error is not None:
        raise first_error
    return [done[path] for path in texts]


def parse_file(path: Path, kind: Kind, options: ParseOptions) -> Parsed:
    """One text file of a known kind → parsed rows (no warehouse involved)."""
    if kind == "dcgm-exposition":
        return parse_exposition(path, scrape_time=options.scrape_time, host_map=options.host_map)
    if kind == "prometheus":
        return parse_query_json(path, host_map=options.host_map)
    if kind == "nvidia-smi":
        return parse_smi_csv(
            path, host=options.smi_host, tz=options.smi_tz, host_map=options.host_map
        )
    raise ValueError(f"{kind} files are not parsed in memory")


def write_parsed(warehouse: Warehouse, parsed: list[Parsed], ingest_id: str) -> int:
    """One keyed replace of every parsed file; a key seen in several files keeps the last."""
    combined = pa.concat_tables([one.table for one in parsed])
    ordered = combined.append_column(
        "_order", pa.array(range(combined.num_rows), pa.int64())
    ).append_column("ingest_id", pa.repeat(pa.scalar(ingest_id, pa.string()), combined.num_rows))
    con = parser_connection()
    try:
        con.register("incoming", ordered)
        keys = ", ".join(SAMPLE_KEY)
        columns = ", ".join(f'"{name}"' for name in GPU_SAMPLES_SCHEMA.names)
        unique = con.execute(
            f"SELECT {columns} FROM incoming "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _order DESC) = 1"
        ).fetch_arrow_table()
    finally:
        con.close()
    return warehouse.replace(TABLE, ibis.memtable(unique), GPU_SAMPLES_SCHEMA, SAMPLE_KEY)


def summarise(warehouse: Warehouse, ingest_id: str) -> dict[str, SourceSummary]:
    """Per source: rows, hosts, GPUs (host × uuid/index × MIG instance) and time span.

    Grouped per GPU first, then per source: hashing a few key columns scales to tens of
    millions of rows, where building one key string per row does not."""
    table = warehouse.read(TABLE, GPU_SAMPLES_SCHEMA)
    mine = table.filter(table.ingest_id == ingest_id)
    per_gpu = mine.group_by(
        "source",
        host=mine.host.fill_null(""),
        gpu=mine.gpu_uuid.fill_null(mine.gpu_index.cast("string")),
        mig=mine.mig_instance_id,
    ).aggregate(rows=mine.count(), start=mine.time.min(), end=mine.time.max())
    summary = (
        per_gpu.group_by("source")
        .aggregate(
            rows=per_gpu.rows.sum(),
            hosts=per_gpu.host.nullif("").nunique(),
            gpus=per_gpu.count(),
            start=per_gpu.start.min(),
            end=per_gpu.end.max(),
        )
        .order_by("source")
        .to_pyarrow()
        .to_pylist()
    )
    return {str(row["source"]): _summary(row) for row in summary}


def _summary(row: dict[str, Any]) -> SourceSummary:
    return SourceSummary(
        int(row["rows"]), int(row["hosts"]), int(row["gpus"]), row["start"], row["end"]
    )


def _kind(path: Path) -> Kind:
    kind = detect(path)
    if kind is None:
        raise UnknownFormatError(
            "not a telemetry file this version reads",
            file=path,
            hint="expected dcgm-exporter exposition text, a Prometheus query_range answer, "
            "an nvidia-smi --format=csv log or a costrail agent segment",
        )
    return kind


def load_prometheus(
    warehouse: Warehouse,
    url: str,
    *,
    since_s: float,
    step_s: float = 60.0,
    selector: str | None = None,
    host_map: Mapping[str, str] | None = None,
    end: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TelemetryReport:
    """Live pull (`prometheus_api.pull`) written like a file load, keyed on `SAMPLE_KEY`, so
    pulling an overlapping window again replaces the overlap instead of counting it twice."""
    parsed = pull(
        url,
        since_s=since_s,
        step_s=step_s,
        selector=selector,
        end=end,
        host_map=host_map,
        progress=progress,
    )
    ingest_id = uuid.uuid4().hex
    report = TelemetryReport(ingest_id, files={"prometheus": 0})
    report.sentinel_counts = dict(parsed.sentinel_counts)
    if parsed.table.num_rows:
        write_parsed(warehouse, [parsed], ingest_id)
    report.sources = summarise(warehouse, ingest_id)
    return report
