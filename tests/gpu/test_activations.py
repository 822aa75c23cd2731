"""Activation memory pinned to Korthikanti et al. (2022) and to the kernel adjustments."""

from __future__ import annotations

from dataclasses import replace

import pytest

from costrail.gpu.activations import activation_bytes, layer_activation_bytes, logits_bytes
from costrail.gpu.model_config import PRESETS, ModelConfig
from costrail.gpu.setup import Parallelism, TrainingSetup

# The paper's running example shape: GPT-3 175B (h = 12288, a = 96), s = 2048, b = 1.
S, B, H, A = 2048, 1, 12288, 96
SBH = S * B * H
PAPER_MODEL = ModelConfig(
    name="gpt3-175b",
    layers=96,
    hidden=H,
    heads=A,
    kv_heads=A,
    vocab=51200,
    intermediate=4 * H,
    gated_mlp=False,
    rms_norm=False,
    dropout=True,
)


def _paper_setup(**changes: object) -> TrainingSetup:
    """16-bit activations, eager attention with Megatron's fused softmax, dropout on."""
    base = TrainingSetup(
        seq_len=S, micro_batch=B, precision="bf16", attention="eager", fused_softmax=True
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_layer_without_recomputation_keeps_34sbh_plus_5as2b() -> None:
    assert layer_activation_bytes(PAPER_MODEL, _paper_setup()) == 34 * SBH + 5 * A * S * S * B
    assert layer_activation_bytes(PAPER_MODEL, _paper_setup()) == 2_868_903_936


def test_tensor_parallel_splits_24sbh_and_the_score_term_but_not_10sbh() -> None:
    t = 8
    setup = _paper_setup(parallelism=Parallelism(tensor=t))

    expected = SBH * (10 + 24 / t + 5 * A * S / (H * t))
    assert layer_activation_bytes(PAPER_MODEL, setup) == pytest.approx(expected)


def test_sequence_parallel_splits_everything_by_t() -> None:
    t = 8
    setup = _paper_setup(parallelism=Parallelism(tensor=t, sequence_parallel=True))

    expected = SBH / t * (34 + 5 * A * S / H)
    assert layer_activation_bytes(PAPER_MODEL, setup) == pytest.approx(expected)


def test_selective_recomputation_with_sequence_parallel_keeps_34sbh_over_t() -> None:
    t = 8
    setup = _paper_setup(
        checkpointing="selective", parallelism=Parallelism(tensor=t, sequence_parallel=True)
    )

    assert layer_activation_bytes(PAPER_MODEL, setup) == pytest.approx(34 * SBH / t)


def test_full_recomputation_keeps_only_the_layer_input_2sbh() -> None:
    setup = _paper_setup(checkpointing="full")

    assert layer_activation_bytes(PAPER_MODEL, setup) == 2 * SBH


def test_full_recomputation_adds_one_recomputed_layer_to_the_stored_inputs() -> None:
    layers = PAPER_MODEL.layers
    stored, _ = activation_bytes(PAPER_MODEL, _paper_setup(checkpointing="full"))
    outside = 4 * SBH + SBH  # final norm + head inputs; embedding dropout mask

    assert stored == layers * 2 * SBH + 34 * SBH + 5 * A * S * S * B + outside


def test_flash_attention_keeps_no_s_squared_term_only_log_sum_exp_rows() -> None:
    setup = _paper_setup(attention="flash")

    assert layer_activation_bytes(PAPER_MODEL, setup) == 34 * SBH + 4 * A * S * B


def test_unfused_softmax_keeps_an_fp32_copy_of_the_scores() -> None:
    setup = _paper_setup(fused_softmax=False)

    # fp32 softmax output (4) + dropout mask (1) + 16-bit probabilities for AV (2) per score.
    assert layer_activation_bytes(PAPER_MODEL, setup) == 34 * SBH + 7 * A * S * S * B


def test_grouped_query_attention_shrinks_k_and_v_under_flash_attention() -> None:
    gqa = replace(PAPER_MODEL, kv_heads=A // 8)
    setup = _paper_setup(attention="flash")

    saved = layer_activation_bytes(PAPER_MODEL, setup) - layer_activation_bytes(gqa, setup)

    assert saved == 2 * 2 * S * B * (H - H // 8)


def test_swiglu_mlp_keeps_four_intermediates_instead_of_two() -> None:
    llama = PRESETS["llama-2-7b"]
    gated = TrainingSetup(seq_len=4096, attention="flash")
    plain = replace(llama, gated_mlp=False)

    difference = layer_activation_bytes(llama, gated) - layer_activation_bytes(plain, gated)

    assert difference == 2 * 2 * 4096 * 11008


def test_mixture_of_experts_stores_intermediates_for_each_routed_expert() -> None:
    mixtral = PRESETS["mixtral-8x7b"]
    dense = replace(mixtral, experts=1, experts_per_token=1)
    setup = TrainingSetup(seq_len=4096, attention="flash")
    sb = 4096

    difference = layer_activation_bytes(mixtral, setup) - layer_activation_bytes(dense, setup)

    # a second expert's SwiGLU intermediates, the dispatched token copies, fp32 router logits
    assert difference == 4 * 2 * sb * 14336 + 2 * sb * 4096 * 2 + 4 * sb * 8


def test_autocast_keeps_layer_norm_inputs_in_fp32() -> None:
    llama = PRESETS["llama-2-7b"]
    mixed = TrainingSetup(seq_len=4096, precision="bf16")
    autocast = TrainingSetup(seq_len=4096, precision="bf16-autocast")

    difference = layer_activation_bytes(llama, autocast) - layer_activation_bytes(llama, mixed)

    assert difference == 2 * 2 * 4096 * 4096


def test_eager_cross_entropy_holds_12_bytes_per_logit_fused_holds_4() -> None:
    llama = PRESETS["llama-2-7b"]

    assert logits_bytes(llama, TrainingSetup(seq_len=4096)) == 12 * 4096 * 32000
    assert logits_bytes(llama, TrainingSetup(seq_len=4096, loss="fused")) == 4 * 4096 * 32000


def test_pipeline_first_stage_holds_p_micro_batches_of_its_layers() -> None:
    llama = PRESETS["llama-2-7b"]
    setup = TrainingSetup(seq_len=4096, grad_accum_steps=16, parallelism=Parallelism(pipeline=4))
    per_layer = layer_activation_bytes(llama, setup)

    stored, logits = activation_bytes(llama, setup)

    assert stored == 4 * 8 * per_layer
    assert logits == 0.0
