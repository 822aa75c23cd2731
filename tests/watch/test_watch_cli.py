"""`costrail watch` as a process: the interval option, and a clean stop on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costrail.cli.watch import parse_every
from costrail.config import ConfigError


def test_every_accepts_seconds_minutes_hours_and_days() -> None:
    assert [parse_every(text) for text in ("90s", "15m", "1h", "1d")] == [90, 900, 3600, 86400]


def test_every_without_a_unit_is_refused_with_an_example() -> None:
    with pytest.raises(ConfigError, match=r"e\.g\. 90s, 15m, 1h, 1d"):
        parse_every("60")


def test_sigterm_stops_the_loop_after_the_running_cycle_with_exit_0(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    command = [
        str(Path(sys.executable).parent / "costrail"),
        "watch",
        "--every",
        "1h",
        "--source",
        "exports",
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    ]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("alerts:") or not line:
            break

    process.send_signal(signal.SIGTERM)
    remaining = process.communicate(timeout=30)[0]

    assert process.returncode == 0, "".join(lines) + remaining
    assert "stopping after this cycle" in remaining
