"""Helpers for tests that run a training job in a subprocess and interrupt it."""

from __future__ import annotations

import subprocess
import time

from costrail.spot import CheckpointStore


def wait_for_checkpoint(
    store: CheckpointStore, job: subprocess.Popen[str], min_step: int, timeout_s: float = 60.0
) -> None:
    """Block until the job has a complete checkpoint at `min_step` or later; fail if it exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        latest = store.latest()
        if latest is not None and latest.step >= min_step:
            return
        assert job.poll() is None, job.stderr.read() if job.stderr else "the job exited early"
        assert time.monotonic() < deadline, "the job wrote no checkpoint in time"
        time.sleep(0.01)
