"""`NvmlReader` unit conversions and MIG handling over a stand-in for the NVML driver library.

No GPU exists where these tests run, so `_Driver` replaces libnvidia-ml (the hardware side)
with pynvml's own functions' signatures, pynvml's real ctypes structs and its real error
classes; everything in `NvmlReader` runs as it does on a GPU host.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

from costrail.gpu.agent.nvml import NvmlReader

MIB = 1024 * 1024


def _memory(total_mib: int, used_mib: int) -> pynvml.c_nvmlMemory_t:
    memory = pynvml.c_nvmlMemory_t()
    memory.total, memory.used = total_mib * MIB, used_mib * MIB
    memory.free = (total_mib - used_mib) * MIB
    return memory


class _Driver:
    """GPU 0: whole H100; GPU 1: A100 in MIG mode with one instance; GPU 2: fallen off the bus."""

    def __init__(self) -> None:
        for name in dir(pynvml):
            if name.startswith(("NVML_", "NVMLError", "c_nvml")):
                setattr(self, name, getattr(pynvml, name))
        self.shutdown = False

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        if index == 2:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        return SimpleNamespace(index=index, mig=False)

    def nvmlDeviceGetUUID(self, handle: Any) -> str:
        return f"GPU-000{handle.index}"

    def nvmlDeviceGetName(self, handle: Any) -> str:
        if handle.mig:
            return "NVIDIA A100-SXM4-40GB MIG 1g.5gb"
        return ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"][handle.index]

    def nvmlDeviceGetPciInfo(self, handle: Any) -> pynvml.nvmlPciInfo_t:
        info = pynvml.nvmlPciInfo_t()
        info.busId = f"00000000:1{handle.index}:00.0".encode()
        return info

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> pynvml.c_nvmlMemory_t:
        return _memory(4864, 1000) if handle.mig else _memory(81559, 40960)

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> pynvml.c_nvmlUtilization_t:
        rates = pynvml.c_nvmlUtilization_t()
        rates.gpu, rates.memory = 87, 40
        return rates

    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        return 412_345  # milliwatts

    def nvmlDeviceGetComputeRunningProcesses(self, handle: Any) -> list[Any]:
        return [SimpleNamespace(pid=77, usedGpuMemory=None if handle.mig else 2048 * MIB)]

    def nvmlGpmQueryDeviceSupport(self, handle: Any) -> Any:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)

    def nvmlDeviceGetMigMode(self, handle: Any) -> list[int]:
        if handle.index == 0:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return [pynvml.NVML_DEVICE_MIG_ENABLE, pynvml.NVML_DEVICE_MIG_ENABLE]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: Any) -> int:
        return 2

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: Any, slot: int) -> Any:
        if slot == 1:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)
        return SimpleNamespace(index=handle.index, mig=True)

    def nvmlDeviceGetGpuInstanceId(self, handle: Any) -> int:
        return 7

    def nvmlShutdown(self) -> None:
        self.shutdown = True


@pytest.fixture
def snapshot() -> Any:
    return NvmlReader(_Driver(), 3).read()


def test_memory_is_mib_power_is_watts_util_is_percent(snapshot: Any) -> None:
    h100 = snapshot.readings[0]
    assert (h100.memory_used_mib, h100.memory_total_mib, h100.power_w, h100.gpu_util_pct) == (
        40960.0,
        81559.0,
        412.345,
        87.0,
    )


def test_bus_id_bytes_are_decoded(snapshot: Any) -> None:
    assert snapshot.readings[0].pci_bus_id == "00000000:10:00.0"


def test_process_memory_is_mib_and_unknown_stays_none(snapshot: Any) -> None:
    assert [p.used_memory_mib for r in snapshot.readings for p in r.processes] == [2048.0, None]


def test_mig_gpu_reads_as_its_instances_with_profile_and_no_util(snapshot: Any) -> None:
    mig = snapshot.readings[1]
    assert (mig.mig_profile, mig.mig_instance_id, mig.gpu_uuid, mig.gpu_util_pct) == (
        "1g.5gb",
        "7",
        "GPU-0001",
        None,
    )


def test_gpu_without_gpm_has_no_activity_ratios(snapshot: Any) -> None:
    assert snapshot.readings[0].sm_active is None


def test_lost_gpu_is_a_failure_not_an_exception(snapshot: Any) -> None:
    assert [(f.gpu_index, f.message) for f in snapshot.failures] == [(2, "GPU is lost")]


def test_close_shuts_nvml_down() -> None:
    driver = _Driver()
    NvmlReader(driver, 1).close()
    assert driver.shutdown
