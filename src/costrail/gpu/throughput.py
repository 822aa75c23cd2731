"""FLOPs per token, step time and total time from peak dense throughput × MFU, plus communication.

Training FLOPs per token (the PaLM/Megatron model-FLOPs convention):
    6 · N + 12 · L · s · (a·d)
N = weights multiplied per token (active experts and the output head; not the embedding lookup),
the second term is attention scores and weighted values (QKᵀ and AV, 2·s·(a·d) multiply-adds
each per layer in the forward pass, ×3 for forward + backward; not halved for causal masking).
LoRA skips weight gradients of the frozen base: 4 · N + 6 · N_lora + 12 · L · s · (a·d).
Recomputation adds work that model FLOPs do not count: a second forward (2 · N + 4 · L · s · a·d)
for full checkpointing, the attention core (4 · L · s · a·d) for selective. MFU applies to the
executed FLOPs: time = executed FLOPs / (GPUs × peak dense TFLOPS × MFU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costrail.gpu.memory import (
    inference_weight_bytes,
    kv_bytes_per_token_per_gpu,
    lora_parameters,
    params_per_gpu,
)
from costrail.gpu.model_config import ModelConfig, matmul_params_active, parameter_counts
from costrail.gpu.setup import InferenceSetup, TrainingSetup
from costrail.gpu.specs import GpuSpec, Precision

DEFAULT_MFU = 0.40
DEFAULT_MBU = 0.60
#: Network bandwidth per GPU between nodes (GB/s per direction): 200 Gb/s per GPU.
DEFAULT_INTER_NODE_GBS = 25.0
#: Host link used by CPU offload (PCIe Gen4 x16, effective) and CPU Adam speed per GPU process.
OFFLOAD_PCIE_GBS = 25.0
CPU_ADAM_PARAMS_PER_S = 1.0e9
#: QLoRA dequantises every 4-bit weight before each GEMM; a stated assumption, not a measurement.
QLORA_SLOWDOWN = 1.3


def attention_flops_per_token(config: ModelConfig, seq_len: int) -> float:
    """Forward + backward attention-score FLOPs per token: 12 · L · s · (a·d)."""
    return 12.0 * config.layers * seq_len * config.attention_width


def training_flops_per_token(config: ModelConfig, seq_len: int) -> float:
    """Model FLOPs per token of full training: 6 · N + 12 · L · s · (a·d)."""
    return 6.0 * matmul_params_active(config) + attention_flops_per_token(config, seq_len)


def model_flops_per_token(config: ModelConfig, setup: TrainingSetup) -> float:
    """Model FLOPs per token for the setup's mode (LoRA rank included)."""
    if setup.mode == "full":
        return training_flops_per_token(config, setup.seq_len)
    n = matmul_params_active(config)
    attention = attention_flops_per_token(config, setup.seq_len)
    return 4.0 * n + 6.0 * lora_parameters(config, setup.lora_rank) + attention


def executed_flops_per_token(config: ModelConfig, setup: TrainingSetup) -> float:
    """Model FLOPs plus what recomputation repeats."""
    flops = model_flops_per_token(config, setup)
    core = 4.0 * config.layers * setup.seq_len * config.attention_width
    if setup.checkpointing == "full":
        flops += 2.0 * matmul_params_active(config) + core
    elif setup.checkpointing == "selective" and setup.attention == "eager":
        flops += core
    return flops


@dataclass(frozen=True)
class TrainingTime:
    """Time of one optimizer step and of the whole token budget; seconds unless named."""

    model_flops_per_token: float
    executed_flops_per_token: float
    tokens_per_step: int
    step_s: float
    compute_s: float
    communication_exposed_s: float
    offload_s: float
    pipeline_bubble_fraction: float
    steps: float
    total_s: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_per_step / self.step_s

    @property
    def hours(self) -> float:
        return self.total_s / 3600.0


def _data_parallel_gbs(spec: GpuSpec, setup: TrainingSetup, inter_node_gbs: float) -> float:
    intra = spec.interconnect_gbs or inter_node_gbs
    if setup.parallelism.gpus <= setup.parallelism.gpus_per_node:
        return intra
    return min(intra, inter_node_gbs)


def training_time(
    config: ModelConfig,
    setup: TrainingSetup,
    spec: GpuSpec,
    tokens: float,
    mfu: float = DEFAULT_MFU,
    inter_node_gbs: float = DEFAULT_INTER_NODE_GBS,
) -> TrainingTime:
    """Step time and total time for `tokens` training tokens on `setup.parallelism.gpus` GPUs.

    Per micro-batch, each GPU of a tensor × pipeline group does 1/(t·p) of the work at
    peak × MFU; 1F1B pipelines add (p − 1) micro-batch slots per step. Communication (ring
    algorithms, bandwidth per GPU and direction): DDP/ZeRO-1/2 reduce gradients once per step,
    hidden behind the last micro-batch's backward pass where it fits; ZeRO-3 gathers weights
    twice and reduce-scatters gradients every micro-batch, overlapped with its compute; tensor
    parallelism all-reduces activations 4 times per layer per micro-batch, not overlapped.
    CPU offload adds, per step, moving the GPU's gradient and weight partitions over PCIe and a
    CPU Adam pass over them (OFFLOAD_PCIE_GBS, CPU_ADAM_PARAMS_PER_S), not overlapped; offloaded
    weights also cross PCIe twice per micro-batch.
    """
    parallel = setup.parallelism
    t, p, d = parallel.tensor, parallel.pipeline, parallel.data
    peak = spec.peak_tflops(setup.precision) * 1e12 * mfu
    if setup.mode == "qlora":
        peak /= QLORA_SLOWDOWN
    executed = executed_flops_per_token(config, setup)
    micro_tokens = setup.seq_len * setup.micro_batch
    micro_compute_s = micro_tokens * executed / (t * p) / peak
    dp_gbs = _data_parallel_gbs(spec, setup, inter_node_gbs) * 1e9
    held = params_per_gpu(config, setup)
    trainable = held
    if setup.mode != "full":
        trainable = lora_parameters(config, setup.lora_rank) * held / parameter_counts(config).total
    grad_element = 4.0 if setup.precision in ("fp32", "bf16-autocast") else 2.0
    micro_s = micro_compute_s
    if t > 1:
        tp_bytes = (
            math.ceil(config.layers / p) * 4 * 2 * (t - 1) / t * 2 * micro_tokens * config.hidden
        )
        micro_s += tp_bytes / (spec.interconnect_gbs * 1e9)
    exposed = 0.0
    if d > 1 and parallel.zero_stage >= 3:
        gather_element = 4.0 if setup.precision == "fp32" else 2.0
        zero3_bytes = 3 * (d - 1) / d * gather_element * held
        micro_s = max(micro_s, zero3_bytes / dp_gbs)
    elif d > 1:
        grad_sync_s = 2 * (d - 1) / d * grad_element * trainable / dp_gbs
        exposed = max(0.0, grad_sync_s - micro_compute_s * 2 / 3)
    if parallel.offload_params:
        micro_s += (
            2 * (4.0 if setup.precision == "fp32" else 2.0) * held / d / (OFFLOAD_PCIE_GBS * 1e9)
        )
    slots = setup.grad_accum_steps + p - 1
    offload_s = 0.0
    if parallel.offload_optimizer:
        partition = trainable / d if parallel.zero_stage >= 1 else trainable
        offload_s = partition * 4.0 / (OFFLOAD_PCIE_GBS * 1e9) + partition / CPU_ADAM_PARAMS_PER_S
    step_s = slots * micro_s + exposed + offload_s
    steps = tokens / setup.tokens_per_step
    return TrainingTime(
        model_flops_per_token=model_flops_per_token(config, setup),
        executed_flops_per_token=executed,
        tokens_per_step=setup.tokens_per_step,
        step_s=step_s,
        compute_s=setup.grad_accum_steps * micro_compute_s,
        communication_exposed_s=slots * (micro_s - micro_compute_s) + exposed,
        offload_s=offload_s,
        pipeline_bubble_fraction=(p - 1) / slots,
        steps=steps,
        total_s=steps * step_s,
    )


@dataclass(frozen=True)
class InferenceTime:
    """Decode throughput of one replica and the time to generate a token budget on all of them."""

    concurrency: int
    step_s: float
    tokens_per_s_per_replica: float
    replicas: int
    total_s: float
    memory_bound: bool

    @property
    def hours(self) -> float:
        return self.total_s / 3600.0


def inference_time(
    config: ModelConfig,
    setup: InferenceSetup,
    spec: GpuSpec,
    gpus: int,
    concurrency: int,
    tokens: float,
    mfu: float = DEFAULT_MFU,
    mbu: float = DEFAULT_MBU,
) -> InferenceTime:
    """Decode time: each step reads the weights and the KV cache of `concurrency` sequences
    (at half the context on average) at bandwidth × MBU, or is compute bound at peak × MFU.

    Prefill is not counted: `tokens` are generated tokens.
    """
    t = setup.tensor_parallel
    average_context = setup.seq_len / 2
    read_bytes = inference_weight_bytes(config, setup) + concurrency * average_context * (
        kv_bytes_per_token_per_gpu(config, setup)
    )
    flops = (
        concurrency
        * (
            2.0 * matmul_params_active(config)
            + 4.0 * config.layers * average_context * config.attention_width
        )
        / t
    )
    precision: Precision = "fp8" if setup.weights == "fp8" else "bf16"
    memory_s = read_bytes / (spec.memory_bandwidth_gbs * 1e9 * mbu)
    compute_s = flops / (spec.peak_tflops(precision) * 1e12 * mfu)
    step_s = max(memory_s, compute_s)
    replicas = max(1, gpus // t)
    per_replica = concurrency / step_s
    return InferenceTime(
        concurrency=concurrency,
        step_s=step_s,
        tokens_per_s_per_replica=per_replica,
        replicas=replicas,
        total_s=tokens / (per_replica * replicas),
        memory_bound=memory_s >= compute_s,
    )
