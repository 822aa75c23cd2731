"""A training loop killed mid-run resumes from its latest checkpoint and ends bit-identical.

The job (linear_job.py) runs in its own process, as a real one would: SIGKILL gives it no
chance to clean up (a spot VM vanishing, the OOM killer); SIGTERM is the graceful path
(Kubernetes pod deletion), where the watcher makes it write a final checkpoint first.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from costrail.spot import CheckpointStore
from tests.spot.job_control import wait_for_checkpoint

JOB = Path(__file__).with_name("linear_job.py")
REPO = Path(__file__).resolve().parents[2]
STEPS, EVERY = 300, 20


def job_command(store_url: str, out: Path, *extra: str) -> list[str]:
    steps = ["--steps", str(STEPS), "--every", str(EVERY)]
    return [sys.executable, str(JOB), store_url, str(out), *steps, *extra]


def run_job(store_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    """Run to the end (resuming if the store has a checkpoint); fails the test if it fails."""
    return subprocess.run(
        job_command(store_url, out),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=REPO,
    )


def start_job(store_url: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    """Start a slowed-down run (5 ms a step) that a test can interrupt."""
    return subprocess.Popen(
        job_command(store_url, out, "--step-delay-s", "0.005", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def uninterrupted_weights(tmp_path: Path) -> bytes:
    out = tmp_path / "uninterrupted.npy"
    run_job(str(tmp_path / "uninterrupted"), out)
    return weights_bytes(out)


def weights_bytes(path: Path) -> bytes:
    return bytes(np.load(path).tobytes())


def step_in(pattern: str, output: str) -> int:
    found = re.search(pattern, output)
    assert found is not None, output
    return int(found.group(1))


def test_job_killed_mid_run_resumes_and_ends_with_identical_weights(tmp_path: Path) -> None:
    expected = uninterrupted_weights(tmp_path)
    store_url, out = str(tmp_path / "interrupted"), tmp_path / "interrupted.npy"
    store = CheckpointStore(store_url)

    job = start_job(store_url, out)
    try:
        wait_for_checkpoint(store, job, min_step=100)
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait(10)
        job.communicate()
    assert job.returncode == -signal.SIGKILL and not out.exists()

    resumed = run_job(store_url, out)

    resumed_from = step_in(r"resumed from step (\d+)", resumed.stdout)
    assert 100 <= resumed_from < STEPS and resumed_from % EVERY == 0
    assert weights_bytes(out) == expected


def test_job_stopped_by_sigterm_checkpoints_where_it_stands_and_resumes_identically(
    tmp_path: Path,
) -> None:
    expected = uninterrupted_weights(tmp_path)
    store_url, out = str(tmp_path / "drained"), tmp_path / "drained.npy"
    store = CheckpointStore(store_url)

    job = start_job(store_url, out, "--watch-sigterm")
    wait_for_checkpoint(store, job, min_step=60)
    job.send_signal(signal.SIGTERM)
    stdout, stderr = job.communicate(timeout=30)
    assert job.returncode == 0, stderr
    stopped_at = step_in(r"preempted at step (\d+)", stdout)
    latest = store.latest()
    assert latest is not None and latest.step == stopped_at

    resumed = run_job(store_url, out)

    assert f"resumed from step {stopped_at}" in resumed.stdout
    assert weights_bytes(out) == expected
