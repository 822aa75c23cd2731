"""`costrail agent` Parquet segments → gpu_samples, read by the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costrail.errors import InputError
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.telemetry import SEGMENT_COLUMNS, load_telemetry, segment_schema
from costrail.telemetry.detect import detect
from costrail.warehouse import Warehouse

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def write_segment(path: Path, host: str, samples: int, util_pct: float = 37.5) -> pa.Table:
    """A segment as the agent writes it: one GPU sampled once a second."""
    columns: dict[str, list[object]] = {name: [None] * samples for name in SEGMENT_COLUMNS}
    columns["time"] = [START + timedelta(seconds=i) for i in range(samples)]
    columns["host"] = [host] * samples
    columns["node"] = [host] * samples
    columns["gpu_index"] = [0] * samples
    columns["gpu_uuid"] = ["GPU-77"] * samples
    columns["gpu_model"] = ["NVIDIA L4"] * samples
    columns["gpu_util_pct"] = [util_pct] * samples
    columns["memory_used_mib"] = [512.0] * samples
    columns["memory_total_mib"] = [23034.0] * samples
    columns["process_count"] = [1] * samples
    columns["interval_s"] = [1.0] * samples
    columns["source"] = ["agent"] * samples
    table = pa.table(columns, schema=segment_schema())
    pq.write_table(table, path)
    return table


def test_segment_round_trips_into_gpu_samples(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "seg-000001.parquet"
    written = write_segment(path, "l4-box", 90)
    report = load_telemetry(warehouse, [path])
    loaded = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).order_by("time").to_pyarrow()
    assert loaded.select(list(SEGMENT_COLUMNS)).equals(written)
    assert set(loaded.column("source_file").to_pylist()) == {str(path)}
    assert report.sources["agent"].rows == 90
    assert report.sources["agent"].hosts == 1


def test_segments_are_recognised_by_metadata_not_by_name(tmp_path: Path) -> None:
    marked = tmp_path / "anything.bin"
    write_segment(marked, "h", 1)
    plain = tmp_path / "seg-000002.parquet"
    pq.write_table(pa.table({"time": [START]}), plain)
    assert detect(marked) == "agent"
    assert detect(plain) is None


def test_reloading_a_segment_replaces_its_rows(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "seg.parquet"
    write_segment(path, "l4-box", 10, util_pct=10.0)
    load_telemetry(warehouse, [path])
    write_segment(path, "l4-box", 10, util_pct=20.0)
    load_telemetry(warehouse, [path])
    utils = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).gpu_util_pct.to_pyarrow()
    assert utils.to_pylist() == [20.0] * 10


def test_a_segment_missing_a_column_names_it(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "seg.parquet"
    table = write_segment(path, "h", 2).drop_columns(["interval_s"])
    pq.write_table(table.replace_schema_metadata(segment_schema().metadata), path)
    with pytest.raises(InputError) as caught:
        load_telemetry(warehouse, [path])
    assert caught.value.column == "interval_s"
