"""Telemetry without any bill: `costrail findings` / `report` price idle GPUs from `--gpu-price`,
the `gpu:` section of costrail.yaml, or the catalog for `--gpu-model`, and say which."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from costrail.cli.main import app

runner = CliRunner()
START = datetime(2026, 11, 2, tzinfo=UTC)
HOURS = 24
GPUS = 2
#: a span of 24 hourly buckets is scaled to a 30-day month
MONTH_FACTOR = Decimal(30 * 24) / HOURS


def write_capture(path: Path, model: str | None) -> Path:
    """A day of dcgm-exporter scrapes (every 15 min, times in ms) of an idle 2-GPU box."""
    metrics = (
        ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "0"),
        ("DCGM_FI_DEV_FB_USED", "Frame buffer memory used (in MB).", "0"),
        ("DCGM_FI_DEV_FB_FREE", "Frame buffer memory free (in MB).", "23034"),
    )
    lines: list[str] = []
    for step in range(HOURS * 4):
        stamp = int((START + timedelta(minutes=15 * step)).timestamp() * 1000)
        for metric, help_text, value in metrics:
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
            for gpu in range(GPUS):
                labels = f'gpu="{gpu}",UUID="GPU-box7-{gpu}",device="nvidia{gpu}"'
                labels += f',modelName="{model}"' if model else ""
                labels += ',Hostname="gpu-box-7"'
                lines.append(f"{metric}{{{labels}}} {value} {stamp}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def telemetry_only(tmp_path: Path) -> str:
    """A warehouse holding one idle box's telemetry (no model label) and no bill at all."""
    url = str(tmp_path / "w.duckdb")
    capture = write_capture(tmp_path / "drop" / "gpu-box-7.prom", model=None)
    loaded = runner.invoke(app, ["ingest", "-w", url, str(capture.parent)])
    assert loaded.exit_code == 0, loaded.output
    return url


def idle_finding(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, ["findings", *args, "--kind", "gpu_idle", "--json"])
    assert result.exit_code == 0, result.output
    (finding,) = json.loads(result.stdout)
    return finding  # type: ignore[no-any-return]


def test_the_gpu_price_flag_prices_idle_gpus_without_a_bill(telemetry_only: str) -> None:
    finding = idle_finding(["-w", telemetry_only, "--gpu-price", "2.5"])

    assert finding["evidence"]["price_source"].startswith("configured")
    assert Decimal(str(finding["evidence"]["price_usd_per_gpu_hour"])) == Decimal("2.5")
    expected = GPUS * HOURS * Decimal("2.5") * MONTH_FACTOR
    assert Decimal(str(finding["monthly_savings_usd"])) == expected


def test_the_gpu_section_of_the_config_prices_idle_gpus(
    telemetry_only: str, tmp_path: Path
) -> None:
    config = tmp_path / "costrail.yaml"
    config.write_text("gpu:\n  default_usd_per_gpu_hour: 1.25\n", encoding="utf-8")

    finding = idle_finding(["-w", telemetry_only, "--config", str(config)])

    assert finding["evidence"]["price_source"].startswith("configured")
    expected = GPUS * HOURS * Decimal("1.25") * MONTH_FACTOR
    assert Decimal(str(finding["monthly_savings_usd"])) == expected


def test_the_gpu_model_flag_prices_unlabelled_gpus_from_the_catalog(telemetry_only: str) -> None:
    finding = idle_finding(["-w", telemetry_only, "--gpu-model", "NVIDIA L4"])

    assert finding["evidence"]["price_source"].startswith("catalog: ")
    price = Decimal(str(finding["evidence"]["price_usd_per_gpu_hour"]))
    assert 0 < price < 5  # an L4 GPU-hour, not an H100's


def test_without_model_or_price_an_unlabelled_gpu_is_reported_unpriced(telemetry_only: str) -> None:
    finding = idle_finding(["-w", telemetry_only])

    assert finding["evidence"]["price_source"].startswith("missing price")
    assert Decimal(str(finding["monthly_savings_usd"])) == 0


def test_a_bad_gpu_section_names_the_file_line_and_key(telemetry_only: str, tmp_path: Path) -> None:
    config = tmp_path / "costrail.yaml"
    config.write_text("warehouse: x\ngpu:\n  idle_min_hours: 0\n", encoding="utf-8")

    result = runner.invoke(app, ["findings", "-w", telemetry_only, "--config", str(config)])

    assert result.exit_code == 2
    assert f"{config}:3:gpu.idle_min_hours" in "".join(result.output.split())


def test_an_unknown_gpu_model_is_refused_with_the_known_ones(telemetry_only: str) -> None:
    result = runner.invoke(app, ["findings", "-w", telemetry_only, "--gpu-model", "Voodoo5"])

    assert result.exit_code == 2
    assert "H100-SXM" in result.output


def test_the_report_of_a_telemetry_only_warehouse_lists_the_priced_idle_gpus(
    telemetry_only: str,
) -> None:
    result = runner.invoke(app, ["report", "-w", telemetry_only, "--gpu-price", "2.5", "--json"])

    assert result.exit_code == 0, result.output
    kinds = [f["kind"] for f in json.loads(result.stdout)["findings"]]
    assert "gpu_idle" in kinds
