"""Model-state memory pinned to published reference points and to docs/plan.md's worked example."""

from __future__ import annotations

import pytest

from costrail.gpu.activations import layer_activation_bytes
from costrail.gpu.estimate import estimate_inference, estimate_training
from costrail.gpu.memory import (
    QLORA_BYTES_PER_WEIGHT,
    adafactor_state_elements,
    kv_cache_bytes_per_token,
    lora_parameters,
    model_state_bytes,
    model_states_for_parameters,
    training_memory,
)
from costrail.gpu.model_config import PRESETS, ModelConfig, parameter_counts
from costrail.gpu.setup import InferenceSetup, Parallelism, TrainingSetup
from costrail.gpu.specs import gpu_spec

LLAMA_2_7B = PRESETS["llama-2-7b"]
P_7B = 6_738_415_616


def _states_total(parameters: float, **setup: object) -> float:
    states = model_states_for_parameters(parameters, TrainingSetup(seq_len=1, **setup))  # type: ignore[arg-type]
    return states.weights + states.gradients + states.optimizer_states


def test_mixed_precision_adam_needs_16_bytes_per_parameter() -> None:
    states = model_states_for_parameters(1.0, TrainingSetup(seq_len=1, precision="bf16"))

    assert (states.weights, states.gradients, states.optimizer_states) == (2.0, 2.0, 12.0)


@pytest.mark.parametrize(("stage", "gigabytes"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_paper_7_5b_model_on_64_gpus(stage: int, gigabytes: float) -> None:
    # Rajbhandari et al. 2020, Figure 1: Ψ = 7.5B, Nd = 64, K = 12.
    total = _states_total(7.5e9, parallelism=Parallelism(data=64, zero_stage=stage))

    assert total / 1e9 == pytest.approx(gigabytes, abs=0.05)


def test_fp32_adam_keeps_weights_gradients_and_two_moments_16_bytes() -> None:
    assert _states_total(1.0, precision="fp32") == 16.0


def test_torch_autocast_adds_a_16_bit_copy_of_each_weight_to_fp32_states() -> None:
    assert _states_total(1.0, precision="bf16-autocast") == 18.0


def test_8_bit_adam_keeps_one_byte_per_moment_next_to_the_fp32_master() -> None:
    states = model_states_for_parameters(1.0, TrainingSetup(seq_len=1, optimizer="adam8bit"))

    assert states.optimizer_states == 6.0


def test_sgd_with_momentum_keeps_master_and_momentum() -> None:
    states = model_states_for_parameters(1.0, TrainingSetup(seq_len=1, optimizer="sgd"))

    assert states.optimizer_states == 8.0


def test_adafactor_factors_matrices_into_rows_plus_columns() -> None:
    tiny = ModelConfig(
        name="tiny",
        layers=1,
        hidden=8,
        heads=2,
        kv_heads=2,
        vocab=10,
        intermediate=16,
        gated_mlp=False,
    )
    # q, k, v, o: 4 × (8 + 8); fc1, fc2: 2 × (8 + 16); two RMSNorms 2 × 8; embedding 10 + 8;
    # untied head 10 + 8; final norm 8.
    expected = 4 * 16 + 2 * 24 + 16 + 18 + 18 + 8

    assert adafactor_state_elements(tiny) == expected


def test_model_states_of_llama_2_7b_are_16_bytes_per_parameter_on_one_gpu() -> None:
    states = model_state_bytes(LLAMA_2_7B, TrainingSetup(seq_len=4096))

    assert states.weights + states.gradients + states.optimizer_states == 16 * P_7B


def test_cpu_offload_takes_optimizer_states_off_the_gpu() -> None:
    setup = TrainingSetup(
        seq_len=4096, parallelism=Parallelism(data=8, zero_stage=2, offload_optimizer=True)
    )

    assert model_state_bytes(LLAMA_2_7B, setup).optimizer_states == 0.0


def test_lora_trains_only_the_adapters() -> None:
    setup = TrainingSetup(seq_len=4096, mode="lora", lora_rank=16)
    states = model_state_bytes(LLAMA_2_7B, setup)
    adapters = lora_parameters(LLAMA_2_7B, 16)

    assert adapters == 32 * 16 * (4 * (4096 + 4096) + 2 * (4096 + 11008) + (11008 + 4096))
    assert states.gradients == 2 * adapters
    assert states.weights == 2 * P_7B + 2 * adapters


def test_qlora_stores_layer_matrices_in_4_bit_and_the_rest_in_bf16() -> None:
    setup = TrainingSetup(seq_len=4096, mode="qlora", lora_rank=16)
    states = model_state_bytes(LLAMA_2_7B, setup)
    linear = 32 * (4 * 4096**2 + 3 * 4096 * 11008)
    adapters = lora_parameters(LLAMA_2_7B, 16)

    expected = linear * QLORA_BYTES_PER_WEIGHT + (P_7B - linear) * 2 + 2 * adapters
    assert states.weights == pytest.approx(expected)
    assert states.weights < 0.3 * 2 * P_7B


def test_worked_example_llama_2_7b_zero3_on_8_gpus_matches_the_docs() -> None:
    # docs/plan.md, "Worked example 1".
    setup = TrainingSetup(seq_len=4096, parallelism=Parallelism(data=8, zero_stage=3))
    memory = training_memory(LLAMA_2_7B, setup)

    assert memory.weights == 1_684_603_904
    assert memory.gradients == 1_684_603_904
    assert memory.optimizer_states == 10_107_623_424
    assert memory.buffers == 809_533_440
    assert memory.activations == 20_216_545_280
    assert memory.logits == 1_572_864_000
    assert memory.allocated == 36_075_773_952
    assert memory.total == pytest.approx(38_953_304_473.6)


def test_worked_example_layer_keeps_37_5_sbh_plus_log_sum_exp() -> None:
    setup = TrainingSetup(seq_len=4096)

    assert layer_activation_bytes(LLAMA_2_7B, setup) == 37.5 * 4096 * 4096 + 4 * 32 * 4096
    assert layer_activation_bytes(LLAMA_2_7B, setup) == 629_669_888


def test_worked_example_fits_an_h100_with_55_percent_headroom() -> None:
    setup = TrainingSetup(seq_len=4096, parallelism=Parallelism(data=8, zero_stage=3))

    estimate = estimate_training(LLAMA_2_7B, setup, gpu_spec("H100-SXM"), 20e9)

    assert estimate.fits
    assert estimate.headroom_pct == pytest.approx(54.65, abs=0.01)


def test_the_same_job_without_sharding_does_not_fit_an_h100() -> None:
    setup = TrainingSetup(seq_len=4096, parallelism=Parallelism(data=8, zero_stage=0))

    estimate = estimate_training(LLAMA_2_7B, setup, gpu_spec("H100-SXM"), 20e9)

    assert not estimate.fits
    assert estimate.headroom_pct < 0


def test_llama_2_7b_kv_cache_is_half_a_mebibyte_per_token_in_fp16() -> None:
    assert kv_cache_bytes_per_token(LLAMA_2_7B) == 2 * 32 * 4096 * 2 == 512 * 1024


def test_grouped_query_attention_shrinks_the_kv_cache_by_the_group_size() -> None:
    assert kv_cache_bytes_per_token(PRESETS["llama-3-8b"]) == 2 * 32 * 8 * 128 * 2


def test_worked_example_llama_2_7b_serves_32_sequences_of_4k_on_an_h100() -> None:
    # docs/plan.md, "Worked example 2": (80 − 12.55 − 0.75 − 1) GiB / 2 GiB per sequence.
    estimate = estimate_inference(
        LLAMA_2_7B, InferenceSetup(seq_len=4096), gpu_spec("H100-SXM"), gpus=1, tokens=1e9
    )

    assert estimate.max_sequences == 32
    assert estimate.memory.weights == 2 * P_7B


def test_a_70b_model_in_bf16_does_not_fit_one_h100_for_inference() -> None:
    estimate = estimate_inference(
        PRESETS["llama-2-70b"], InferenceSetup(seq_len=4096), gpu_spec("H100-SXM"), 1, 1e9
    )

    assert not estimate.fits
    assert estimate.time is None


def test_parameter_count_of_the_reference_model_is_what_the_examples_assume() -> None:
    assert parameter_counts(LLAMA_2_7B).total == P_7B
