"""The estimator: per-GPU memory and time of a training or inference job on a given GPU.

Pure functions over a model shape (`ModelConfig`), a job description (`TrainingSetup`,
`InferenceSetup`) and a GPU (`GpuSpec`); nothing here reads prices or files. The parts live in
`activations`, `memory` and `throughput`; this module puts them together and says whether the
job fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from costrail.gpu.activations import activation_bytes, layer_activation_bytes, logits_bytes
from costrail.gpu.memory import (
    MemoryBreakdown,
    inference_memory,
    kv_cache_bytes_per_token,
    max_concurrent_sequences,
    model_state_bytes,
    model_states_for_parameters,
    training_memory,
)
from costrail.gpu.model_config import ModelConfig, parameter_counts
from costrail.gpu.setup import InferenceSetup, Parallelism, TrainingSetup
from costrail.gpu.specs import GpuSpec
from costrail.gpu.throughput import (
    DEFAULT_INTER_NODE_GBS,
    DEFAULT_MBU,
    DEFAULT_MFU,
    InferenceTime,
    TrainingTime,
    inference_time,
    training_flops_per_token,
    training_time,
)

__all__ = [
    "DEFAULT_MBU",
    "DEFAULT_MFU",
    "InferenceEstimate",
    "InferenceSetup",
    "MemoryBreakdown",
    "Parallelism",
    "TrainingEstimate",
    "TrainingSetup",
    "activation_bytes",
    "estimate_inference",
    "estimate_training",
    "kv_cache_bytes_per_token",
    "layer_activation_bytes",
    "logits_bytes",
    "max_concurrent_sequences",
    "model_state_bytes",
    "model_states_for_parameters",
    "training_flops_per_token",
    "training_memory",
]


def headroom_pct(total_bytes: float, capacity_bytes: float) -> float:
    """Free memory left on the GPU, in % of its capacity (negative when it does not fit)."""
    return 100.0 * (capacity_bytes - total_bytes) / capacity_bytes


@dataclass(frozen=True)
class TrainingEstimate:
    """Memory, time and fit of one training configuration on one GPU type."""

    model: str
    parameters: int
    gpu: str
    capacity_bytes: float
    setup: TrainingSetup
    memory: MemoryBreakdown
    time: TrainingTime

    @property
    def fits(self) -> bool:
        return self.memory.total <= self.capacity_bytes

    @property
    def headroom_pct(self) -> float:
        return headroom_pct(self.memory.total, self.capacity_bytes)


def estimate_training(
    config: ModelConfig,
    setup: TrainingSetup,
    spec: GpuSpec,
    tokens: float,
    mfu: float = DEFAULT_MFU,
    capacity_bytes: float | None = None,
    inter_node_gbs: float = DEFAULT_INTER_NODE_GBS,
) -> TrainingEstimate:
    """Per-GPU memory and the time to train on `tokens` tokens with `setup` on `spec` GPUs.

    `capacity_bytes` overrides the spec's memory (a catalog may state less, driver-visible).
    """
    return TrainingEstimate(
        model=config.name,
        parameters=parameter_counts(config).total,
        gpu=spec.spec_id,
        capacity_bytes=capacity_bytes if capacity_bytes is not None else spec.memory_bytes,
        setup=setup,
        memory=training_memory(config, setup),
        time=training_time(config, setup, spec, tokens, mfu, inter_node_gbs),
    )


@dataclass(frozen=True)
class InferenceEstimate:
    """Serving memory, the concurrency that fits, and decode time for a token budget."""

    model: str
    gpu: str
    capacity_bytes: float
    setup: InferenceSetup
    kv_cache_bytes_per_token: int
    max_sequences: int
    memory: MemoryBreakdown
    time: InferenceTime | None

    @property
    def fits(self) -> bool:
        return self.max_sequences >= 1

    @property
    def headroom_pct(self) -> float:
        return headroom_pct(self.memory.total, self.capacity_bytes)


def estimate_inference(
    config: ModelConfig,
    setup: InferenceSetup,
    spec: GpuSpec,
    gpus: int,
    tokens: float,
    mfu: float = DEFAULT_MFU,
    mbu: float = DEFAULT_MBU,
    capacity_bytes: float | None = None,
) -> InferenceEstimate:
    """How many sequences of `setup.seq_len` fit per replica, and how long `tokens` take.

    Concurrency is the number that fits, capped at `setup.max_concurrency`; the memory shown is
    at that concurrency (so headroom is what the cap leaves free).
    """
    capacity = capacity_bytes if capacity_bytes is not None else spec.memory_bytes
    fitting = max_concurrent_sequences(config, setup, capacity)
    concurrency = min(fitting, setup.max_concurrency)
    timing = (
        inference_time(config, setup, spec, gpus, concurrency, tokens, mfu, mbu)
        if concurrency >= 1
        else None
    )
    return InferenceEstimate(
        model=config.name,
        gpu=spec.spec_id,
        capacity_bytes=capacity,
        setup=setup,
        kv_cache_bytes_per_token=kv_cache_bytes_per_token(config, setup.kv_cache),
        max_sequences=fitting,
        memory=inference_memory(config, setup, max(concurrency, 1)),
        time=timing,
    )
