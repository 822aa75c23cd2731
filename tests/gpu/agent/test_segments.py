"""Segments: rotation by time and rows, the schema and marker ingest keys on, atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costrail.gpu.agent.segments import Rotation, SegmentWriter, segment_name, write_atomically
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA

T0 = datetime(2026, 12, 2, 6, 0, 0, tzinfo=UTC)


def _row(time: datetime, gpu_index: int = 0) -> dict[str, Any]:
    return {
        "time": time,
        "host": "gpu-node-1",
        "node": "gpu-node-1",
        "gpu_index": gpu_index,
        "gpu_uuid": f"GPU-{gpu_index}",
        "gpu_model": "NVIDIA H100 80GB HBM3",
        "gpu_util_pct": 50.0,
        "memory_used_mib": 1024.0,
        "memory_total_mib": 81559.0,
        "process_count": 1,
        "interval_s": 1.0,
        "source": "agent",
    }


def _feed(writer: SegmentWriter, seconds: int, gpus: int = 2) -> None:
    for second in range(seconds):
        time = T0 + timedelta(seconds=second)
        writer.add([_row(time, gpu) for gpu in range(gpus)], time)


def test_time_rotation_closes_a_segment_every_interval(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation(every_s=60))
    _feed(writer, 150)
    writer.close()
    assert [pq.read_metadata(path).num_rows for path in writer.written] == [120, 120, 60]


def test_row_rotation_closes_a_segment_every_n_rows(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation(every_s=None, max_rows=10))
    _feed(writer, 12)
    writer.close()
    assert [pq.read_metadata(path).num_rows for path in writer.written] == [10, 10, 4]


def test_segment_is_named_for_host_and_first_sample_time(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation(every_s=60))
    _feed(writer, 3)
    writer.close()
    assert [path.name for path in writer.written] == [
        "gpu-samples-gpu-node-1-20261202T060000Z.parquet"
    ]


def test_segment_carries_the_marker_the_ingest_reader_detects(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation())
    _feed(writer, 2)
    writer.close()
    metadata = pq.read_schema(writer.written[0]).metadata
    assert metadata[b"costrail.segment"] == b"gpu_samples/1"


def test_segment_columns_are_the_schema_minus_ingest_columns(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation())
    _feed(writer, 2)
    writer.close()
    written = pq.read_schema(writer.written[0]).remove_metadata()
    expected = GPU_SAMPLES_SCHEMA.to_pyarrow()
    expected = pa.schema([f for f in expected if f.name not in ("source_file", "ingest_id")])
    assert written.equals(expected)


def test_times_are_stored_as_utc(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation())
    local = T0.astimezone(ZoneInfo("Asia/Tokyo"))
    writer.add([_row(local)], local)
    writer.close()
    table = pq.read_table(writer.written[0])
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.column("time")[0].as_py() == T0


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    table = pa.table({"a": [1, 2]})
    write_atomically(table, tmp_path / "x.parquet")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["x.parquet"]


def test_failed_write_never_leaves_a_file_under_the_final_name(tmp_path: Path) -> None:
    final = tmp_path / "x.parquet"
    with pytest.raises((TypeError, pa.ArrowException, AttributeError)):
        write_atomically("not a table", final)  # type: ignore[arg-type]
    assert not final.exists()


def test_segments_started_in_the_same_second_do_not_overwrite(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation(every_s=None, max_rows=1))
    writer.add([_row(T0)], T0)
    writer.add([_row(T0, 1)], T0)
    assert len({path.name for path in writer.written}) == 2


def test_host_name_is_made_safe_for_a_file_name() -> None:
    assert segment_name("node/a b", T0) == "gpu-samples-node-a-b-20261202T060000Z.parquet"


def test_closing_an_empty_writer_writes_nothing(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation())
    assert writer.close() is None
    assert list(tmp_path.iterdir()) == []


def test_segments_are_recognised_and_loaded_by_the_telemetry_reader(
    tmp_path: Path, warehouse: Any
) -> None:
    """Round trip through the ingest side's segment reader into a DuckDB warehouse."""
    from costrail.telemetry.agent_segments import is_segment, segments_table

    writer = SegmentWriter(tmp_path, "gpu-node-1", Rotation(every_s=60))
    _feed(writer, 90)
    writer.close()
    assert all(is_segment(path) for path in writer.written)
    loaded = segments_table(warehouse, writer.written, "ingest-1").to_pyarrow()
    assert (loaded.num_rows, loaded.column("time").to_pylist()[0]) == (180, T0)
