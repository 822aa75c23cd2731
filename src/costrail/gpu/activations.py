"""Activation memory per layer and per GPU (Korthikanti et al. 2022), adjusted for kernels and GQA.

Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models" (2022),
count the bytes one transformer layer keeps for its backward pass with 16-bit activations:
sbh(34 + 5as/h) — 11sbh + 5as²b for attention, 19sbh for the MLP, 4sbh for two layer norms —
with tensor parallelism sbh(10 + 24/t + 5as/(ht)), with sequence parallelism everything / t,
with selective recomputation 34sbh/t, with full recomputation 2sbh. We build the same total
from its parts so that each part can follow the kernels actually used: flash attention keeps no
s² term (only a fp32 log-sum-exp per head and row), GQA shrinks K and V under flash attention,
SwiGLU MLPs keep four intermediates instead of two, unfused softmax keeps a fp32 copy, and
PyTorch autocast keeps the residual stream (layer-norm inputs) in fp32.
"""

from __future__ import annotations

import math

from costrail.gpu.model_config import ModelConfig, linear_shapes
from costrail.gpu.setup import TrainingSetup


def element_bytes(setup: TrainingSetup) -> int:
    """Bytes of an activation that feeds a matmul: 2 in 16-bit compute (fp8 included), 4 in fp32."""
    return 4 if setup.precision == "fp32" else 2


def residual_bytes(setup: TrainingSetup) -> int:
    """Bytes of the residual stream, i.e. of layer-norm inputs and checkpointed layer inputs.

    With PyTorch autocast the weights are fp32, so embeddings and residual adds stay fp32.
    """
    return 4 if setup.precision in ("fp32", "bf16-autocast") else 2


def _dropout(config: ModelConfig, setup: TrainingSetup) -> bool:
    return config.dropout if setup.dropout is None else setup.dropout


def layer_activation_bytes(
    config: ModelConfig, setup: TrainingSetup, *, checkpointing: str | None = None
) -> float:
    """Bytes one layer keeps for backward on one GPU, for one micro-batch.

    `checkpointing` overrides the setup's (the full-recompute peak needs one layer without it).
    """
    mode = setup.checkpointing if checkpointing is None else checkpointing
    s, b, h = setup.seq_len, setup.micro_batch, config.hidden
    t = setup.parallelism.tensor
    sbh = s * b * h
    replicated_divisor = t if setup.parallelism.sequence_parallel else 1
    if mode == "full":
        return residual_bytes(setup) * sbh / replicated_divisor
    return (
        _replicated_bytes(config, setup) / replicated_divisor
        + _split_bytes(config, setup, selective=mode == "selective") / t
    )


def _replicated_bytes(config: ModelConfig, setup: TrainingSetup) -> float:
    """Norm inputs, the QKV and MLP inputs, residual dropout masks: not split by TP (but by SP)."""
    sbh = setup.seq_len * setup.micro_batch * config.hidden
    e, r = element_bytes(setup), residual_bytes(setup)
    masks = 2 * sbh if _dropout(config, setup) else 0
    lora_inputs = 0.0
    if setup.mode != "full":
        adapted_matrices = sum(copies for _, _, copies in linear_shapes(config))
        lora_inputs = e * setup.seq_len * setup.micro_batch * setup.lora_rank * adapted_matrices
    return 2 * r * sbh + 2 * e * sbh + masks + lora_inputs


def _split_bytes(config: ModelConfig, setup: TrainingSetup, *, selective: bool) -> float:
    """Q, K, V, attention core, output-projection input and MLP intermediates: split by TP."""
    s, b, e = setup.seq_len, setup.micro_batch, element_bytes(setup)
    sb = s * b
    kv_width = config.kv_width if setup.attention == "flash" else config.attention_width
    qkv = e * sb * (config.attention_width + 2 * kv_width)
    out_inputs = e * sb * config.attention_width * (2 if setup.attention == "sdpa" else 1)
    return (
        qkv
        + _attention_core_bytes(config, setup, selective)
        + out_inputs
        + _mlp_bytes(config, setup)
    )


def _attention_core_bytes(config: ModelConfig, setup: TrainingSetup, selective: bool) -> float:
    """The s² part of eager attention, or the log-sum-exp rows a fused kernel keeps."""
    s, b, a, e = setup.seq_len, setup.micro_batch, config.heads, element_bytes(setup)
    if setup.attention != "eager":
        return 4.0 * a * s * b
    if selective:
        return 0.0
    dropout = _dropout(config, setup)
    if setup.fused_softmax or e == 4:
        # softmax output, dropout mask and dropout output (kept by the AV matmul): 2 + 1 + 2
        per_score = e + (1 + e if dropout else 0)
    else:
        # unfused: fp32 softmax output, the mask, and one 16-bit copy kept by the AV matmul
        per_score = 4 + e + (1 if dropout else 0)
    return float(a * s * s * b * per_score)


def _mlp_bytes(config: ModelConfig, setup: TrainingSetup) -> float:
    """Activation-function input and output (and, for SwiGLU, gate and up) per routed token."""
    sb, e = setup.seq_len * setup.micro_batch, element_bytes(setup)
    per_expert = (4 if config.gated_mlp else 2) * e * sb * config.intermediate
    if not config.is_moe:
        return float(per_expert)
    k = config.experts_per_token
    dispatched_inputs = e * sb * config.hidden * k
    router_logits = 4 * sb * config.experts
    return float(k * per_expert + dispatched_inputs + router_logits)


def _outside_layers_bytes(config: ModelConfig, setup: TrainingSetup) -> tuple[float, float]:
    """(first stage, last stage) extras: embedding dropout mask; final norm and head inputs."""
    sbh = setup.seq_len * setup.micro_batch * config.hidden
    divisor = setup.parallelism.tensor if setup.parallelism.sequence_parallel else 1
    embedding = sbh if _dropout(config, setup) else 0
    output = (residual_bytes(setup) + element_bytes(setup)) * sbh
    return embedding / divisor, output / divisor


def logits_bytes(config: ModelConfig, setup: TrainingSetup) -> float:
    """Peak bytes of the loss over the vocabulary, alive together with all saved activations.

    Eager loss (PyTorch/HF): fp32 log-softmax output kept for backward (4 bytes per token and
    vocabulary entry), then in backward the fp32 gradient of the log-probabilities and of the
    logits (4 + 4): 12 bytes. A fused/vocab-parallel cross-entropy keeps fp32 logits only: 4.
    """
    per_element = 12 if setup.loss == "eager" else 4
    return float(
        per_element * setup.seq_len * setup.micro_batch * config.vocab / setup.parallelism.tensor
    )


def activation_bytes(config: ModelConfig, setup: TrainingSetup) -> tuple[float, float]:
    """(activations, logits) on the busiest GPU for one training step.

    Pipeline parallel (1F1B): the first stage holds its L/p layers for min(p, micro-batches)
    micro-batches in flight, the last stage one micro-batch plus the logits; we return the stage
    with more. Full recomputation adds one layer recomputed during backward.
    """
    parallel = setup.parallelism
    per_layer = layer_activation_bytes(config, setup)
    recomputed = (
        layer_activation_bytes(config, setup, checkpointing="none")
        if setup.checkpointing == "full"
        else 0.0
    )
    first_extra, last_extra = _outside_layers_bytes(config, setup)
    logits = logits_bytes(config, setup)
    if parallel.pipeline == 1:
        return config.layers * per_layer + recomputed + first_extra + last_extra, logits
    layers_per_stage = math.ceil(config.layers / parallel.pipeline)
    in_flight = min(parallel.pipeline, setup.grad_accum_steps)
    first = in_flight * (layers_per_stage * per_layer + first_extra) + recomputed
    last = layers_per_stage * per_layer + last_extra + recomputed
    return (first, 0.0) if first >= last + logits else (last, logits)
