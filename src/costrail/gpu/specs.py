"""GPU spec table (memory, dense tensor TFLOPS, bandwidth) and catalog name → spec resolution."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from costrail.errors import ConfigError

Precision = Literal["fp32", "bf16", "fp16", "fp8", "bf16-autocast"]


@dataclass(frozen=True)
class GpuSpec:
    """One GPU from `data/gpu_specs.csv`; TFLOPS are dense (no sparsity); None = unsupported."""

    spec_id: str
    name: str
    memory_gib: float
    memory_bandwidth_gbs: float
    fp32_tflops: float
    fp16_dense_tflops: float
    bf16_dense_tflops: float | None
    fp8_dense_tflops: float | None
    interconnect: str
    interconnect_gbs: float
    source: str

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * 2**30)

    @property
    def has_nvlink(self) -> bool:
        """NVLink/Infinity Fabric class links: tensor parallelism is only planned across these."""
        return self.interconnect_gbs >= 150

    def peak_tflops(self, precision: Precision) -> float:
        """Dense peak for the precision the matmuls run in; falls back where a format is missing.

        bf16 on a GPU without BF16 (V100, T4) runs as fp16 (same memory, same speed class); fp8
        without FP8 tensor cores runs at the 16-bit rate.
        """
        if precision == "fp32":
            return self.fp32_tflops
        if precision == "fp8" and self.fp8_dense_tflops:
            return self.fp8_dense_tflops
        if precision in ("bf16", "bf16-autocast", "fp8") and self.bf16_dense_tflops:
            return self.bf16_dense_tflops
        return self.fp16_dense_tflops


def _optional(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def gpu_specs() -> dict[str, GpuSpec]:
    """All specs by `spec_id` (see data/SOURCES.md for where each number comes from)."""
    path = resources.files("costrail.gpu").joinpath("data", "gpu_specs.csv")
    specs: dict[str, GpuSpec] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            specs[row["spec_id"]] = GpuSpec(
                spec_id=row["spec_id"],
                name=row["name"],
                memory_gib=float(row["memory_gib"]),
                memory_bandwidth_gbs=float(row["memory_bandwidth_gbs"]),
                fp32_tflops=float(row["fp32_tflops"]),
                fp16_dense_tflops=float(row["fp16_dense_tflops"]),
                bf16_dense_tflops=_optional(row["bf16_dense_tflops"]),
                fp8_dense_tflops=_optional(row["fp8_dense_tflops"]),
                interconnect=row["interconnect"],
                interconnect_gbs=float(row["interconnect_gbs"]),
                source=row["source"],
            )
    return specs


def gpu_spec(spec_id: str) -> GpuSpec:
    """The spec named `spec_id` (case-insensitive), or ConfigError listing the known ones."""
    specs = gpu_specs()
    for key, spec in specs.items():
        if key.lower() == spec_id.lower():
            return spec
    raise ConfigError(f"unknown GPU {spec_id!r}; known: {', '.join(specs)}")


_SIMPLE = {
    "B200": "B200",
    "H200": "H200-SXM",
    "GH200": "GH200",
    "H100-MEGA": "H100-SXM",
    "MI300X": "MI300X",
    "L40S": "L40S",
    "L4": "L4",
    "A10": "A10",
    "A10G": "A10G",
    "T4": "T4",
    "RTX4090": "RTX-4090",
    "RTX3090": "RTX-3090",
    "A6000": "RTX-A6000",
    "RTXA6000": "RTX-A6000",
    "RTX6000-Ada": "RTX-6000-Ada",
    "RTX6000": "Quadro-RTX-6000",
    "V100-32GB": "V100-SXM2-32GB",
}

#: Azure sizes whose GPUs are PCIe cards although the catalog calls them plainly "A100"/"H100".
_AZURE_PCIE = re.compile(r"^Standard_NCC?\d+adi?s_(A100|H100)_v[45]$")


def resolve_spec(
    cloud: str, instance_type: str, gpu_model: str, memory_mib_per_gpu: int | None
) -> str | None:
    """The spec_id for a catalog offer, or None when the GPU has no spec row (skipped, counted).

    Catalogs name GPUs loosely ("A100" is a 40 GB or 80 GB, SXM or PCIe card); the instance type
    and the per-GPU memory decide the variant, because TFLOPS, bandwidth and links differ.
    """
    name = instance_type.lower()
    if gpu_model in _SIMPLE:
        return _SIMPLE[gpu_model]
    if gpu_model == "H100":
        if _AZURE_PCIE.match(instance_type) or "nvl" in name:
            return "H100-NVL"
        return "H100-PCIe" if "pcie" in name else "H100-SXM"
    if gpu_model in ("A100", "A100-80GB"):
        large = gpu_model == "A100-80GB" or (memory_mib_per_gpu or 0) >= 70 * 1024
        pcie = (
            "pcie" in name
            or bool(_AZURE_PCIE.match(instance_type))
            or (cloud == "lambda" and "sxm" not in name and not name.startswith("gpu_8x"))
        )
        return f"A100-{'80' if large else '40'}GB-{'PCIe' if pcie else 'SXM'}"
    if gpu_model == "V100":
        pcie = cloud in ("azure", "vast")
        return "V100-PCIe-16GB" if pcie else "V100-SXM2-16GB"
    return None
