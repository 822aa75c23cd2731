"""The demo's GPU telemetry: dcgm-exporter captures in the exporter's layout, deterministic, and
read back by the real exposition parser as exactly the samples the generator meant.

That every planted GPU waste is found within ±10 % (and nothing above $50 on the clean demo) is
tested in `tests/analyses/test_demo_findings.py`, on the demo build those tests already make:
generating and ingesting the whole company again here would double the suite's slowest setup.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from costrail.demo.gpu_telemetry import Telemetry, build_telemetry, samples_table, write_telemetry
from costrail.demo.ids import IdFactory
from costrail.demo.timeline import DEMO_TIMELINE
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.telemetry import load_telemetry
from costrail.warehouse import connect

COMPARED = [
    "host",
    "gpu_index",
    "time",
    "gpu_uuid",
    "gpu_model",
    "pod",
    "gpu_util_pct",
    "sm_active",
    "gr_engine_active",
    "memory_used_mib",
    "memory_total_mib",
    "power_w",
    "interval_s",
]


@pytest.fixture(scope="module")
def telemetry() -> Telemetry:
    return build_telemetry(DEMO_TIMELINE, IdFactory(7), clean=False)


@pytest.fixture(scope="module")
def written(telemetry: Telemetry, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_telemetry(tmp_path_factory.mktemp("telemetry"), telemetry)


def test_captures_are_in_dcgm_exporter_layout_with_both_hostname_spellings(
    written: list[Path],
) -> None:
    heads = [path.read_text(encoding="utf-8")[:20000] for path in written]
    assert any('hostname="' in text for text in heads)
    assert any('Hostname="' in text for text in heads)
    assert all(text.startswith("# HELP DCGM_FI_DEV_GPU_UTIL") for text in heads)
    assert "# TYPE DCGM_FI_DEV_FB_USED gauge" in heads[0]


def test_the_same_seed_writes_the_same_bytes(written: list[Path], tmp_path: Path) -> None:
    again = write_telemetry(tmp_path, build_telemetry(DEMO_TIMELINE, IdFactory(7), False))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]


def test_the_exposition_parser_reads_back_the_generated_samples(
    telemetry: Telemetry, written: list[Path], tmp_path: Path
) -> None:
    """Two hosts (one per label spelling; one with pod labels) through `load_telemetry`."""
    chosen = [p for p in written if "lumen" in p.read_text(encoding="utf-8")[:4000]][:1]
    chosen += [p for p in written if 'Hostname="' in p.read_text(encoding="utf-8")[:4000]]
    hosts = sorted(path.name.removesuffix(".prom") for path in chosen)
    assert len(hosts) == 2
    warehouse = connect(str(tmp_path / "w.duckdb"))

    load_telemetry(warehouse, chosen)

    loaded = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).select(COMPARED).to_pyarrow()
    expected = samples_table(telemetry).select(COMPARED)
    expected = expected.filter(pc.is_in(expected["host"], pa.array(hosts)))
    order = [("host", "ascending"), ("gpu_index", "ascending"), ("time", "ascending")]
    assert loaded.num_rows == expected.num_rows > 0
    assert loaded.sort_by(order).to_pylist() == expected.sort_by(order).to_pylist()
