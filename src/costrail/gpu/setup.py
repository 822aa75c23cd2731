"""Typed descriptions of a training or inference job: precision, optimizer, parallelism, kernels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from costrail.errors import ConfigError
from costrail.gpu.specs import Precision

Optimizer = Literal["adamw", "adam8bit", "sgd", "adafactor"]
TrainingMode = Literal["full", "lora", "qlora"]
Checkpointing = Literal["none", "selective", "full"]
Attention = Literal["eager", "sdpa", "flash"]
LossKernel = Literal["eager", "fused"]
WeightFormat = Literal["bf16", "fp16", "fp8", "int8", "int4"]
KvFormat = Literal["bf16", "fp16", "fp8"]


@dataclass(frozen=True)
class Parallelism:
    """How the job is split over GPUs: data × tensor × pipeline, and what ZeRO shards.

    `zero_stage` 0 is plain DDP; 1 shards optimizer states, 2 also gradients, 3 also weights
    (FSDP FULL_SHARD is stage 3, SHARD_GRAD_OP stage 2). Offloading moves optimizer states
    (and with stage 3 the weights) to CPU memory, at the price of PCIe traffic every step.
    """

    data: int = 1
    tensor: int = 1
    pipeline: int = 1
    zero_stage: int = 0
    sequence_parallel: bool = False
    offload_optimizer: bool = False
    offload_params: bool = False
    gpus_per_node: int = 8

    def __post_init__(self) -> None:
        if min(self.data, self.tensor, self.pipeline, self.gpus_per_node) < 1:
            raise ConfigError("parallel degrees must be at least 1")
        if self.zero_stage not in (0, 1, 2, 3):
            raise ConfigError(f"zero_stage must be 0–3, not {self.zero_stage}")
        if self.offload_params and self.zero_stage != 3:
            raise ConfigError("offloading parameters needs ZeRO-3 / FSDP")

    @property
    def gpus(self) -> int:
        return self.data * self.tensor * self.pipeline

    @property
    def nodes(self) -> int:
        return -(-self.gpus // self.gpus_per_node)

    def label(self) -> str:
        """Short human name: `DDP`, `ZeRO-2`, `FSDP/ZeRO-3 + offload`, `TP4+SP · ZeRO-1` …"""
        parts: list[str] = []
        if self.tensor > 1:
            parts.append(f"TP{self.tensor}" + ("+SP" if self.sequence_parallel else ""))
        if self.pipeline > 1:
            parts.append(f"PP{self.pipeline}")
        if self.data > 1 or not parts:
            parts.append(
                {0: "DDP" if self.data > 1 else "single GPU", 1: "ZeRO-1", 2: "ZeRO-2"}.get(
                    self.zero_stage, "FSDP/ZeRO-3"
                )
            )
        text = " · ".join(parts)
        if self.offload_optimizer or self.offload_params:
            text += " + CPU offload"
        return text


@dataclass(frozen=True)
class TrainingSetup:
    """One training (or fine-tuning) configuration, per GPU micro-batch.

    Defaults are the planner's: bf16 mixed precision with fp32 master weights, AdamW, flash
    attention, no activation checkpointing, an unfused cross-entropy over the full vocabulary.
    """

    seq_len: int
    micro_batch: int = 1
    precision: Precision = "bf16"
    optimizer: Optimizer = "adamw"
    mode: TrainingMode = "full"
    lora_rank: int = 16
    checkpointing: Checkpointing = "none"
    attention: Attention = "flash"
    fused_softmax: bool = False
    loss: LossKernel = "eager"
    dropout: bool | None = None
    grad_accum_steps: int = 1
    parallelism: Parallelism = field(default_factory=Parallelism)
    cuda_context_gib: float = 1.0
    allocator_reserve_fraction: float = 0.05

    def __post_init__(self) -> None:
        if self.seq_len < 1 or self.micro_batch < 1 or self.grad_accum_steps < 1:
            raise ConfigError("seq_len, micro_batch and grad_accum_steps must be at least 1")
        if self.mode != "full" and self.lora_rank < 1:
            raise ConfigError("lora_rank must be at least 1")

    @property
    def tokens_per_step(self) -> int:
        """Tokens consumed by one optimizer step over all data-parallel replicas."""
        return self.seq_len * self.micro_batch * self.grad_accum_steps * self.parallelism.data


@dataclass(frozen=True)
class InferenceSetup:
    """A serving replica: weights and KV cache formats, context length, tensor parallel degree.

    `prefill_tokens` sizes the activation workspace of one prefill chunk (vLLM's
    max_num_batched_tokens).
    """

    seq_len: int
    weights: WeightFormat = "bf16"
    kv_cache: KvFormat = "bf16"
    tensor_parallel: int = 1
    prefill_tokens: int = 8192
    max_concurrency: int = 256
    cuda_context_gib: float = 1.0

    def __post_init__(self) -> None:
        if self.seq_len < 1 or self.tensor_parallel < 1 or self.prefill_tokens < 1:
            raise ConfigError("seq_len, tensor_parallel and prefill_tokens must be at least 1")
