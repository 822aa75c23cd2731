"""FLOPs per token, step and total time, inference decode time; docs/plan.md's hand numbers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from costrail.gpu.model_config import PRESETS
from costrail.gpu.setup import InferenceSetup, Parallelism, TrainingSetup
from costrail.gpu.specs import gpu_spec
from costrail.gpu.throughput import (
    executed_flops_per_token,
    inference_time,
    training_flops_per_token,
    training_time,
)

LLAMA_2_7B = PRESETS["llama-2-7b"]
N_MATMUL = 6_607_077_376


def test_training_flops_are_6n_plus_12_l_s_h() -> None:
    flops = training_flops_per_token(LLAMA_2_7B, 4096)

    assert flops == 6 * N_MATMUL + 12 * 32 * 4096 * 4096 == 46_084_915_200


def test_full_recomputation_executes_one_more_forward_pass() -> None:
    plain = TrainingSetup(seq_len=4096)
    recomputed = replace(plain, checkpointing="full")

    extra = executed_flops_per_token(LLAMA_2_7B, recomputed) - executed_flops_per_token(
        LLAMA_2_7B, plain
    )

    assert extra == 2 * N_MATMUL + 4 * 32 * 4096 * 4096


def test_lora_skips_weight_gradients_of_the_frozen_base() -> None:
    full = executed_flops_per_token(LLAMA_2_7B, TrainingSetup(seq_len=4096))
    lora = executed_flops_per_token(LLAMA_2_7B, TrainingSetup(seq_len=4096, mode="lora"))

    assert lora < full - 1.9 * N_MATMUL


def test_worked_example_20b_tokens_on_8_h100_take_81_hours_at_40_percent_mfu() -> None:
    # docs/plan.md, "Worked example 1": 20e9 × 46,084,915,200 / (8 × 989.5e12 × 0.40) s.
    setup = TrainingSetup(
        seq_len=4096, grad_accum_steps=128, parallelism=Parallelism(data=8, zero_stage=3)
    )

    timing = training_time(LLAMA_2_7B, setup, gpu_spec("H100-SXM"), 20e9, mfu=0.40)

    assert timing.hours == pytest.approx(20e9 * 46_084_915_200 / (8 * 989.5e12 * 0.40) / 3600)
    assert timing.hours == pytest.approx(80.86, abs=0.01)
    assert timing.step_s == pytest.approx(128 * 4096 * 46_084_915_200 / (989.5e12 * 0.40))


def test_zero3_over_pcie_with_short_sequences_waits_on_the_weight_gathers() -> None:
    setup = TrainingSetup(
        seq_len=512, grad_accum_steps=128, parallelism=Parallelism(data=8, zero_stage=3)
    )

    timing = training_time(LLAMA_2_7B, setup, gpu_spec("L4"), 1e9)

    # per micro-batch: 3 × 7/8 × 2 bytes × P over 32 GB/s, longer than the compute
    gathers_s = 3 * 7 / 8 * 2 * 6_738_415_616 / 32e9
    assert timing.step_s == pytest.approx(128 * gathers_s)
    assert timing.communication_exposed_s > timing.compute_s


def test_higher_mfu_shortens_the_run_proportionally() -> None:
    setup = TrainingSetup(seq_len=4096, parallelism=Parallelism(data=8, zero_stage=1))
    slow = training_time(LLAMA_2_7B, setup, gpu_spec("H100-SXM"), 1e9, mfu=0.3)
    fast = training_time(LLAMA_2_7B, setup, gpu_spec("H100-SXM"), 1e9, mfu=0.6)

    assert slow.total_s == pytest.approx(2 * fast.total_s, rel=1e-3)


def test_pipeline_bubble_is_p_minus_1_over_slots() -> None:
    setup = TrainingSetup(seq_len=4096, grad_accum_steps=12, parallelism=Parallelism(pipeline=4))

    timing = training_time(LLAMA_2_7B, setup, gpu_spec("H100-SXM"), 1e9)

    assert timing.pipeline_bubble_fraction == pytest.approx(3 / 15)


def test_single_sequence_decode_is_memory_bound_at_weights_over_bandwidth() -> None:
    spec = gpu_spec("H100-SXM")
    setup = InferenceSetup(seq_len=2)

    timing = inference_time(LLAMA_2_7B, setup, spec, gpus=1, concurrency=1, tokens=1000, mbu=1.0)

    assert timing.memory_bound
    weights = 2 * 6_738_415_616
    kv = 1 * 1 * 2 * 32 * 4096 * 2
    assert timing.step_s == pytest.approx((weights + kv) / 3350e9)
