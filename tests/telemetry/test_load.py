"""load_telemetry: keyed, idempotent writes into gpu_samples and the load report."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from costrail.errors import InputError, UnknownFormatError
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.telemetry import load_telemetry
from costrail.warehouse import Warehouse
from tests.telemetry.helpers import FIXTURES

A100 = FIXTURES / "dcgm-a100-node.prom"
MIG = FIXTURES / "dcgm-h100-mig-k8s.prom"
SMI = FIXTURES / "a10g-box.csv"
ANSWER = FIXTURES / "query_range-gpu-util.json"


def sample_count(warehouse: Warehouse) -> int:
    return int(warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).count().execute())


def test_every_format_loads_side_by_side(warehouse: Warehouse) -> None:
    report = load_telemetry(warehouse, [A100, MIG, SMI, ANSWER])
    assert {name: summary.rows for name, summary in report.sources.items()} == {
        "dcgm-exposition": 8,
        "nvidia-smi": 4,
        "prometheus": 4,
    }
    assert sample_count(warehouse) == 16
    assert report.files == {"dcgm-exposition": 2, "nvidia-smi": 1, "prometheus": 1}


def test_report_counts_hosts_gpus_span_and_blank_values(warehouse: Warehouse) -> None:
    report = load_telemetry(warehouse, [A100, MIG])
    summary = report.sources["dcgm-exposition"]
    assert (summary.hosts, summary.gpus) == (2, 4)
    assert summary.start is not None and summary.start.isoformat() == "2026-11-02T10:00:00+00:00"
    assert summary.end is not None and summary.end.isoformat() == "2026-11-02T10:00:30+00:00"
    assert sum(report.sentinel_counts.values()) == 4
    assert any("blank DCGM value" in line for line in report.lines())


def test_loading_the_same_file_again_replaces_instead_of_doubling(warehouse: Warehouse) -> None:
    load_telemetry(warehouse, [A100])
    load_telemetry(warehouse, [A100])
    assert sample_count(warehouse) == 4


def test_an_overlapping_scrape_of_the_same_host_replaces_its_samples(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    copy = tmp_path / "node-1-again.prom"
    shutil.copy(A100, copy)
    load_telemetry(warehouse, [A100])
    load_telemetry(warehouse, [copy])
    table = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).to_pyarrow()
    assert table.num_rows == 4
    assert set(table.column("source_file").to_pylist()) == {str(copy)}


def test_a_bad_file_loads_nothing_at_all(warehouse: Warehouse, tmp_path: Path) -> None:
    bad = tmp_path / "bad.prom"
    bad.write_text(A100.read_text().replace("} 97", "} ninety-seven"))
    with pytest.raises(InputError) as caught:
        load_telemetry(warehouse, [MIG, bad])
    assert caught.value.file == str(bad)
    assert sample_count(warehouse) == 0


def test_an_unknown_file_is_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(UnknownFormatError):
        load_telemetry(warehouse, [other])


def test_host_map_fills_instance_ids(warehouse: Warehouse) -> None:
    load_telemetry(warehouse, [SMI], host_map={"a10g-box": "i-0a10a10a10a10a10"})
    ids = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).instance_id.to_pyarrow()
    assert set(ids.to_pylist()) == {"i-0a10a10a10a10a10"}


@pytest.mark.spark
def test_scrapes_and_agent_segments_load_on_spark(tmp_path: Path, spark_session: Any) -> None:
    from costrail.warehouse import connect
    from tests.telemetry.test_agent_segments import write_segment

    segment = tmp_path / "seg.parquet"
    write_segment(segment, "l4-box", 5)
    store = connect(f"spark://{tmp_path / 'wh'}", spark=spark_session)
    load_telemetry(store, [A100, segment])
    load_telemetry(store, [A100, segment])
    assert sample_count(store) == 4 + 5
