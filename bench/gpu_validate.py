"""Validate the GPU estimator on real hardware: measured peak memory and step time vs predicted.

Builds GPT-2-style models (125M–1.3B parameters) from their shapes — nothing is downloaded —
trains a few steps per configuration (batch, sequence, precision, checkpointing, attention
kernel) and compares `torch.cuda.max_memory_allocated` and the step time with
`costrail.gpu.estimate`. Results go to bench/results/gpu_validate-<device>.md and .json.

    python bench/gpu_validate.py            # the whole grid (needs torch and a CUDA GPU)
    python bench/gpu_validate.py --quick    # the first few configurations

Without torch or without a CUDA device it prints the predicted grid and exits 0: nothing is
measured and no result file is written. torch is not a costrail dependency; install it yourself.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costrail.gpu.estimate import DEFAULT_MFU, estimate_training
from costrail.gpu.model_config import PRESETS, ModelConfig, gpt2_shape, parameter_counts
from costrail.gpu.setup import TrainingSetup
from costrail.gpu.specs import GpuSpec, gpu_specs

RESULTS = Path(__file__).resolve().parent / "results"
GIB = 2**30
MEMORY_TOLERANCE_PCT = 10.0
TIME_TOLERANCE_PCT = 25.0
MICRO_BATCHES = 2
WARMUP_STEPS = 2
MEASURED_STEPS = 3

#: GPT-3 XL's shape (Brown et al. 2020, Table 2.1: 24 layers, d_model 2048, 16 heads), GPT-2 vocab.
GPT_1_3B = gpt2_shape("gpt-1.3b", 24, 2048, 16, positions=2048)


@dataclass(frozen=True)
class Case:
    """One grid point: model shape, micro-batch, sequence and the training knobs."""

    model: ModelConfig
    batch: int
    seq: int
    precision: str = "bf16-autocast"
    checkpointing: str = "none"
    attention: str = "sdpa"
    dropout: float = 0.0

    @property
    def label(self) -> str:
        return (
            f"{self.model.name} b{self.batch} s{self.seq} {self.precision} "
            f"ckpt={self.checkpointing} {self.attention} drop={self.dropout:g}"
        )

    def setup(self) -> TrainingSetup:
        return TrainingSetup(
            seq_len=self.seq,
            micro_batch=self.batch,
            precision=self.precision,  # type: ignore[arg-type]
            checkpointing=self.checkpointing,  # type: ignore[arg-type]
            attention=self.attention,  # type: ignore[arg-type]
            dropout=self.dropout > 0,
            grad_accum_steps=MICRO_BATCHES,
        )


def grid() -> list[Case]:
    small, medium, large = PRESETS["gpt2-125m"], PRESETS["gpt2-350m"], PRESETS["gpt2-774m"]
    return [
        Case(small, 8, 1024),
        Case(small, 8, 1024, checkpointing="full"),
        Case(small, 4, 1024, precision="fp32"),
        Case(small, 4, 512, attention="eager"),
        Case(small, 8, 1024, dropout=0.1),
        Case(medium, 8, 1024),
        Case(medium, 16, 1024, checkpointing="full"),
        Case(large, 4, 1024),
        Case(large, 8, 1024, checkpointing="full"),
        Case(GPT_1_3B, 4, 2048),
        Case(GPT_1_3B, 8, 2048, checkpointing="full"),
    ]


def spec_for_device(name: str) -> GpuSpec | None:
    """The spec row for a CUDA device name ("NVIDIA H100 80GB HBM3" → H100-SXM), if known."""
    lowered = name.lower()
    rules = (
        ("b200", "B200"),
        ("gh200", "GH200"),
        ("h200", "H200-SXM"),
        ("h100 nvl", "H100-NVL"),
        ("h100 pcie", "H100-PCIe"),
        ("h100", "H100-SXM"),
        ("a100-sxm4-80", "A100-80GB-SXM"),
        ("a100 80gb pcie", "A100-80GB-PCIe"),
        ("a100-pcie", "A100-40GB-PCIe"),
        ("a100", "A100-40GB-SXM"),
        ("l40s", "L40S"),
        ("l4", "L4"),
        ("a10g", "A10G"),
        ("a10", "A10"),
        ("4090", "RTX-4090"),
        ("3090", "RTX-3090"),
        ("t4", "T4"),
    )
    for fragment, spec_id in rules:
        if fragment in lowered:
            return gpu_specs()[spec_id]
    return None


def predict(case: Case, spec: GpuSpec | None) -> dict[str, Any]:
    reference = spec or gpu_specs()["H100-SXM"]
    tokens = case.seq * case.batch * MICRO_BATCHES
    estimate = estimate_training(case.model, case.setup(), reference, tokens, DEFAULT_MFU)
    return {
        "predicted_allocated_gib": estimate.memory.allocated / GIB,
        "predicted_breakdown_gib": estimate.memory.as_gib(),
        "predicted_step_s": estimate.time.step_s if spec is not None else None,
        "model_flops_per_step": estimate.time.model_flops_per_token * tokens,
    }


def print_predictions(cases: list[Case]) -> None:
    print(f"{'configuration':70} {'params':>8} {'pred. GiB':>10}")
    for case in cases:
        predicted = predict(case, None)
        params = parameter_counts(case.model).total / 1e6
        print(f"{case.label:70} {params:7.0f}M {predicted['predicted_allocated_gib']:10.2f}")


def build_model(torch: Any, case: Case) -> Any:
    """A GPT-2-style decoder (learned positions, LayerNorm, GELU, tied head) from the shape."""
    nn, functional = torch.nn, torch.nn.functional
    config = case.model
    h, heads = config.hidden, config.heads

    class Block(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(h), nn.LayerNorm(h)
            self.qkv, self.out = nn.Linear(h, 3 * h), nn.Linear(h, h)
            self.fc, self.proj = (
                nn.Linear(h, config.intermediate),
                nn.Linear(config.intermediate, h),
            )
            self.act = nn.GELU(approximate="tanh")
            self.drop = nn.Dropout(case.dropout) if case.dropout else None

        def attention(self, x: Any) -> Any:
            b, s, _ = x.shape
            q, k, v = (
                t.view(b, s, heads, h // heads).transpose(1, 2)
                for t in self.qkv(self.ln_1(x)).split(h, dim=2)
            )
            if case.attention == "sdpa":
                y = functional.scaled_dot_product_attention(
                    q, k, v, is_causal=True, dropout_p=case.dropout if self.training else 0.0
                )
            else:
                scores = (q @ k.transpose(-2, -1)) * (1.0 / (h // heads) ** 0.5)
                mask = torch.ones(s, s, device=x.device, dtype=torch.bool).triu(1)
                probs = functional.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
                if self.drop is not None:
                    probs = self.drop(probs)
                y = probs @ v
            y = self.out(y.transpose(1, 2).contiguous().view(b, s, h))
            return self.drop(y) if self.drop is not None else y

        def forward(self, x: Any) -> Any:
            x = x + self.attention(x)
            m = self.proj(self.act(self.fc(self.ln_2(x))))
            return x + (self.drop(m) if self.drop is not None else m)

    class Gpt(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(config.vocab, h)
            self.wpe = nn.Embedding(config.learned_positions, h)
            self.blocks = nn.ModuleList(Block() for _ in range(config.layers))
            self.ln_f = nn.LayerNorm(h)
            self.drop = nn.Dropout(case.dropout) if case.dropout else None

        def forward(self, ids: Any) -> Any:
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.wte(ids) + self.wpe(positions)
            if self.drop is not None:
                x = self.drop(x)
            for block in self.blocks:
                if case.checkpointing == "full":
                    x = torch.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            return functional.linear(self.ln_f(x), self.wte.weight)

    return Gpt()


def measure(torch: Any, case: Case) -> dict[str, float]:
    """Peak allocated bytes and mean step time over steady-state steps (optimizer states exist)."""
    device = torch.device("cuda")
    model = build_model(torch, case).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    vocab = case.model.vocab
    autocast = case.precision == "bf16-autocast"

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        for _ in range(MICRO_BATCHES):
            ids = torch.randint(0, vocab, (case.batch, case.seq + 1), device=device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                logits = model(ids[:, :-1])
            loss = torch.nn.functional.cross_entropy(
                logits.float().flatten(0, 1), ids[:, 1:].flatten()
            )
            del logits
            loss.backward()
        optimizer.step()

    for _ in range(WARMUP_STEPS):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for _ in range(MEASURED_STEPS):
        step()
    torch.cuda.synchronize()
    step_s = (time.perf_counter() - started) / MEASURED_STEPS
    peak = torch.cuda.max_memory_allocated()
    return {"measured_allocated_gib": peak / GIB, "measured_step_s": step_s}


def _error_pct(predicted: float | None, measured: float) -> float | None:
    return None if predicted is None else 100.0 * (predicted - measured) / measured


def run_on_gpu(torch: Any, cases: list[Case]) -> list[dict[str, Any]]:
    device_name = torch.cuda.get_device_name(0)
    spec = spec_for_device(device_name)
    rows = []
    for case in cases:
        predicted = predict(case, spec)
        try:
            measured = measure(torch, case)
        except torch.cuda.OutOfMemoryError:
            print(f"{case.label}: out of memory on {device_name}, skipped", flush=True)
            continue
        finally:
            gc.collect()
            torch.cuda.empty_cache()
        row = {"case": case.label, **predicted, **measured}
        row["memory_error_pct"] = _error_pct(
            predicted["predicted_allocated_gib"], measured["measured_allocated_gib"]
        )
        row["time_error_pct"] = _error_pct(
            predicted["predicted_step_s"], measured["measured_step_s"]
        )
        if spec is not None:
            peak = spec.peak_tflops(case.precision) * 1e12  # type: ignore[arg-type]
            row["implied_mfu"] = (
                predicted["model_flops_per_step"] / measured["measured_step_s"] / peak
            )
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict[str, Any]) -> str:
    time_error = row["time_error_pct"]
    return (
        f"{row['case']:70} mem {row['predicted_allocated_gib']:6.2f} vs "
        f"{row['measured_allocated_gib']:6.2f} GiB ({row['memory_error_pct']:+.1f}%)  step "
        f"{row['measured_step_s']:.3f} s"
        + (f" ({time_error:+.1f}%)" if time_error is not None else "")
    )


def write_results(device_name: str, rows: list[dict[str, Any]], torch_version: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", device_name.lower()).strip("-")
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "device": device_name,
        "torch": torch_version,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "micro_batches_per_step": MICRO_BATCHES,
        "mfu_assumed": DEFAULT_MFU,
        "rows": rows,
    }
    (RESULTS / f"gpu_validate-{slug}.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        f"# Estimator vs measured — {device_name}",
        "",
        f"torch {torch_version}; AdamW (fused), {MICRO_BATCHES} micro-batches per step; "
        f"predicted step time at MFU {DEFAULT_MFU}. Memory = `torch.cuda.max_memory_allocated`.",
        "",
        "| configuration | predicted GiB | measured GiB | error | predicted step s | "
        "measured step s | error | implied MFU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        predicted_s = row["predicted_step_s"]
        lines.append(
            f"| {row['case']} | {row['predicted_allocated_gib']:.2f} | "
            f"{row['measured_allocated_gib']:.2f} | {row['memory_error_pct']:+.1f}% | "
            + (f"{predicted_s:.3f}" if predicted_s is not None else "—")
            + f" | {row['measured_step_s']:.3f} | "
            + (f"{row['time_error_pct']:+.1f}%" if row["time_error_pct"] is not None else "—")
            + f" | {row.get('implied_mfu', float('nan')):.2f} |"
        )
    within = sum(abs(row["memory_error_pct"]) <= MEMORY_TOLERANCE_PCT for row in rows)
    lines += ["", f"Memory within {MEMORY_TOLERANCE_PCT:g} %: {within} of {len(rows)}."]
    path = RESULTS / f"gpu_validate-{slug}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="Only the first four configurations.")
    args = parser.parse_args(argv)
    cases = grid()[:4] if args.quick else grid()
    try:
        import torch
    except ImportError:
        torch = None
    if torch is None or not torch.cuda.is_available():
        reason = "torch is not installed" if torch is None else "no CUDA device is visible"
        print_predictions(cases)
        print(
            f"\nCPU-only run: {reason}. Printed the predicted grid; nothing was measured and no "
            "result file was written. Run on a CUDA GPU with torch installed to validate."
        )
        return 0
    rows = run_on_gpu(torch, cases)
    path = write_results(torch.cuda.get_device_name(0), rows, torch.__version__)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
