"""Process → pod/container mapping over `/proc/<pid>/cgroup` files in the runtimes' real layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from costrail.gpu.agent.cgroups import CgroupResolver, PodDirectory, Workload, parse_cgroup

from .conftest import (
    CGROUPS,
    CONTAINER_CRIO,
    CONTAINER_PYTORCH,
    CONTAINER_VLLM,
    POD_LLM_UID,
    POD_TRAINER_UID,
    POD_UNNAMED_UID,
)


@pytest.mark.parametrize(
    ("layout", "pod_uid", "container_id", "runtime"),
    [
        ("v1-cgroupfs-docker", POD_TRAINER_UID, CONTAINER_PYTORCH, None),
        ("v1-systemd-docker", POD_TRAINER_UID, CONTAINER_PYTORCH, "docker"),
        ("v2-containerd", POD_LLM_UID, CONTAINER_VLLM, "containerd"),
        ("v2-crio-guaranteed", POD_UNNAMED_UID, CONTAINER_CRIO, "cri-o"),
        ("v2-docker-plain", None, CONTAINER_VLLM, "docker"),
        ("v1-docker-plain", None, CONTAINER_CRIO, "docker"),
    ],
)
def test_kubelet_and_runtime_layouts_give_pod_uid_and_container_id(
    layout: str, pod_uid: str | None, container_id: str, runtime: str | None
) -> None:
    workload = parse_cgroup((CGROUPS / layout).read_text())
    assert (workload.pod_uid, workload.container_id, workload.runtime) == (
        pod_uid,
        container_id,
        runtime,
    )


def test_systemd_driver_pod_uid_underscores_become_dashes() -> None:
    workload = parse_cgroup((CGROUPS / "v1-systemd-docker").read_text())
    assert workload.pod_uid is not None and "_" not in workload.pod_uid


@pytest.mark.parametrize(("layout", "job_id"), [("v2-slurm", "4242"), ("v1-slurm", "4243")])
def test_slurm_step_cgroup_gives_job_id(layout: str, job_id: str) -> None:
    assert parse_cgroup((CGROUPS / layout).read_text()).job_id == job_id


def test_host_session_process_maps_to_no_workload() -> None:
    assert parse_cgroup((CGROUPS / "v2-host-session").read_text()) == Workload()


def test_kubelet_log_folders_name_namespace_pod_and_container(resolver: CgroupResolver) -> None:
    workload = resolver.workload(5201)
    assert (workload.namespace, workload.pod, workload.container) == (
        "inference",
        "llm-api-5c9f",
        "vllm",
    )


def test_pod_missing_from_kubelet_logs_keeps_uid_without_names(resolver: CgroupResolver) -> None:
    workload = resolver.workload(5301)
    assert (workload.pod_uid, workload.pod, workload.namespace) == (POD_UNNAMED_UID, None, None)


def test_vanished_process_reads_as_bare_host(proc_root: Path, kubelet_logs: Path) -> None:
    resolver = CgroupResolver(proc_root, PodDirectory(kubelet_logs))
    assert resolver.workload(99999) == Workload()


def test_process_name_is_comm_not_command_line(resolver: CgroupResolver) -> None:
    assert resolver.process_name(4101) == "python3"
