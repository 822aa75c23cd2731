"""`costrail agent` end to end through the real pynvml path (this machine has no NVIDIA driver)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pynvml
import pytest
from typer.testing import CliRunner

from costrail.cli.main import app

#: the installed console script, so the test runs what a user runs
COSTRAIL = str(Path(sys.executable).parent / "costrail")


def _driver_present() -> bool:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


no_driver = pytest.mark.skipif(_driver_present(), reason="an NVIDIA driver is installed here")


@no_driver
def test_without_driver_exits_2_with_one_line_saying_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        [COSTRAIL, "agent", "--once", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert len(lines) == 1 and "no NVIDIA driver" in lines[0] and "dcgm-exporter" in lines[0]


@no_driver
def test_without_driver_no_segment_is_written(tmp_path: Path) -> None:
    CliRunner().invoke(app, ["agent", "--once", "--out", str(tmp_path / "segments")])
    assert not (tmp_path / "segments").exists()


@pytest.mark.parametrize(
    ("option", "value"), [("--interval", "soon"), ("--rotate", "0s"), ("--serve", "localhost")]
)
def test_bad_option_values_exit_2_before_touching_nvml(option: str, value: str) -> None:
    result = CliRunner().invoke(app, ["agent", option, value])
    assert result.exit_code == 2 and option in result.output
