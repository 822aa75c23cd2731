"""PyTorch helper: kill-and-resume with model, optimizer, scheduler, RNG and data position.

PyTorch is not a costrail dependency; these tests run only where it is installed.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
from pathlib import Path

import pytest

from costrail.spot import CheckpointStore, MissingExtraError
from tests.spot.job_control import REPO, job_command, kill_after_checkpoint, start_job

STEPS, EVERY = 120, 10

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="PyTorch is not installed (an optional extra, not a costrail dependency)",
)


def torch_job(store_url: str, out: Path, *extra: str) -> list[str]:
    return job_command("torch_job", store_url, out, STEPS, EVERY, *extra)


@needs_torch
def test_torch_job_killed_mid_run_resumes_with_identical_parameters(tmp_path: Path) -> None:
    import torch

    reference = tmp_path / "uninterrupted.pt"
    uninterrupted = subprocess.Popen(torch_job(str(tmp_path / "a"), reference), cwd=REPO)
    store_url, out = str(tmp_path / "b"), tmp_path / "resumed.pt"
    store = CheckpointStore(store_url)

    job = start_job(torch_job(store_url, out, "--step-delay-s", "0.01"))
    kill_after_checkpoint(store, job, min_step=40)
    assert job.returncode == -signal.SIGKILL and not out.exists()
    assert uninterrupted.wait(120) == 0
    resumed = subprocess.run(
        torch_job(store_url, out),
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
