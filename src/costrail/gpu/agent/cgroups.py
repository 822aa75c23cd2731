"""Process → container / Kubernetes pod / Slurm job, from `/proc/<pid>/cgroup` and kubelet logs."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

#: `pod<uid>`: dashes under cgroupfs (`pod1a2b…-…`), underscores under the systemd driver
_POD_UID = re.compile(
    r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})"
)
#: the last path element naming a container: `docker-<id>.scope`, `cri-containerd-<id>.scope`,
#: `crio-<id>.scope`, or a bare 64-hex id (cgroupfs driver, `/docker/<id>`)
_CONTAINER = re.compile(r"(?:(docker|cri-containerd|containerd|crio)-)?([0-9a-f]{64})(?:\.scope)?")
_RUNTIMES = {
    "docker": "docker",
    "cri-containerd": "containerd",
    "containerd": "containerd",
    "crio": "cri-o",
}
_SLURM_JOB = re.compile(r"/job_(\d+)(?:/|$)")


@dataclass(frozen=True)
class Workload:
    """Who a process belongs to. Every field is None when the process runs on the bare host."""

    container_id: str | None = None
    runtime: str | None = None
    pod_uid: str | None = None
    namespace: str | None = None
    pod: str | None = None
    container: str | None = None
    job_id: str | None = None

    @property
    def key(self) -> tuple[str | None, str | None, str | None]:
        """Rows are split per (pod, container, Slurm job) holding a GPU."""
        return (self.pod_uid, self.container_id, self.job_id)


def _cgroup_paths(cgroup_text: str) -> list[str]:
    """The paths of `hierarchy-id:controllers:path` lines (v1 has many, v2 has one `0::`)."""
    paths: list[str] = []
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[2].strip():
            paths.append(parts[2].strip())
    return paths


def parse_cgroup(cgroup_text: str) -> Workload:
    """Read the container id, runtime, pod uid and Slurm job id out of a cgroup file's text.

    The first path that names a pod or a container wins: under cgroup v1 every controller
    line carries the same kubelet path, under v2 there is a single `0::` line.
    """
    for path in _cgroup_paths(cgroup_text):
        workload = _parse_path(path)
        if workload != Workload():
            return workload
    return Workload()


def _parse_path(path: str) -> Workload:
    pod_match = _POD_UID.search(path)
    pod_uid = pod_match.group(1).replace("_", "-") if pod_match else None
    leaf = path.rstrip("/").rsplit("/", 1)[-1]
    container_match = _CONTAINER.fullmatch(leaf)
    container_id = container_match.group(2) if container_match else None
    runtime = None
    if container_match and container_match.group(1):
        runtime = _RUNTIMES[container_match.group(1)]
    elif container_id and path.startswith("/docker/"):
        runtime = "docker"
    job_match = _SLURM_JOB.search(path) if "/slurm" in path else None
    return Workload(
        container_id=container_id,
        runtime=runtime,
        pod_uid=pod_uid,
        job_id=job_match.group(1) if job_match else None,
    )


class PodDirectory:
    """Pod uid → (namespace, pod name) and container id → container name, from kubelet logs.

    The kubelet writes `/var/log/pods/<namespace>_<pod>_<uid>/` and links
    `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log`; reading those names
    needs no API token. An unknown id triggers a rescan, at most one per `rescan_every_s` (so a
    host without kubelet logs costs nothing per tick); names stay None when not resolvable.
    """

    def __init__(self, log_root: Path = Path("/var/log"), rescan_every_s: float = 10.0) -> None:
        self._log_root = log_root
        self._rescan_every_s = rescan_every_s
        self._last_scan_s = float("-inf")
        self._pods: dict[str, tuple[str, str]] = {}
        self._containers: dict[str, str] = {}

    def rescan(self) -> None:
        now_s = time.monotonic()
        if now_s - self._last_scan_s < self._rescan_every_s:
            return
        self._last_scan_s = now_s
        pods_dir = self._log_root / "pods"
        if pods_dir.is_dir():
            for entry in pods_dir.iterdir():
                parts = entry.name.split("_")
                if len(parts) == 3:
                    namespace, pod, uid = parts
                    self._pods[uid] = (namespace, pod)
        containers_dir = self._log_root / "containers"
        if containers_dir.is_dir():
            for entry in containers_dir.iterdir():
                name = entry.name.removesuffix(".log")
                parts = name.split("_")
                if len(parts) == 3 and "-" in parts[2]:
                    container, container_id = parts[2].rsplit("-", 1)
                    self._containers[container_id] = container

    def resolve(self, workload: Workload) -> Workload:
        if (workload.pod_uid and workload.pod_uid not in self._pods) or (
            workload.container_id and workload.container_id not in self._containers
        ):
            self.rescan()
        names = self._pods.get(workload.pod_uid or "")
        return Workload(
            container_id=workload.container_id,
            runtime=workload.runtime,
            pod_uid=workload.pod_uid,
            namespace=names[0] if names else None,
            pod=names[1] if names else None,
            container=self._containers.get(workload.container_id or ""),
            job_id=workload.job_id,
        )


class CgroupResolver:
    """PID → `Workload`, reading `<proc_root>/<pid>/cgroup` (mount the host's /proc in pods)."""

    def __init__(self, proc_root: Path = Path("/proc"), pods: PodDirectory | None = None) -> None:
        self._proc_root = proc_root
        self._pods = pods or PodDirectory()

    def workload(self, pid: int) -> Workload:
        """A vanished process or an unreadable file reads as the bare host, never an error."""
        try:
            text = (self._proc_root / str(pid) / "cgroup").read_text()
        except OSError:
            return Workload()
        return self._pods.resolve(parse_cgroup(text))

    def process_name(self, pid: int) -> str | None:
        """The short name (`comm`, never the command line); only used with --process-names."""
        try:
            return (self._proc_root / str(pid) / "comm").read_text().strip() or None
        except OSError:
            return None
