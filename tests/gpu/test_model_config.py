"""Model shapes: exact parameter counts of public models, and reading Hugging Face config.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costrail.errors import ConfigError, InputError
from costrail.gpu.model_config import (
    PRESETS,
    load_model_config,
    matmul_params_active,
    parameter_counts,
)

#: The keys of meta-llama/Llama-2-7b-hf's public config.json that describe its shape.
LLAMA_2_7B_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_act": "silu",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "max_position_embeddings": 4096,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "rms_norm_eps": 1e-05,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "vocab_size": 32000,
}

#: The keys of openai-community/gpt2's public config.json that describe its shape.
GPT2_CONFIG = {
    "activation_function": "gelu_new",
    "attn_pdrop": 0.1,
    "embd_pdrop": 0.1,
    "model_type": "gpt2",
    "n_ctx": 1024,
    "n_embd": 768,
    "n_head": 12,
    "n_layer": 12,
    "n_positions": 1024,
    "resid_pdrop": 0.1,
    "vocab_size": 50257,
}


def test_llama_2_7b_preset_has_its_published_parameter_count() -> None:
    assert parameter_counts(PRESETS["llama-2-7b"]).total == 6_738_415_616


def test_gpt2_preset_has_its_published_parameter_count() -> None:
    assert parameter_counts(PRESETS["gpt2-125m"]).total == 124_439_808


def test_llama_3_8b_with_grouped_query_attention_counts_8_03b() -> None:
    assert parameter_counts(PRESETS["llama-3-8b"]).total == 8_030_261_248


def test_mixtral_counts_all_experts_in_total_and_two_as_active() -> None:
    counts = parameter_counts(PRESETS["mixtral-8x7b"])

    assert counts.total == 46_702_792_704
    assert counts.active == 12_879_925_248


def test_matmul_parameters_leave_out_the_embedding_lookup_but_keep_the_output_head() -> None:
    config = PRESETS["llama-2-7b"]

    assert matmul_params_active(config) == 32 * (4 * 4096**2 + 3 * 4096 * 11008) + 32000 * 4096


def test_hugging_face_llama_config_json_reads_to_the_same_shape(tmp_path: Path) -> None:
    path = tmp_path / "Llama-2-7b-hf" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(LLAMA_2_7B_CONFIG))

    config = load_model_config(str(path))

    assert parameter_counts(config).total == 6_738_415_616
    assert config.name == "Llama-2-7b-hf"


def test_hugging_face_gpt2_config_reads_biases_tied_head_and_dropout(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(GPT2_CONFIG))

    config = load_model_config(str(path))

    assert parameter_counts(config).total == 124_439_808
    assert config.dropout and config.tied_embeddings and not config.gated_mlp


def test_config_without_a_layer_count_is_an_input_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    broken = {key: value for key, value in LLAMA_2_7B_CONFIG.items() if key != "num_hidden_layers"}
    path.write_text(json.dumps(broken))

    with pytest.raises(InputError, match="num_hidden_layers"):
        load_model_config(str(path))


def test_explicit_shapes_build_a_model_without_a_file() -> None:
    config = load_model_config("layers=32,hidden=4096,heads=32,vocab=32000,ffn=11008")

    assert parameter_counts(config).total == 6_738_415_616


def test_unknown_model_name_lists_the_presets() -> None:
    with pytest.raises(ConfigError, match="llama-2-7b"):
        load_model_config("gpt-9000")
