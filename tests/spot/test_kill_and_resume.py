"""A training loop killed mid-run resumes from its latest checkpoint and ends bit-identical.

The job (linear_job.py) runs in its own process, as a real one would: SIGKILL gives it no
chance to clean up (a spot VM vanishing, the OOM killer); SIGTERM is the graceful path
(Kubernetes pod deletion), where the watcher makes it write a final checkpoint first.
"""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import numpy as np

from costrail.spot import CheckpointStore
from tests.spot.job_control import (
    REPO,
    job_command,
    kill_after_checkpoint,
    start_job,
    wait_for_checkpoint,
)

STEPS, EVERY = 300, 20


def linear_job(store_url: str, out: Path, *extra: str) -> list[str]:
    return job_command("linear_job", store_url, out, STEPS, EVERY, *extra)


def run_job(store_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    """Run to the end (resuming if the store has a checkpoint); fails the test if it fails."""
    return subprocess.run(
        linear_job(store_url, out),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=REPO,
    )


def start_slowed_job(store_url: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    """Start a slowed-down run (5 ms a step) that a test can interrupt."""
    return start_job(linear_job(store_url, out, "--step-delay-s", "0.005", *extra))


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

    job = start_slowed_job(store_url, out)
    kill_after_checkpoint(store, job, min_step=100)
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

    job = start_slowed_job(store_url, out, "--watch-sigterm")
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
