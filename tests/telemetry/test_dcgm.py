"""dcgm-exporter exposition text → gpu_samples rows."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from costrail.errors import InputError
from costrail.telemetry import parse_exposition
from tests.telemetry.helpers import FIXTURES, rows_by

A100 = FIXTURES / "dcgm-a100-node.prom"
MIG = FIXTURES / "dcgm-h100-mig-k8s.prom"
GPU0 = "GPU-5d0b1e32-6a4c-8f21-0c6e-2b1f3d6e9a01"
GPU1 = "GPU-8c3e9f40-1b7d-4e25-9a6f-7d2c4b8e1f02"
LINE = (
    'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-1",pci_bus_id="00000000:07:00.0",device="nvidia0",'
    'modelName="NVIDIA L4",hostname="node-a"} '
)


def test_counters_pivot_into_one_row_per_gpu_and_scrape_time() -> None:
    rows = rows_by(parse_exposition(A100).table, "gpu_uuid", "time")
    first = rows[(GPU0, "2026-11-02T10:00:00Z")]
    assert first["gpu_util_pct"] == 97.0
    assert first["memory_used_mib"] == 72039.0
    assert first["memory_total_mib"] == 72039.0 + 9011.0
    assert first["power_w"] == pytest.approx(386.518)
    assert first["gr_engine_active"] == pytest.approx(0.962113)
    assert first["tensor_active"] == pytest.approx(0.412871)
    assert first["dram_active"] == pytest.approx(0.530337)
    assert rows[(GPU0, "2026-11-02T10:00:30Z")]["gpu_util_pct"] == 95.0
    assert len(rows) == 4


def test_older_hostname_label_and_gpu_identity_labels_are_read() -> None:
    row = rows_by(parse_exposition(A100).table, "gpu_uuid", "time")[(GPU1, "2026-11-02T10:00:00Z")]
    assert row["host"] == "gpu-node-1"
    assert row["node"] == "gpu-node-1"
    assert row["gpu_index"] == 1
    assert row["gpu_model"] == "NVIDIA A100-SXM4-80GB"
    assert row["pci_bus_id"] == "00000000:0F:00.0"
    assert row["source"] == "dcgm-exposition"
    assert row["source_file"] == str(A100)


def test_blank_sentinels_are_dropped_and_counted_per_counter() -> None:
    parsed = parse_exposition(A100)
    rows = rows_by(parsed.table, "gpu_uuid", "time")
    assert rows[(GPU1, "2026-11-02T10:00:00Z")]["tensor_active"] is None
    assert rows[(GPU1, "2026-11-02T10:00:00Z")]["dram_active"] is None
    assert rows[(GPU1, "2026-11-02T10:00:30Z")]["gpu_util_pct"] is None
    assert parsed.sentinel_counts == {
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": 1,
        "DCGM_FI_PROF_DRAM_ACTIVE": 1,
        "DCGM_FI_DEV_GPU_UTIL": 1,
    }


def test_nan_is_a_blank_value_too() -> None:
    parsed = parse_exposition(MIG)
    assert parsed.sentinel_counts == {"DCGM_FI_PROF_GR_ENGINE_ACTIVE": 1}


def test_mig_instances_are_separate_rows_with_profile_and_instance_id() -> None:
    rows = rows_by(parse_exposition(MIG).table, "mig_instance_id", "time")
    small = rows[("9", "2026-11-02T10:00:00Z")]
    large = rows[("2", "2026-11-02T10:00:00Z")]
    assert small["mig_profile"] == "1g.10gb"
    assert large["mig_profile"] == "3g.40gb"
    assert small["memory_total_mib"] == 1002.0 + 8970.0
    assert large["gr_engine_active"] == pytest.approx(0.640625)


def test_newer_lowercase_hostname_and_exported_kubernetes_labels_win() -> None:
    row = rows_by(parse_exposition(MIG).table, "mig_instance_id", "time")[
        ("9", "2026-11-02T10:00:00Z")
    ]
    assert row["host"] == "ip-10-0-12-34.ec2.internal"
    assert row["namespace"] == "inference"
    assert row["pod"] == "embedder-5f7c9-abcde"
    assert row["container"] == "vllm"


def test_node_provider_id_label_fills_the_ec2_instance_id() -> None:
    table = parse_exposition(MIG).table
    assert set(table.column("instance_id").to_pylist()) == {"i-0a1b2c3d4e5f60718"}


def test_interval_is_the_median_spacing_of_each_gpus_samples() -> None:
    assert set(parse_exposition(A100).table.column("interval_s").to_pylist()) == {30.0}
    assert set(parse_exposition(MIG).table.column("interval_s").to_pylist()) == {15.0}


def test_a_lone_scrape_without_times_gets_the_time_flag_and_default_interval(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one.prom"
    path.write_text(LINE + "42\n")
    when = datetime(2026, 11, 5, 8, 30, tzinfo=UTC)
    table = parse_exposition(path, scrape_time=when).table
    assert table.column("time").to_pylist() == [when]
    assert table.column("interval_s").to_pylist() == [60.0]


def test_without_any_time_the_files_modification_time_is_used(tmp_path: Path) -> None:
    path = tmp_path / "one.prom"
    path.write_text(LINE + "42\n")
    os.utime(path, (1793613600, 1793613600))
    table = parse_exposition(path).table
    assert table.column("time").to_pylist() == [datetime.fromtimestamp(1793613600, UTC)]


def test_other_metrics_and_comments_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "mixed.prom"
    path.write_text(
        "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\n"
        "go_goroutines 17\n\n" + LINE + "5 1793613600000\n"
    )
    table = parse_exposition(path).table
    assert table.num_rows == 1
    assert table.column("gpu_util_pct").to_pylist() == [5.0]


def test_a_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.prom"
    path.write_text("# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n" + LINE + "5\nDCGM_FI_DEV_GPU_UTIL{gpu=\n")
    with pytest.raises(InputError) as caught:
        parse_exposition(path)
    assert caught.value.file == str(path)
    assert caught.value.row == 3


def test_a_non_numeric_value_names_line_and_metric(tmp_path: Path) -> None:
    path = tmp_path / "bad.prom"
    path.write_text(LINE + "5\n" + LINE + "busy\n")
    with pytest.raises(InputError) as caught:
        parse_exposition(path)
    assert (caught.value.row, caught.value.column) == (2, "DCGM_FI_DEV_GPU_UTIL")
    assert "busy" in str(caught.value)


def test_a_bad_scrape_time_comment_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.prom"
    path.write_text("# costrail-scrape-time: yesterday\n" + LINE + "5\n")
    with pytest.raises(InputError) as caught:
        parse_exposition(path)
    assert (caught.value.row, caught.value.column) == (1, "costrail-scrape-time")
