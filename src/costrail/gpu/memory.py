"""Per-GPU memory of a training or inference job: model states, activations, logits, KV cache.

Model states follow the ZeRO paper's accounting (Rajbhandari et al. 2020): with mixed precision
and Adam, 2 bytes of 16-bit weights + 2 of 16-bit gradients + K = 12 of optimizer states (fp32
master weights, momentum, variance) = 16 bytes per parameter; ZeRO-1 divides the 12 by the
data-parallel degree, ZeRO-2 also the gradients, ZeRO-3 everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costrail.errors import ConfigError
from costrail.gpu.activations import activation_bytes, element_bytes
from costrail.gpu.model_config import ModelConfig, linear_shapes, parameter_counts
from costrail.gpu.setup import InferenceSetup, TrainingSetup

#: NF4 base weights with double-quantised constants: 4 + 0.127 bits per weight (QLoRA paper).
QLORA_BYTES_PER_WEIGHT = (4 + 0.127) / 8
#: 4-bit group-quantised inference weights (group 128, fp16 scale and zero point): 4.25 bits.
INT4_BYTES_PER_WEIGHT = 4.25 / 8
_INFERENCE_WEIGHT_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}
_GIB = 2**30


@dataclass(frozen=True)
class MemoryBreakdown:
    """Bytes on the busiest GPU at the peak of a step. Everything but `framework_overhead` is
    memory PyTorch's allocator hands out (what `torch.cuda.max_memory_allocated` measures);
    `framework_overhead` is the CUDA context, library workspaces and the caching allocator's
    reserve on top of it.
    """

    weights: float
    gradients: float
    optimizer_states: float
    activations: float
    logits: float
    kv_cache: float
    buffers: float
    framework_overhead: float

    @property
    def allocated(self) -> float:
        return self.total - self.framework_overhead

    @property
    def total(self) -> float:
        return (
            self.weights
            + self.gradients
            + self.optimizer_states
            + self.activations
            + self.logits
            + self.kv_cache
            + self.buffers
            + self.framework_overhead
        )

    def as_gib(self) -> dict[str, float]:
        """Each part and the total in GiB, rounded to 0.01 (for tables and JSON)."""
        parts = {
            "weights": self.weights,
            "gradients": self.gradients,
            "optimizer_states": self.optimizer_states,
            "activations": self.activations,
            "logits": self.logits,
            "kv_cache": self.kv_cache,
            "buffers": self.buffers,
            "framework_overhead": self.framework_overhead,
            "total": self.total,
        }
        return {name: round(value / _GIB, 2) for name, value in parts.items()}


@dataclass(frozen=True)
class ModelStates:
    """Per-GPU bytes of weights, gradients and optimizer states, plus transient buffers."""

    weights: float
    gradients: float
    optimizer_states: float
    buffers: float


def lora_parameters(config: ModelConfig, rank: int) -> int:
    """Trainable LoRA parameters on every linear layer of every block: r·(in + out) per matrix."""
    per_layer = sum(copies * rank * (rows + cols) for rows, cols, copies in linear_shapes(config))
    return config.layers * per_layer


def adafactor_state_elements(config: ModelConfig) -> int:
    """Adafactor's factored second moment: rows + cols per matrix, full size for vectors."""
    counts = parameter_counts(config)
    per_layer_matrices = sum(copies * (rows + cols) for rows, cols, copies in linear_shapes(config))
    per_layer_vectors = counts.per_layer - counts.per_layer_linear
    embeddings = config.vocab + config.hidden
    if config.learned_positions:
        embeddings += config.learned_positions + config.hidden
    head = 0 if config.tied_embeddings else config.vocab + config.hidden
    return (
        config.layers * (per_layer_matrices + per_layer_vectors)
        + embeddings
        + head
        + counts.final_norm
    )


def optimizer_bytes_per_parameter(config: ModelConfig | None, setup: TrainingSetup) -> float:
    """Optimizer states per trainable parameter; includes the fp32 master copy when the weights
    themselves are 16-bit (bf16/fp16/fp8 mixed precision)."""
    master = 4.0 if setup.precision in ("bf16", "fp16", "fp8") else 0.0
    if setup.optimizer == "adamw":
        return master + 8.0
    if setup.optimizer == "adam8bit":
        return master + 2.0
    if setup.optimizer == "sgd":
        return master + 4.0
    if setup.mode != "full" or config is None:
        return master + 4.0
    counts = parameter_counts(config)
    return master + 4.0 * adafactor_state_elements(config) / counts.total


def _trainable_weight_bytes(setup: TrainingSetup) -> float:
    return 4.0 if setup.precision in ("fp32", "bf16-autocast") else 2.0


def _gradient_bytes(setup: TrainingSetup) -> float:
    return 4.0 if setup.precision in ("fp32", "bf16-autocast") else 2.0


def params_per_gpu(config: ModelConfig, setup: TrainingSetup) -> float:
    """Parameters held by the busiest GPU before ZeRO sharding: all / t, split by stage for PP.

    Tensor parallelism splits every matrix (norms are replicated but tiny); a pipeline's first
    stage also holds the embeddings, its last stage the output head (a copy when tied).
    """
    counts = parameter_counts(config)
    t, p = setup.parallelism.tensor, setup.parallelism.pipeline
    if p == 1:
        return counts.total / t
    stage_layers = math.ceil(config.layers / p) * counts.per_layer
    head = counts.lm_head or counts.embedding
    first = stage_layers + counts.embedding + counts.position_embedding
    last = stage_layers + head + counts.final_norm
    return max(first, last) / t


def model_state_bytes(config: ModelConfig, setup: TrainingSetup) -> ModelStates:
    """Weights, gradients and optimizer states on one GPU after ZeRO sharding and offload."""
    counts = parameter_counts(config)
    held = params_per_gpu(config, setup)
    share = held / counts.total
    linear = config.layers * counts.per_layer_linear
    matmul = linear + config.vocab * config.hidden
    if setup.mode == "full":
        trainable = held
        weights = held * _trainable_weight_bytes(setup)
        if setup.precision == "fp8":
            weights += linear * share
        elif setup.precision == "bf16-autocast":
            weights += 2.0 * matmul * share
    else:
        trainable = lora_parameters(config, setup.lora_rank) * share
        if setup.mode == "qlora":
            base = linear * QLORA_BYTES_PER_WEIGHT + (counts.total - linear) * 2.0
        else:
            base = counts.total * (4.0 if setup.precision == "fp32" else 2.0)
        weights = base * share + trainable * _trainable_weight_bytes(setup)
    gradients = trainable * _gradient_bytes(setup)
    optimizer = trainable * optimizer_bytes_per_parameter(config, setup)
    return _sharded(weights, gradients, optimizer, setup, _buffer_bytes(config, setup))


def model_states_for_parameters(parameters: float, setup: TrainingSetup) -> ModelStates:
    """ZeRO-paper accounting for `parameters` weights, all trained, without a model shape.

    7.5e9 parameters, bf16 + AdamW on 64 GPUs: 120 GB with DDP, 31.4 GB with ZeRO-1, 16.6 GB with
    ZeRO-2, 1.9 GB with ZeRO-3 (Rajbhandari et al. 2020, Figure 1). Adafactor needs the matrix
    shapes: use `model_state_bytes` with a ModelConfig.
    """
    if setup.optimizer == "adafactor":
        raise ConfigError("Adafactor's states depend on matrix shapes; pass a ModelConfig")
    weights = parameters * _trainable_weight_bytes(setup)
    if setup.precision == "fp8":
        weights += parameters
    elif setup.precision == "bf16-autocast":
        weights += 2.0 * parameters
    gradients = parameters * _gradient_bytes(setup)
    optimizer = parameters * optimizer_bytes_per_parameter(None, setup)
    return _sharded(weights, gradients, optimizer, setup, 0.0)


def _sharded(
    weights: float, gradients: float, optimizer: float, setup: TrainingSetup, buffers: float
) -> ModelStates:
    parallel = setup.parallelism
    d = parallel.data
    if parallel.zero_stage >= 1:
        optimizer /= d
    if parallel.zero_stage >= 2:
        gradients /= d
    if parallel.zero_stage >= 3:
        weights /= d
    if parallel.offload_optimizer:
        optimizer = 0.0
    if parallel.offload_params:
        weights = 0.0
    return ModelStates(weights, gradients, optimizer, buffers)


def _buffer_bytes(config: ModelConfig, setup: TrainingSetup) -> float:
    """Transient working copies: ZeRO-3 gathers the current and the prefetched layer in 16-bit;
    QLoRA dequantises one matrix at a time to bf16."""
    counts = parameter_counts(config)
    t = setup.parallelism.tensor
    buffers = 0.0
    if setup.parallelism.zero_stage >= 3 and setup.parallelism.data > 1:
        buffers += 2 * counts.largest_layer / t * element_bytes(setup)
    if setup.mode == "qlora":
        largest_matrix = max(rows * cols for rows, cols, _ in linear_shapes(config))
        buffers += 2.0 * largest_matrix
    return buffers


def training_memory(config: ModelConfig, setup: TrainingSetup) -> MemoryBreakdown:
    """Per-GPU peak for one training step.

    Gradients are counted alongside all activations: with gradient accumulation (the normal case
    for LLM training) the gradients of earlier micro-batches are resident while the next one runs
    its forward pass. The framework overhead is the CUDA context (setup.cuda_context_gib) plus the
    caching allocator's reserve (setup.allocator_reserve_fraction of the allocated peak).
    """
    states = model_state_bytes(config, setup)
    activations, logits = activation_bytes(config, setup)
    allocated = (
        states.weights
        + states.gradients
        + states.optimizer_states
        + states.buffers
        + activations
        + logits
    )
    overhead = setup.cuda_context_gib * _GIB + setup.allocator_reserve_fraction * allocated
    return MemoryBreakdown(
        weights=states.weights,
        gradients=states.gradients,
        optimizer_states=states.optimizer_states,
        activations=activations,
        logits=logits,
        kv_cache=0.0,
        buffers=states.buffers,
        framework_overhead=overhead,
    )


def kv_cache_bytes_per_token(config: ModelConfig, kv_format: str = "bf16") -> int:
    """K and V for one token over all layers: 2 · L · kv_heads · head_dim · bytes.

    Llama-2-7B in fp16: 2 · 32 · 4096 · 2 = 524,288 bytes = 0.5 MiB per token.
    """
    element = 1 if kv_format == "fp8" else 2
    return 2 * config.layers * config.kv_width * element


def inference_weight_bytes(config: ModelConfig, setup: InferenceSetup) -> float:
    """Weights of one tensor-parallel shard; quantised formats apply to layer matrices only."""
    counts = parameter_counts(config)
    linear = config.layers * counts.per_layer_linear
    if setup.weights == "int4":
        total = linear * INT4_BYTES_PER_WEIGHT + (counts.total - linear) * 2.0
    elif setup.weights in ("fp8", "int8"):
        total = linear * 1.0 + (counts.total - linear) * 2.0
    else:
        total = counts.total * _INFERENCE_WEIGHT_BYTES[setup.weights]
    return total / setup.tensor_parallel


def kv_bytes_per_token_per_gpu(config: ModelConfig, setup: InferenceSetup) -> float:
    """KV heads split over TP ranks; with fewer KV heads than ranks they are replicated."""
    split = min(setup.tensor_parallel, config.kv_heads)
    return kv_cache_bytes_per_token(config, setup.kv_cache) / split


def inference_workspace_bytes(config: ModelConfig, setup: InferenceSetup) -> float:
    """Activations of one prefill chunk (16-bit hidden, QKV, MLP intermediates) per TP shard."""
    tokens = setup.prefill_tokens
    mlp = (3 if config.gated_mlp else 2) * config.intermediate * config.experts_per_token
    per_token = 2 * (4 * config.hidden + mlp)
    return tokens * per_token / setup.tensor_parallel


def max_concurrent_sequences(config: ModelConfig, setup: InferenceSetup, capacity: float) -> int:
    """Sequences of `setup.seq_len` tokens whose KV cache fits next to the weights (0 = none)."""
    free = (
        capacity
        - setup.cuda_context_gib * _GIB
        - inference_weight_bytes(config, setup)
        - inference_workspace_bytes(config, setup)
    )
    per_sequence = kv_bytes_per_token_per_gpu(config, setup) * setup.seq_len
    return max(0, int(free // per_sequence))


def inference_memory(config: ModelConfig, setup: InferenceSetup, sequences: int) -> MemoryBreakdown:
    """Per-GPU memory of a replica serving `sequences` concurrent sequences of seq_len tokens."""
    return MemoryBreakdown(
        weights=inference_weight_bytes(config, setup),
        gradients=0.0,
        optimizer_states=0.0,
        activations=inference_workspace_bytes(config, setup),
        logits=0.0,
        kv_cache=kv_bytes_per_token_per_gpu(config, setup) * setup.seq_len * sequences,
        buffers=0.0,
        framework_overhead=setup.cuda_context_gib * _GIB,
    )
