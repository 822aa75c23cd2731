"""PyTorch helper: kill-and-resume with model, optimizer, scheduler, RNG and data position.

PyTorch is not a costrail dependency; these tests run only where it is installed.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from costrail.spot import CheckpointStore, MissingExtraError
from tests.spot.job_control import wait_for_checkpoint

JOB = Path(__file__).with_name("torch_job.py")
REPO = Path(__file__).resolve().parents[2]
STEPS, EVERY = 120, 10

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="PyTorch is not installed (an optional extra, not a costrail dependency)",
)


def job_command(store_url: str, out: Path, *extra: str) -> list[str]:
    steps = ["--steps", str(STEPS), "--every", str(EVERY)]
    return [sys.executable, str(JOB), store_url, str(out), *steps, *extra]


@needs_torch
def test_torch_job_killed_mid_run_resumes_with_identical_parameters(tmp_path: Path) -> None:
    import torch

    reference = tmp_path / "uninterrupted.pt"
    uninterrupted = subprocess.Popen(job_command(str(tmp_path / "a"), reference), cwd=REPO)
    store_url, out = str(tmp_path / "b"), tmp_path / "resumed.pt"
    store = CheckpointStore(store_url)

    job = subprocess.Popen(
        job_command(store_url, out, "--step-delay-s", "0.01"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        wait_for_checkpoint(store, job, min_step=40)
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait(10)
        job.communicate()
    assert job.returncode == -signal.SIGKILL and not out.exists()
    assert uninterrupted.wait(120) == 0
    resumed = subprocess.run(
        job_command(store_url, out),
        check=True,
        timeout=120,
        cwd=REPO,
        capture_output=True,
        text=True,
    )

    assert "resumed from step" in resumed.stdout
    expected, actual = torch.load(reference), torch.load(out)
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[name], actual[name]) for name in expected)


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is not None, reason="checks the message shown without PyTorch"
)
def test_without_torch_the_helper_says_what_to_install(tmp_path: Path) -> None:
    from costrail.spot.torch_state import restore_training_state

    class Model:
        def state_dict(self) -> dict[str, object]:
            return {}

        def load_state_dict(self, state: object, /) -> None:
            return None

    with pytest.raises(MissingExtraError, match="pip install torch"):
        restore_training_state(CheckpointStore(str(tmp_path)), model=Model())
