"""Transformer shapes from a Hugging Face config.json, a named preset or explicit numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from costrail.errors import ConfigError, InputError


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a decoder-only transformer: everything memory and FLOPs depend on.

    `intermediate` is the MLP width of one expert (the whole MLP for a dense model). `gated_mlp`
    means SwiGLU-style gate/up/down (three matrices) instead of GPT-2's two. `experts` is 1 for a
    dense model; `experts_per_token` is the top-k of a mixture-of-experts router.
    """

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    intermediate: int
    head_dim: int = 0
    experts: int = 1
    experts_per_token: int = 1
    gated_mlp: bool = True
    tied_embeddings: bool = False
    learned_positions: int = 0
    rms_norm: bool = True
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    dropout: bool = False

    def __post_init__(self) -> None:
        for field_name in ("layers", "hidden", "heads", "kv_heads", "vocab", "intermediate"):
            if getattr(self, field_name) <= 0:
                raise ConfigError(f"model {self.name!r}: {field_name} must be positive")
        if self.heads % self.kv_heads:
            raise ConfigError(f"model {self.name!r}: heads must be a multiple of kv_heads")
        if self.experts_per_token > self.experts:
            raise ConfigError(f"model {self.name!r}: experts_per_token exceeds experts")
        if self.head_dim == 0:
            object.__setattr__(self, "head_dim", self.hidden // self.heads)

    @property
    def attention_width(self) -> int:
        """Width of all query heads together (a·d); equals `hidden` unless head_dim is set apart."""
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        """Width of the key (or value) projection: kv_heads · head_dim (smaller under GQA)."""
        return self.kv_heads * self.head_dim

    @property
    def is_moe(self) -> bool:
        return self.experts > 1


@dataclass(frozen=True)
class ParameterCounts:
    """Parameter counts by role; `active` is what one token uses (k of E experts for MoE);
    `*_linear` counts only weight matrices (no biases, norms)."""

    total: int
    active: int
    embedding: int
    position_embedding: int
    lm_head: int
    per_layer: int
    per_layer_active: int
    per_layer_linear: int
    per_layer_linear_active: int
    largest_layer: int
    final_norm: int


def mlp_linear_params(config: ModelConfig) -> int:
    """Weights of one expert's MLP matrices (no biases)."""
    matrices = 3 if config.gated_mlp else 2
    return matrices * config.hidden * config.intermediate


def attention_linear_params(config: ModelConfig) -> int:
    """Weights of Q, K, V and output projections of one layer (no biases)."""
    return config.hidden * (2 * config.attention_width + 2 * config.kv_width)


def linear_shapes(config: ModelConfig) -> list[tuple[int, int, int]]:
    """(rows, cols, copies) of every weight matrix of one layer, for LoRA and Adafactor sizes."""
    h, f = config.hidden, config.intermediate
    shapes = [
        (h, config.attention_width, 1),
        (h, config.kv_width, 2),
        (config.attention_width, h, 1),
    ]
    if config.gated_mlp:
        shapes += [(h, f, 2 * config.experts), (f, h, config.experts)]
    else:
        shapes += [(h, f, config.experts), (f, h, config.experts)]
    return shapes


def parameter_counts(config: ModelConfig) -> ParameterCounts:
    """Exact parameter counts from the shape (Llama-2-7B: 6,738,415,616; GPT-2: 124,439,808)."""
    h = config.hidden
    norm = h if config.rms_norm else 2 * h
    attention = attention_linear_params(config)
    if config.qkv_bias:
        attention += config.attention_width + 2 * config.kv_width
    if config.out_bias:
        attention += h
    expert = mlp_linear_params(config)
    if config.mlp_bias:
        expert += (2 * config.intermediate if config.gated_mlp else config.intermediate) + h
    router = h * config.experts if config.is_moe else 0
    per_layer = attention + config.experts * expert + router + 2 * norm
    per_layer_active = attention + config.experts_per_token * expert + router + 2 * norm
    embedding = config.vocab * h
    lm_head = 0 if config.tied_embeddings else config.vocab * h
    positions = config.learned_positions * h
    total = embedding + positions + lm_head + config.layers * per_layer + norm
    return ParameterCounts(
        total=total,
        active=total - config.layers * (per_layer - per_layer_active),
        embedding=embedding,
        position_embedding=positions,
        lm_head=lm_head,
        per_layer=per_layer,
        per_layer_active=per_layer_active,
        per_layer_linear=attention_linear_params(config)
        + config.experts * mlp_linear_params(config),
        per_layer_linear_active=attention_linear_params(config)
        + config.experts_per_token * mlp_linear_params(config),
        largest_layer=max(per_layer, embedding),
        final_norm=norm,
    )


def matmul_params_active(config: ModelConfig) -> int:
    """Weights multiplied per token: layer matrices of active experts plus the output head.

    The input embedding is a lookup (no FLOPs); a tied output head still costs its GEMM.
    """
    counts = parameter_counts(config)
    return config.layers * counts.per_layer_linear_active + config.vocab * config.hidden


def gpt2_shape(
    name: str, layers: int, hidden: int, heads: int, positions: int = 1024
) -> ModelConfig:
    """A GPT-2-style model of this depth and width: 4h MLP, biases, LayerNorm, tied embeddings,
    learned positions and the GPT-2 vocabulary (the presets and the GPU validation bench)."""
    return ModelConfig(
        name=name,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        vocab=50257,
        intermediate=4 * hidden,
        gated_mlp=False,
        tied_embeddings=True,
        learned_positions=positions,
        rms_norm=False,
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        dropout=True,
    )


def _llama(
    name: str, layers: int, hidden: int, heads: int, kv: int, ffn: int, vocab: int
) -> ModelConfig:
    return ModelConfig(
        name=name,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv,
        vocab=vocab,
        intermediate=ffn,
    )


#: Shapes copied from each model's public config.json (see docs/plan.md); nothing is downloaded.
PRESETS: dict[str, ModelConfig] = {
    preset.name: preset
    for preset in (
        gpt2_shape("gpt2-125m", 12, 768, 12),
        gpt2_shape("gpt2-350m", 24, 1024, 16),
        gpt2_shape("gpt2-774m", 36, 1280, 20),
        gpt2_shape("gpt2-1.5b", 48, 1600, 25),
        _llama("llama-2-7b", 32, 4096, 32, 32, 11008, 32000),
        _llama("llama-2-13b", 40, 5120, 40, 40, 13824, 32000),
        _llama("llama-2-70b", 80, 8192, 64, 8, 28672, 32000),
        replace(_llama("llama-3.2-1b", 16, 2048, 32, 8, 8192, 128256), tied_embeddings=True),
        _llama("llama-3-8b", 32, 4096, 32, 8, 14336, 128256),
        _llama("llama-3-70b", 80, 8192, 64, 8, 28672, 128256),
        _llama("llama-3.1-405b", 126, 16384, 128, 8, 53248, 128256),
        _llama("mistral-7b", 32, 4096, 32, 8, 14336, 32000),
        replace(
            _llama("mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000), experts=8, experts_per_token=2
        ),
        replace(_llama("qwen2.5-7b", 28, 3584, 28, 4, 18944, 152064), qkv_bias=True),
    )
}


def _first(config: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if config.get(key) is not None:
            return config[key]
    return None


def from_hf_config(
    config: dict[str, Any], name: str = "custom", source: str | None = None
) -> ModelConfig:
    """A `ModelConfig` from a Hugging Face `config.json` (GPT-2, Llama, Mistral, Mixtral, Qwen2 …).

    Raises InputError naming the missing key when a shape the estimator needs is absent.
    """
    model_type = str(config.get("model_type", ""))
    gpt2_like = model_type in ("gpt2", "gpt_bigcode", "gpt_neo")

    def need(*keys: str) -> int:
        value = _first(config, *keys)
        if value is None:
            raise InputError(
                "the model config lacks a shape the estimator needs",
                file=source,
                column=keys[0],
                hint=f"add {keys[0]!r} or use a preset ({', '.join(PRESETS)})",
            )
        return int(value)

    hidden = need("hidden_size", "n_embd", "d_model")
    heads = need("num_attention_heads", "n_head")
    intermediate = _first(
        config, "moe_intermediate_size", "intermediate_size", "n_inner", "ffn_dim"
    )
    activation = str(_first(config, "hidden_act", "activation_function") or "")
    dropout_keys = (
        "attention_dropout",
        "attn_pdrop",
        "resid_pdrop",
        "hidden_dropout",
        "embd_pdrop",
    )
    tied_default = gpt2_like
    return ModelConfig(
        name=name,
        layers=need("num_hidden_layers", "n_layer", "num_layers"),
        hidden=hidden,
        heads=heads,
        kv_heads=int(_first(config, "num_key_value_heads", "n_head_kv") or heads),
        vocab=need("vocab_size"),
        intermediate=int(intermediate) if intermediate else 4 * hidden,
        head_dim=int(config.get("head_dim") or 0),
        experts=int(_first(config, "num_local_experts", "num_experts") or 1),
        experts_per_token=int(_first(config, "num_experts_per_tok") or 1),
        gated_mlp=not gpt2_like and activation not in ("gelu", "gelu_new", "relu"),
        tied_embeddings=bool(config.get("tie_word_embeddings", tied_default)),
        learned_positions=int(_first(config, "n_positions") or 0) if gpt2_like else 0,
        rms_norm=not gpt2_like,
        qkv_bias=gpt2_like or model_type == "qwen2" or bool(config.get("attention_bias")),
        out_bias=gpt2_like or bool(config.get("attention_bias")),
        mlp_bias=gpt2_like or bool(config.get("mlp_bias")),
        dropout=any(float(config.get(key) or 0) > 0 for key in dropout_keys),
    )


_EXPLICIT_KEYS = {
    "layers": "layers",
    "hidden": "hidden",
    "heads": "heads",
    "kv_heads": "kv_heads",
    "vocab": "vocab",
    "intermediate": "intermediate",
    "ffn": "intermediate",
    "experts": "experts",
    "top_k": "experts_per_token",
    "head_dim": "head_dim",
}


def from_explicit(text: str) -> ModelConfig:
    """`layers=32,hidden=4096,heads=32,vocab=32000,intermediate=11008[,kv_heads=8,experts=8,top_k=2]`."""
    values: dict[str, int] = {}
    for part in text.split(","):
        key, _, raw = part.partition("=")
        field_name = _EXPLICIT_KEYS.get(key.strip())
        if field_name is None or not raw.strip().isdigit():
            raise ConfigError(
                f"--model {text!r}: {part!r} is not KEY=INTEGER, KEY in {sorted(_EXPLICIT_KEYS)}"
            )
        values[field_name] = int(raw)
    missing = {"layers", "hidden", "heads", "vocab"} - values.keys()
    if missing:
        raise ConfigError(f"--model {text!r}: missing {', '.join(sorted(missing))}")
    values.setdefault("kv_heads", values["heads"])
    values.setdefault("intermediate", 4 * values["hidden"])
    return ModelConfig(name="custom", **values)  # type: ignore[arg-type]


def load_model_config(spec: str) -> ModelConfig:
    """A preset name, a path to a config.json, or explicit `key=value` shapes."""
    if spec.lower() in PRESETS:
        return PRESETS[spec.lower()]
    path = Path(spec)
    if path.is_dir():
        path = path / "config.json"
    if path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"not a readable JSON config: {error}", file=path) from error
        if not isinstance(raw, dict):
            raise InputError("a model config must be a JSON object", file=path)
        return from_hf_config(raw, name=path.parent.name or path.stem, source=str(path))
    if "=" in spec:
        return from_explicit(spec)
    raise ConfigError(
        f"--model {spec!r} is neither a preset ({', '.join(PRESETS)}), a config.json path, "
        "nor key=value shapes"
    )
