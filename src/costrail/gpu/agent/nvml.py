"""The sampling seam: what one look at the GPUs returns, and the real reader over pynvml."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from costrail.errors import CostrailError

log = logging.getLogger(__name__)

_MIB = 1024 * 1024


@dataclass(frozen=True)
class ProcessReading:
    """One compute process on a GPU; memory is None when the driver cannot attribute it."""

    pid: int
    used_memory_mib: float | None


@dataclass(frozen=True)
class GpuReading:
    """One GPU (or MIG instance) at one instant, in the units of `gpu_samples`.

    A MIG instance carries its parent's index, UUID, model and bus id (as dcgm-exporter labels
    it) plus `mig_profile` / `mig_instance_id`. Fields NVML cannot give for a device are None,
    never zero: NVML has no per-MIG utilisation or power, and GPM ratios exist on Hopper+ only.
    """

    gpu_index: int
    gpu_uuid: str
    gpu_model: str
    pci_bus_id: str
    memory_used_mib: float | None
    memory_total_mib: float | None
    memory_free_mib: float | None = None
    gpu_util_pct: float | None = None
    power_w: float | None = None
    mig_profile: str | None = None
    mig_instance_id: str | None = None
    sm_active: float | None = None
    tensor_active: float | None = None
    gr_engine_active: float | None = None
    dram_active: float | None = None
    processes: tuple[ProcessReading, ...] = ()


@dataclass(frozen=True)
class ReadFailure:
    """A GPU that could not be read this tick; counted and logged, never fatal."""

    gpu_index: int
    message: str


@dataclass(frozen=True)
class Snapshot:
    readings: tuple[GpuReading, ...]
    failures: tuple[ReadFailure, ...] = field(default=())


class GpuReader(Protocol):
    """Anything that can look at the GPUs once; the loop never talks to NVML directly."""

    def read(self) -> Snapshot: ...

    def close(self) -> None: ...


class NvmlUnavailable(CostrailError):
    """No NVIDIA driver or no GPU: the agent has nothing to sample (exit code 2)."""

    exit_code = 2


_NO_DRIVER_HINT = (
    "install the NVIDIA driver on this host (or run the agent with the NVIDIA container "
    "runtime), or feed costrail dcgm-exporter scrapes or nvidia-smi logs instead"
)


def open_nvml_reader() -> NvmlReader:
    """Initialise NVML, or raise `NvmlUnavailable` saying what is missing and what to do."""
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound as error:
        raise NvmlUnavailable(
            f"no NVIDIA driver: libnvidia-ml.so was not found ({error}); {_NO_DRIVER_HINT}"
        ) from error
    except pynvml.NVMLError_DriverNotLoaded as error:
        raise NvmlUnavailable(
            f"no NVIDIA driver: the kernel module is not loaded ({error}); {_NO_DRIVER_HINT}"
        ) from error
    except pynvml.NVMLError as error:
        raise NvmlUnavailable(f"NVML could not start ({error}); {_NO_DRIVER_HINT}") from error
    count = pynvml.nvmlDeviceGetCount()
    if count == 0:
        pynvml.nvmlShutdown()
        raise NvmlUnavailable(f"no NVIDIA GPU found by the driver; {_NO_DRIVER_HINT}")
    return NvmlReader(pynvml, count)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NvmlReader:
    """The real reader: one NVML pass over every GPU and MIG instance.

    GPM (GPU Performance Monitoring, Hopper and newer) gives true SM / tensor / graphics /
    DRAM activity between two samples; on older GPUs those stay None and only the NVML
    utilisation rate (a kernel ran at all) is filled.
    """

    def __init__(self, nvml: Any, count: int) -> None:
        self._nvml = nvml
        self._count = count
        self._gpm_previous: dict[int, Any] = {}
        self._gpm_supported: dict[int, bool] = {}

    def read(self) -> Snapshot:
        readings: list[GpuReading] = []
        failures: list[ReadFailure] = []
        for index in range(self._count):
            try:
                readings.extend(self._read_gpu(index))
            except self._nvml.NVMLError as error:
                failures.append(ReadFailure(index, str(error)))
        return Snapshot(tuple(readings), tuple(failures))

    def close(self) -> None:
        for sample in self._gpm_previous.values():
            self._optional(self._nvml.nvmlGpmSampleFree, sample)
        self._gpm_previous.clear()
        self._nvml.nvmlShutdown()

    def _optional(self, call: Any, *args: Any) -> Any:
        """NVML calls a device may not support (NOT_SUPPORTED, NO_PERMISSION): None, not error."""
        try:
            return call(*args)
        except self._nvml.NVMLError:
            return None

    def _read_gpu(self, index: int) -> list[GpuReading]:
        nvml = self._nvml
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        uuid = _text(nvml.nvmlDeviceGetUUID(handle))
        model = _text(nvml.nvmlDeviceGetName(handle))
        bus_id = _text(nvml.nvmlDeviceGetPciInfo(handle).busId)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        util = self._optional(nvml.nvmlDeviceGetUtilizationRates, handle)
        power_mw = self._optional(nvml.nvmlDeviceGetPowerUsage, handle)
        processes = self._processes(handle)
        activity = self._gpm_activity(index, handle)
        whole = GpuReading(
            gpu_index=index,
            gpu_uuid=uuid,
            gpu_model=model,
            pci_bus_id=bus_id,
            memory_used_mib=memory.used / _MIB,
            memory_total_mib=memory.total / _MIB,
            memory_free_mib=memory.free / _MIB,
            gpu_util_pct=float(util.gpu) if util is not None else None,
            power_w=power_mw / 1000.0 if power_mw is not None else None,
            processes=processes,
            sm_active=activity.get("sm_active"),
            tensor_active=activity.get("tensor_active"),
            gr_engine_active=activity.get("gr_engine_active"),
            dram_active=activity.get("dram_active"),
        )
        mig_readings = self._mig_readings(handle, whole)
        return mig_readings or [whole]

    def _processes(self, handle: Any) -> tuple[ProcessReading, ...]:
        found = self._optional(self._nvml.nvmlDeviceGetComputeRunningProcesses, handle) or []
        return tuple(
            ProcessReading(
                pid=int(process.pid),
                used_memory_mib=(
                    process.usedGpuMemory / _MIB if process.usedGpuMemory is not None else None
                ),
            )
            for process in found
        )

    def _gpm_activity(self, index: int, handle: Any) -> dict[str, float | None]:
        """SM / tensor / graphics / DRAM activity (fractions) over the last interval, via GPM."""
        nvml = self._nvml
        if index not in self._gpm_supported:
            support = self._optional(nvml.nvmlGpmQueryDeviceSupport, handle)
            self._gpm_supported[index] = bool(support and support.isSupportedDevice)
        if not self._gpm_supported[index]:
            return {}
        sample = self._optional(nvml.nvmlGpmSampleAlloc)
        if sample is None:
            return {}
        if self._optional(nvml.nvmlGpmSampleGet, handle, sample) is None:
            self._optional(nvml.nvmlGpmSampleFree, sample)
            return {}
        previous = self._gpm_previous.get(index)
        self._gpm_previous[index] = sample
        if previous is None:
            return {}
        wanted = {
            "sm_active": nvml.NVML_GPM_METRIC_SM_UTIL,
            "tensor_active": nvml.NVML_GPM_METRIC_ANY_TENSOR_UTIL,
            "gr_engine_active": nvml.NVML_GPM_METRIC_GRAPHICS_UTIL,
            "dram_active": nvml.NVML_GPM_METRIC_DRAM_BW_UTIL,
        }
        request = nvml.c_nvmlGpmMetricsGet_t()
        request.version = nvml.NVML_GPM_METRICS_GET_VERSION
        request.numMetrics = len(wanted)
        request.sample1 = previous
        request.sample2 = sample
        for slot, metric_id in enumerate(wanted.values()):
            request.metrics[slot].metricId = metric_id
        answered = self._optional(nvml.nvmlGpmMetricsGet, request)
        self._optional(nvml.nvmlGpmSampleFree, previous)
        if answered is None:
            return {}
        activity: dict[str, float | None] = {}
        for slot, name in enumerate(wanted):
            metric = answered.metrics[slot]
            ok = metric.nvmlReturn == nvml.NVML_SUCCESS
            activity[name] = metric.value / 100.0 if ok else None
        return activity

    def _mig_readings(self, handle: Any, whole: GpuReading) -> list[GpuReading]:
        """One reading per MIG instance when MIG mode is on; [] otherwise."""
        nvml = self._nvml
        mode = self._optional(nvml.nvmlDeviceGetMigMode, handle)
        if not mode or mode[0] != nvml.NVML_DEVICE_MIG_ENABLE:
            return []
        readings: list[GpuReading] = []
        for slot in range(nvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
            mig = self._optional(nvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, slot)
            if mig is None:
                continue
            memory = nvml.nvmlDeviceGetMemoryInfo(mig)
            name = _text(nvml.nvmlDeviceGetName(mig))
            readings.append(
                GpuReading(
                    gpu_index=whole.gpu_index,
                    gpu_uuid=whole.gpu_uuid,
                    gpu_model=whole.gpu_model,
                    pci_bus_id=whole.pci_bus_id,
                    memory_used_mib=memory.used / _MIB,
                    memory_total_mib=memory.total / _MIB,
                    memory_free_mib=memory.free / _MIB,
                    mig_profile=name.rsplit(" MIG ", 1)[-1] if " MIG " in name else name,
                    mig_instance_id=str(nvml.nvmlDeviceGetGpuInstanceId(mig)),
                    processes=self._processes(mig),
                )
            )
        return readings
