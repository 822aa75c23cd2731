"""`nvidia-smi --query-gpu … --format=csv` logs → gpu_samples rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from costrail.errors import ConfigError, InputError
from costrail.telemetry import parse_smi_csv
from tests.telemetry.helpers import FIXTURES, rows_by

LOG = FIXTURES / "a10g-box.csv"
NOHEADER = FIXTURES / "a10g-noheader.csv"


def test_values_with_units_are_read_as_numbers() -> None:
    row = rows_by(parse_smi_csv(LOG).table, "time")[("2026-11-02T09:00:00.117000Z",)]
    assert row["gpu_util_pct"] == 99.0
    assert row["memory_used_mib"] == 20536.0
    assert row["memory_total_mib"] == 23028.0
    assert row["power_w"] == pytest.approx(250.12)
    assert row["dram_active"] == pytest.approx(0.61)
    assert (row["gpu_index"], row["gpu_model"]) == (0, "NVIDIA A10G")
    assert row["gpu_uuid"] == "GPU-3b5e7a9c-2d4f-4a6b-8c1e-9f0a2b4c6d81"


def test_not_available_and_not_supported_are_missing_readings() -> None:
    rows = rows_by(parse_smi_csv(LOG).table, "time")
    assert rows[("2026-11-02T09:00:05.121000Z",)]["power_w"] is None
    assert rows[("2026-11-02T09:00:10.124000Z",)]["gpu_util_pct"] is None


def test_repeated_headers_of_concatenated_logs_are_skipped() -> None:
    assert parse_smi_csv(LOG).table.num_rows == 4


def test_host_is_the_file_stem_unless_given() -> None:
    assert set(parse_smi_csv(LOG).table.column("host").to_pylist()) == {"a10g-box"}
    named = parse_smi_csv(LOG, host="trainer-7").table
    assert set(named.column("host").to_pylist()) == {"trainer-7"}


def test_timestamps_are_utc_unless_a_time_zone_is_given() -> None:
    shifted = parse_smi_csv(LOG, tz="America/New_York").table.column("time").to_pylist()[0]
    assert shifted.isoformat() == "2026-11-02T14:00:00.117000+00:00"


def test_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        parse_smi_csv(LOG, tz="Mars/Olympus")


def test_noheader_nounits_logs_use_the_documented_field_order() -> None:
    rows = parse_smi_csv(NOHEADER).table.to_pylist()
    assert [row["gpu_util_pct"] for row in rows] == [12.0, 14.0]
    assert [row["power_w"] for row in rows] == [pytest.approx(71.40), None]
    assert rows[0]["interval_s"] == pytest.approx(60.003)


def test_a_non_numeric_value_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "box.csv"
    path.write_text(LOG.read_text().replace("40 %", "x").replace("61 %", "lots %"))
    with pytest.raises(InputError) as caught:
        parse_smi_csv(path)
    assert (caught.value.row, caught.value.column) == (2, "utilization.memory")


def test_a_short_line_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "box.csv"
    path.write_text(LOG.read_text() + "2026/11/02 09:30:05.004, NVIDIA A10G\n")
    with pytest.raises(InputError) as caught:
        parse_smi_csv(path)
    assert caught.value.row == 7


def test_a_malformed_timestamp_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "box.csv"
    path.write_text(NOHEADER.read_text().replace("2026/11/02 09:01:00.120", "2026/13/45 09:01"))
    with pytest.raises(InputError) as caught:
        parse_smi_csv(path)
    assert (caught.value.row, caught.value.column) == (2, "timestamp")
