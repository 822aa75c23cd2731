"""/metrics over real HTTP on 127.0.0.1, parsed with prometheus-client's own text parser."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from costrail.gpu.agent.cgroups import CgroupResolver
from costrail.gpu.agent.metrics import parse_listen
from costrail.gpu.agent.recorded import RecordedReader
from costrail.gpu.agent.run import Agent, AgentOptions

from .conftest import DATA

UUID_0 = "GPU-5a3f2c11-8d0e-4b7a-9f61-0c2e7d4b9a01"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(resolver: CgroupResolver, readings: str, **options: object) -> list[Sample]:
    """Run the real loop with the endpoint on, scrape once after the first tick, then stop."""
    port = _free_port()
    agent = Agent(
        RecordedReader.from_file(DATA / readings),
        AgentOptions(
            host="gpu-node-1",
            node="gpu-node-1",
            interval_s=0.05,
            serve_address=f"127.0.0.1:{port}",
            **options,  # type: ignore[arg-type]
        ),
        resolver,
        clock=lambda: datetime.now(UTC),
    )
    first = threading.Event()
    original_tick = agent.tick

    def tick() -> list[dict[str, object]]:
        rows = original_tick()
        first.set()
        agent.stop_event.wait()  # hold the readings of the first tick until scraped
        return rows

    agent.tick = tick  # type: ignore[method-assign]
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        assert first.wait(10)
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        agent.stop_event.set()
        runner.join(10)
    return [s for family in text_string_to_metric_families(body) for s in family.samples]


@pytest.fixture
def samples(resolver: CgroupResolver) -> Iterator[list[Sample]]:
    yield _scrape(resolver, "readings-2xh100.json")


def _one(samples: list[Sample], name: str, **labels: str) -> Sample:
    found = [s for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, found
    return found[0]


def test_gpu_util_is_served_under_the_dcgm_name_with_dcgm_labels(samples: list[Sample]) -> None:
    sample = _one(samples, "DCGM_FI_DEV_GPU_UTIL", UUID=UUID_0)
    assert sample.value == 97.0
    assert {
        k: sample.labels[k] for k in ("gpu", "device", "modelName", "Hostname", "pci_bus_id")
    } == {
        "gpu": "0",
        "device": "nvidia0",
        "modelName": "NVIDIA H100 80GB HBM3",
        "Hostname": "gpu-node-1",
        "pci_bus_id": "00000000:18:00.0",
    }


def test_memory_and_power_are_in_dcgm_units(samples: list[Sample]) -> None:
    values = [
        _one(samples, name, UUID=UUID_0).value
        for name in ("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_POWER_USAGE")
    ]
    assert values == [61440.0, 19600.0, 612.5]


def test_mapped_pod_labels_are_attached(samples: list[Sample]) -> None:
    sample = _one(samples, "DCGM_FI_DEV_GPU_UTIL", UUID=UUID_0)
    assert (sample.labels["namespace"], sample.labels["pod"], sample.labels["container"]) == (
        "ml-team",
        "trainer-0",
        "pytorch",
    )


def test_shared_gpu_has_one_series_per_pod(samples: list[Sample]) -> None:
    pods = {
        s.labels.get("pod")
        for s in samples
        if s.name == "DCGM_FI_DEV_FB_USED" and s.labels["gpu"] == "1"
    }
    assert pods == {"llm-api-5c9f", "d3c2b1a0-9f8e-4d7c-8b6a-5f4e3d2c1b0a"}


def test_per_process_memory_has_pid_but_no_name_by_default(samples: list[Sample]) -> None:
    sample = _one(samples, "costrail_agent_process_gpu_memory_used_mib", pid="5201")
    assert sample.value == 16384.0 and "process_name" not in sample.labels


def test_process_names_flag_adds_the_comm_name(resolver: CgroupResolver) -> None:
    samples = _scrape(resolver, "readings-2xh100.json", process_names=True)
    sample = _one(samples, "costrail_agent_process_gpu_memory_used_mib", pid="5201")
    assert sample.labels["process_name"] == "python3"


def test_mig_series_carry_dcgm_mig_labels(resolver: CgroupResolver) -> None:
    samples = _scrape(resolver, "readings-a100-mig.json")
    sample = _one(samples, "DCGM_FI_DEV_FB_USED", GPU_I_PROFILE="1g.5gb")
    assert (sample.labels["GPU_I_ID"], sample.value) == ("7", 3900.0)


def test_no_util_series_for_mig_instances_nvml_cannot_measure(resolver: CgroupResolver) -> None:
    samples = _scrape(resolver, "readings-a100-mig.json")
    assert [s for s in samples if s.name == "DCGM_FI_DEV_GPU_UTIL"] == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (":9400", ("0.0.0.0", 9400)),
        ("127.0.0.1:9401", ("127.0.0.1", 9401)),
        ("[::1]:9", ("::1", 9)),
    ],
)
def test_listen_address_forms(address: str, expected: tuple[str, int]) -> None:
    assert parse_listen(address) == expected


def test_listen_address_without_port_is_rejected() -> None:
    with pytest.raises(ValueError, match="HOST"):
        parse_listen("localhost")


def test_port_already_in_use_is_a_clear_error(resolver: CgroupResolver) -> None:
    from costrail.errors import ConfigError
    from costrail.gpu.agent.metrics import AgentCollector, serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="cannot listen"):
            serve(AgentCollector(), f"127.0.0.1:{port}")
