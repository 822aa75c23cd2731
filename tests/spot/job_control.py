"""Both sides of the kill-and-resume tests: the jobs' command line, and running and killing them.

The jobs (`linear_job`, `torch_job`) run as `python -m tests.spot.<job>` from the repository
root, in their own process, as a real training job would.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from costrail.spot import CheckpointStore

REPO = Path(__file__).resolve().parents[2]


# --- the job's side ------------------------------------------------------------------------------


def job_arguments(*flags: str) -> argparse.Namespace:
    """STORE_URL OUT --steps N --every K [--step-delay-s S], plus boolean `flags`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--every", type=int, required=True)
    parser.add_argument("--step-delay-s", type=float, default=0.0)
    for flag in flags:
        parser.add_argument(flag, action="store_true")
    return parser.parse_args()


def seed_global_generators(seed: int) -> None:
    """Seed Python's and NumPy's global generators, the state a fresh run starts from."""
    random.seed(seed)
    np.random.seed(seed)


# --- the test's side -----------------------------------------------------------------------------


def job_command(
    job: str, store_url: str, out: Path, steps: int, every: int, *extra: str
) -> list[str]:
    """The command line of job module `job` (e.g. "linear_job")."""
    schedule = ["--steps", str(steps), "--every", str(every)]
    return [sys.executable, "-m", f"tests.spot.{job}", store_url, str(out), *schedule, *extra]


def start_job(command: list[str]) -> subprocess.Popen[str]:
    """Start a job that a test will interrupt; its output is captured."""
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )


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


def kill_after_checkpoint(
    store: CheckpointStore, job: subprocess.Popen[str], min_step: int
) -> None:
    """SIGKILL the job once it has checkpointed `min_step`: no chance to clean up, as when a
    spot VM vanishes. The job is reaped whatever happens."""
    try:
        wait_for_checkpoint(store, job, min_step)
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait(10)
        job.communicate()
