"""Fixtures: a host /proc tree and kubelet log folders in their real layouts, under tmp."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from costrail.gpu.agent.cgroups import CgroupResolver, PodDirectory

DATA = Path(__file__).parent / "data"
CGROUPS = DATA / "cgroup"

POD_TRAINER_UID = "0b5d3f4e-8a3c-4f53-9c59-2b7a8d1e6f10"
POD_LLM_UID = "4c6e8a1b-2d3f-4a5b-9c8d-7e6f5a4b3c2d"
POD_UNNAMED_UID = "d3c2b1a0-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
CONTAINER_PYTORCH = "6c1e0f4d2b9a8e7f6c5d4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
CONTAINER_VLLM = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
CONTAINER_CRIO = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"

#: which recorded PID runs in which cgroup layout (pids match readings-*.json)
PID_LAYOUTS = {
    4101: "v1-cgroupfs-docker",
    4102: "v1-cgroupfs-docker",
    5201: "v2-containerd",
    5301: "v2-crio-guaranteed",
    6101: "v2-slurm",
    6102: "v1-slurm",
}


@pytest.fixture
def proc_root(tmp_path: Path) -> Path:
    """`/proc/<pid>/cgroup` and `/proc/<pid>/comm` for the recorded PIDs."""
    root = tmp_path / "proc"
    for pid, layout in PID_LAYOUTS.items():
        (root / str(pid)).mkdir(parents=True)
        shutil.copy(CGROUPS / layout, root / str(pid) / "cgroup")
        (root / str(pid) / "comm").write_text("python3\n")
    return root


@pytest.fixture
def kubelet_logs(tmp_path: Path) -> Path:
    """`/var/log/pods/<ns>_<pod>_<uid>/` and `/var/log/containers/<pod>_<ns>_<ctr>-<id>.log`."""
    root = tmp_path / "var-log"
    (root / "pods" / f"ml-team_trainer-0_{POD_TRAINER_UID}" / "pytorch").mkdir(parents=True)
    (root / "pods" / f"inference_llm-api-5c9f_{POD_LLM_UID}" / "vllm").mkdir(parents=True)
    containers = root / "containers"
    containers.mkdir()
    for name, target in (
        (f"trainer-0_ml-team_pytorch-{CONTAINER_PYTORCH}.log", "trainer"),
        (f"llm-api-5c9f_inference_vllm-{CONTAINER_VLLM}.log", "llm"),
    ):
        (containers / name).symlink_to(root / "pods" / target / "0.log")
    return root


@pytest.fixture
def resolver(proc_root: Path, kubelet_logs: Path) -> CgroupResolver:
    return CgroupResolver(proc_root, PodDirectory(kubelet_logs))
