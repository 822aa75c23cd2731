"""Pick how to run a job on a given cluster shape: the fastest parallel strategy that fits.

For N GPUs of one type the planner tries plain data parallelism, ZeRO-1/2/3 (FSDP), tensor
parallelism inside NVLink machines, CPU offload as a last resort, each with and without full
activation checkpointing, and keeps the fastest one that fits in memory (on one GPU type the
fastest is also the cheapest). When nothing fits it keeps the one that needs the least memory,
so the output can say by how much it misses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from costrail.gpu.estimate import (
    InferenceEstimate,
    TrainingEstimate,
    estimate_inference,
    estimate_training,
)
from costrail.gpu.memory import MemoryBreakdown
from costrail.gpu.model_config import ModelConfig
from costrail.gpu.setup import (
    Attention,
    Checkpointing,
    InferenceSetup,
    Optimizer,
    Parallelism,
    TrainingMode,
    TrainingSetup,
)
from costrail.gpu.specs import GpuSpec, Precision

PlanMode = Literal["train", "finetune-lora", "qlora", "inference"]
_TRAINING_MODE: dict[str, TrainingMode] = {
    "train": "full",
    "finetune-lora": "lora",
    "qlora": "qlora",
}


@dataclass(frozen=True)
class Job:
    """What is to be run, independent of the hardware."""

    model: ModelConfig
    mode: PlanMode
    tokens: float
    seq_len: int
    micro_batch: int = 1
    precision: Precision = "bf16"
    optimizer: Optimizer = "adamw"
    attention: Attention = "flash"
    lora_rank: int = 16
    mfu: float = 0.40
    global_batch_tokens: int = 4 * 1024 * 1024
    inter_node_gbs: float = 25.0

    @property
    def training_mode(self) -> TrainingMode:
        """The estimator's name for what this job trains; KeyError for an inference job."""
        return _TRAINING_MODE[self.mode]


@dataclass(frozen=True)
class Configuration:
    """The chosen way to run `job` on `nodes` machines of `gpus_per_node` GPUs of `spec`."""

    spec: GpuSpec
    gpus_per_node: int
    nodes: int
    capacity_bytes: float
    fits: bool
    strategy: str
    precision: str
    memory: MemoryBreakdown
    compute_hours: float
    estimate: TrainingEstimate | InferenceEstimate

    @property
    def gpus(self) -> int:
        return self.gpus_per_node * self.nodes

    @property
    def headroom_pct(self) -> float:
        return self.estimate.headroom_pct


def effective_precision(job: Job, spec: GpuSpec) -> Precision:
    """The job's precision where the GPU has it: bf16 → fp16 on V100/T4, fp8 → bf16 elsewhere."""
    if job.precision == "fp8" and spec.fp8_dense_tflops is None:
        return "bf16" if spec.bf16_dense_tflops else "fp16"
    if job.precision in ("bf16", "bf16-autocast") and spec.bf16_dense_tflops is None:
        return "fp16"
    return job.precision


def _parallel_candidates(
    spec: GpuSpec, gpus_per_node: int, nodes: int, tensor_parallel: bool
) -> Iterator[Parallelism]:
    """Strategies in order of preference; tensor parallelism only inside NVLink machines and
    only for full training (LoRA/QLoRA stacks shard with DDP, ZeRO or FSDP)."""
    gpus = gpus_per_node * nodes
    if gpus == 1:
        yield Parallelism(gpus_per_node=1)
        yield Parallelism(gpus_per_node=1, zero_stage=2, offload_optimizer=True)
        return
    for stage in (0, 1, 2, 3):
        yield Parallelism(data=gpus, zero_stage=stage, gpus_per_node=gpus_per_node)
    if spec.has_nvlink and tensor_parallel:
        for tensor in (2, 4, 8):
            if tensor <= gpus_per_node and gpus_per_node % tensor == 0:
                yield Parallelism(
                    data=gpus // tensor,
                    tensor=tensor,
                    zero_stage=1,
                    sequence_parallel=True,
                    gpus_per_node=gpus_per_node,
                )
    yield Parallelism(data=gpus, zero_stage=3, offload_optimizer=True, gpus_per_node=gpus_per_node)
    yield Parallelism(
        data=gpus,
        zero_stage=3,
        offload_optimizer=True,
        offload_params=True,
        gpus_per_node=gpus_per_node,
    )


def _training_setups(
    job: Job, spec: GpuSpec, gpus_per_node: int, nodes: int
) -> Iterator[TrainingSetup]:
    precision = effective_precision(job, spec)
    checkpointing: tuple[Checkpointing, ...] = ("none", "full")
    for parallel in _parallel_candidates(spec, gpus_per_node, nodes, job.mode == "train"):
        per_step = job.seq_len * job.micro_batch * parallel.data
        accumulation = max(1, round(job.global_batch_tokens / per_step))
        for recompute in checkpointing:
            yield TrainingSetup(
                seq_len=job.seq_len,
                micro_batch=job.micro_batch,
                precision=precision,
                optimizer=job.optimizer,
                mode=job.training_mode,
                lora_rank=job.lora_rank,
                checkpointing=recompute,
                attention=job.attention,
                grad_accum_steps=accumulation,
                parallelism=parallel,
            )


def _describe(setup: TrainingSetup) -> str:
    label = setup.parallelism.label()
    if setup.checkpointing != "none":
        label += f", {setup.checkpointing} recompute"
    return label


def best_training(
    job: Job, spec: GpuSpec, gpus_per_node: int, nodes: int, capacity_bytes: float
) -> Configuration:
    """Fastest fitting training strategy on this shape, or the least-memory one if none fits."""
    fitting: list[TrainingEstimate] = []
    smallest: TrainingEstimate | None = None
    for setup in _training_setups(job, spec, gpus_per_node, nodes):
        estimate = estimate_training(
            job.model,
            setup,
            spec,
            job.tokens,
            job.mfu,
            capacity_bytes=capacity_bytes,
            inter_node_gbs=job.inter_node_gbs,
        )
        if estimate.fits:
            fitting.append(estimate)
        elif smallest is None or estimate.memory.total < smallest.memory.total:
            smallest = estimate
    if fitting:
        # Within 0.5 % of the fastest, prefer the earlier (simpler) strategy: DDP before ZeRO.
        fastest = min(estimate.time.total_s for estimate in fitting)
        chosen = next(e for e in fitting if e.time.total_s <= fastest * 1.005)
    else:
        assert smallest is not None
        chosen = smallest
    return Configuration(
        spec=spec,
        gpus_per_node=gpus_per_node,
        nodes=nodes,
        capacity_bytes=capacity_bytes,
        fits=chosen.fits,
        strategy=_describe(chosen.setup),
        precision=chosen.setup.precision,
        memory=chosen.memory,
        compute_hours=chosen.time.hours,
        estimate=chosen,
    )


def best_inference(
    job: Job, spec: GpuSpec, gpus_per_node: int, capacity_bytes: float
) -> Configuration:
    """Fastest tensor-parallel split of one machine into serving replicas."""
    weights = "fp8" if job.precision == "fp8" and spec.fp8_dense_tflops else "bf16"
    estimates: list[InferenceEstimate] = []
    for tensor in (1, 2, 4, 8):
        if tensor > gpus_per_node or gpus_per_node % tensor:
            continue
        setup = InferenceSetup(seq_len=job.seq_len, weights=weights, tensor_parallel=tensor)  # type: ignore[arg-type]
        estimates.append(
            estimate_inference(
                job.model,
                setup,
                spec,
                gpus_per_node,
                job.tokens,
                job.mfu,
                capacity_bytes=capacity_bytes,
            )
        )
    fitting = [e for e in estimates if e.fits and e.time is not None]
    if fitting:
        chosen = min(fitting, key=lambda e: e.time.total_s if e.time else 0.0)
    else:
        chosen = min(estimates, key=lambda e: e.memory.total)
    hours = chosen.time.hours if chosen.time is not None else float("inf")
    tensor = chosen.setup.tensor_parallel
    replicas = gpus_per_node // tensor
    strategy = f"{replicas} replica{'s' if replicas > 1 else ''}" + (
        f" × TP{tensor}" if tensor > 1 else ""
    )
    if chosen.fits:
        concurrency = min(chosen.max_sequences, chosen.setup.max_concurrency)
        strategy += f", {concurrency} seqs each"
    return Configuration(
        spec=spec,
        gpus_per_node=gpus_per_node,
        nodes=1,
        capacity_bytes=capacity_bytes,
        fits=chosen.fits,
        strategy=strategy,
        precision=weights,
        memory=chosen.memory,
        compute_hours=hours,
        estimate=chosen,
    )
