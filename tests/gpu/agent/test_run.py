"""The sampling loop over recorded GPU readings (`RecordedReader` replaces the hardware only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from costrail.gpu.agent.cgroups import CgroupResolver
from costrail.gpu.agent.nvml import GpuReading, ProcessReading, Snapshot
from costrail.gpu.agent.recorded import RecordedReader, load_snapshots
from costrail.gpu.agent.run import Agent, AgentOptions
from costrail.gpu.agent.segments import Rotation

from .conftest import DATA

H100 = DATA / "readings-2xh100.json"
MIG = DATA / "readings-a100-mig.json"
REPO = Path(__file__).resolve().parents[3]


def _agent(
    resolver: CgroupResolver, path: Path = H100, out: Path | None = None, **options: object
) -> Agent:
    clock_start = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    ticks = iter(range(10**6))
    return Agent(
        RecordedReader.from_file(path),
        AgentOptions(host="gpu-node-1", node="gpu-node-1", out_dir=out, **options),  # type: ignore[arg-type]
        resolver,
        clock=lambda: clock_start + timedelta(seconds=next(ticks)),
    )


def _rows_for(rows: list[dict[str, object]], gpu_index: int) -> list[dict[str, object]]:
    return [row for row in rows if row["gpu_index"] == gpu_index]


def test_two_processes_in_one_container_make_one_row(resolver: CgroupResolver) -> None:
    rows = _rows_for(_agent(resolver).tick(), 0)
    assert [(row["pod"], row["container"], row["process_count"]) for row in rows] == [
        ("trainer-0", "pytorch", 2)
    ]


def test_gpu_shared_by_two_pods_gives_one_row_per_pod(resolver: CgroupResolver) -> None:
    rows = _rows_for(_agent(resolver).tick(), 1)
    assert sorted((row["namespace"] or "", row["pod"]) for row in rows) == [
        ("", "d3c2b1a0-9f8e-4d7c-8b6a-5f4e3d2c1b0a"),
        ("inference", "llm-api-5c9f"),
    ]


def test_rows_of_a_shared_gpu_carry_the_whole_device_reading(resolver: CgroupResolver) -> None:
    rows = _rows_for(_agent(resolver).tick(), 1)
    assert {(row["gpu_util_pct"], row["memory_used_mib"], row["power_w"]) for row in rows} == {
        (35.0, 24576.0, 240.25)
    }


def test_gpu_without_processes_gives_one_row_with_zero_processes(resolver: CgroupResolver) -> None:
    rows = _rows_for(_agent(resolver).tick(), 2)
    assert [(row["pod"], row["process_count"]) for row in rows] == [(None, 0)]


def test_rows_are_marked_agent_with_the_sampling_interval(resolver: CgroupResolver) -> None:
    rows = _agent(resolver, interval_s=10.0).tick()
    assert {(row["source"], row["interval_s"]) for row in rows} == {("agent", 10.0)}


def test_recorded_gpm_activity_lands_in_its_columns(resolver: CgroupResolver) -> None:
    row = _rows_for(_agent(resolver).tick(), 0)[0]
    assert (row["sm_active"], row["tensor_active"]) == (0.71, 0.42)


def test_gpu_without_gpm_leaves_activity_null(resolver: CgroupResolver) -> None:
    row = _rows_for(_agent(resolver).tick(), 2)[0]
    assert (row["sm_active"], row["gpu_util_pct"]) == (None, 0.0)


def test_unreadable_gpu_is_counted_and_the_others_still_sampled(resolver: CgroupResolver) -> None:
    agent = _agent(resolver)
    agent.tick()
    rows = agent.tick()
    assert (agent.stats.read_failures, sorted({row["gpu_index"] for row in rows})) == (1, [0, 2])


def test_a_gpu_failing_every_tick_is_counted_each_time_but_logged_once(
    resolver: CgroupResolver, caplog: pytest.LogCaptureFixture
) -> None:
    lost_gpu_snapshot = load_snapshots(H100)[1]  # GPU 1 is lost in this recording
    agent = Agent(RecordedReader([lost_gpu_snapshot]), AgentOptions(host="h", node="h"), resolver)
    for _ in range(6):
        agent.tick()
    lost = [r for r in caplog.records if "GPU 1 could not be read" in r.getMessage()]
    assert (len(lost), agent.stats.read_failures) == (1, 6)


def test_mig_instances_are_rows_with_profile_and_parent_uuid(resolver: CgroupResolver) -> None:
    rows = _agent(resolver, MIG).tick()
    assert sorted(
        (row["mig_profile"], row["mig_instance_id"], row["gpu_uuid"]) for row in rows
    ) == [
        ("1g.5gb", "7", "GPU-7b8c9d00-aaaa-4bbb-8ccc-0123456789ab"),
        ("2g.10gb", "3", "GPU-7b8c9d00-aaaa-4bbb-8ccc-0123456789ab"),
    ]


def test_slurm_job_id_is_filled_from_the_process_cgroup(resolver: CgroupResolver) -> None:
    rows = _agent(resolver, MIG).tick()
    assert {row["mig_profile"]: row["job_id"] for row in rows} == {
        "1g.5gb": "4242",
        "2g.10gb": None,
    }


def test_two_slurm_jobs_on_one_gpu_give_two_rows(resolver: CgroupResolver) -> None:
    reading = GpuReading(
        gpu_index=0,
        gpu_uuid="GPU-0",
        gpu_model="NVIDIA L4",
        pci_bus_id="00000000:01:00.0",
        memory_used_mib=2000.0,
        memory_total_mib=23034.0,
        processes=(ProcessReading(6101, 1000.0), ProcessReading(6102, 1000.0)),
    )
    agent = Agent(
        RecordedReader([Snapshot((reading,))]), AgentOptions(host="h", node="h"), resolver
    )
    assert sorted(row["job_id"] for row in agent.tick()) == ["4242", "4243"]


def test_once_takes_one_sample_writes_it_and_closes_the_reader(
    resolver: CgroupResolver, tmp_path: Path
) -> None:
    agent = _agent(resolver, out=tmp_path, once=True)
    stats = agent.run()
    assert (stats.ticks, pq.read_metadata(stats.segments[0]).num_rows) == (1, 4)
    assert agent.reader.closed  # type: ignore[attr-defined]


def test_duration_bounds_the_number_of_ticks(resolver: CgroupResolver, tmp_path: Path) -> None:
    stats = _agent(resolver, out=tmp_path, interval_s=0.05, duration_s=0.25).run()
    assert stats.ticks == 5


def test_sigterm_flushes_the_open_segment(tmp_path: Path) -> None:
    """A real child process running the loop at 10 Hz is stopped with SIGTERM."""
    script = (
        "from pathlib import Path\n"
        "from costrail.gpu.agent.recorded import RecordedReader\n"
        "from costrail.gpu.agent.run import Agent, AgentOptions\n"
        "from costrail.gpu.agent.segments import Rotation\n"
        f"reader = RecordedReader.from_file(Path({str(H100)!r}))\n"
        f"options = AgentOptions(host='h', node='h', interval_s=0.1,"
        f" out_dir=Path({str(tmp_path)!r}), rotation=Rotation(every_s=3600))\n"
        "agent = Agent(reader, options)\n"
        "agent.install_signal_handlers()\n"
        "print('ready', flush=True)\n"
        "agent.run()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    os.kill(child.pid, signal.SIGTERM)
    assert child.wait(timeout=10) == 0
    segments = list(tmp_path.glob("gpu-samples-h-*.parquet"))
    assert len(segments) == 1 and pq.read_metadata(segments[0]).num_rows > 0


def test_time_rotation_writes_several_segments_during_a_run(
    resolver: CgroupResolver, tmp_path: Path
) -> None:
    agent = _agent(
        resolver, out=tmp_path, interval_s=0.01, duration_s=0.1, rotation=Rotation(every_s=3)
    )
    stats = agent.run()
    assert len(stats.segments) == 4
