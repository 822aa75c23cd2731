"""`costrail plan`: the cheapest GPU, cluster, cloud and pricing that fits a job, before it runs."""

from __future__ import annotations

import re
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from costrail.cli.output import console, handled_errors, print_json
from costrail.errors import ConfigError
from costrail.gpu.explain import describe, hours_text
from costrail.gpu.model_config import load_model_config
from costrail.gpu.planner import Plan, PlanOption, PlanRequest, make_plan
from costrail.gpu.specs import gpu_specs
from costrail.gpu.strategies import Job
from costrail.pricing.gpu_offers import CLOUDS

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_HOURS = {"s": 1 / 3600, "m": 1 / 60, "min": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
_MODES = ("train", "finetune-lora", "qlora", "inference")
_PRECISIONS = ("bf16", "fp16", "fp8", "fp32", "bf16-autocast")
_OPTIMIZERS = ("adamw", "adam8bit", "sgd", "adafactor")
_ATTENTION = ("flash", "sdpa", "eager")


def parse_token_count(text: str) -> float:
    """`20B`, `1.5T`, `500M`, `10k`, `2e10` → tokens."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbgt]?)\s*", text.lower())
    if not match:
        raise ConfigError(f"--tokens {text!r} is not a count like 20B, 1.5T, 500M or 2e10")
    value = float(match.group(1)) * _SUFFIX[match.group(2)]
    if value <= 0:
        raise ConfigError("--tokens must be positive")
    return value


def parse_hours(text: str) -> float:
    """`48h`, `2d`, `90m`, `1w`, or a bare number of hours → hours."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|m|min|h|d|w)?\s*", text.lower())
    if not match:
        raise ConfigError(f"--deadline {text!r} is not a duration like 48h, 2d or 90m")
    hours = float(match.group(1)) * _HOURS[match.group(2) or "h"]
    if hours <= 0:
        raise ConfigError("--deadline must be positive")
    return hours


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{option} {value!r} is not one of {', '.join(allowed)}")
    return value


def _list(text: str | None, allowed: tuple[str, ...] | None, option: str) -> tuple[str, ...]:
    if not text:
        return ()
    items = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    if allowed is not None:
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise ConfigError(
                f"{option}: unknown {', '.join(unknown)}; known: {', '.join(allowed)}"
            )
    return items


def plan_command(
    model: str = typer.Option(
        ..., "--model", help="Preset (llama-2-7b …), config.json path, or layers=…,hidden=…"
    ),
    tokens: str = typer.Option(
        ..., "--tokens", help="Tokens to train on (or generate): 20B, 500M …"
    ),
    seq: int = typer.Option(4096, "--seq", help="Sequence length (context for inference)."),
    batch: int = typer.Option(1, "--batch", help="Micro-batch per GPU, in sequences."),
    deadline: str | None = typer.Option(
        None, "--deadline", help="Drop options slower than this: 48h, 2d."
    ),
    clouds: str = typer.Option(",".join(CLOUDS), "--clouds", help="Comma-separated clouds."),
    gpus: str | None = typer.Option(
        None, "--gpus", help="Only these GPU specs, e.g. H100-SXM,L40S."
    ),
    mode: str = typer.Option("train", "--mode", help="train, finetune-lora, qlora or inference."),
    precision: str = typer.Option(
        "bf16", "--precision", help="bf16, fp16, fp8, fp32, bf16-autocast."
    ),
    optimizer: str = typer.Option("adamw", "--optimizer", help="adamw, adam8bit, sgd, adafactor."),
    attention: str = typer.Option("flash", "--attention", help="flash, sdpa or eager."),
    lora_rank: int = typer.Option(16, "--lora-rank", help="LoRA rank (finetune-lora, qlora)."),
    mfu: float = typer.Option(0.40, "--mfu", help="Achieved fraction of peak dense TFLOPS."),
    interruptions: float = typer.Option(
        0.05,
        "--spot-interruptions-per-hour",
        help="Spot interruptions per machine-hour you assume.",
    ),
    checkpoint_minutes: float | None = typer.Option(
        None, "--checkpoint-minutes", help="Time to write one checkpoint (default: estimated)."
    ),
    restart_minutes: float = typer.Option(10.0, "--restart-minutes", help="Time lost per restart."),
    commitment: float | None = typer.Option(
        None, "--commitment-discount", help="Add commitment pricing at this % off on-demand."
    ),
    max_nodes: int = typer.Option(
        32, "--max-nodes", help="Largest multi-node cluster to consider."
    ),
    top: int = typer.Option(10, "--top", help="Rows to show (plus the best of each cloud)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print only JSON, same ranking as the table."
    ),
) -> None:
    """Predict memory and time of a job, and rank the GPUs and prices that fit it."""
    with handled_errors():
        if not 0 < mfu <= 1:
            raise ConfigError("--mfu must be in (0, 1]")
        if seq < 1 or batch < 1 or top < 1 or max_nodes < 1 or interruptions < 0:
            raise ConfigError("--seq, --batch, --top, --max-nodes must be ≥ 1; interruptions ≥ 0")
        request = PlanRequest(
            job=Job(
                model=load_model_config(model),
                mode=_choice(mode, _MODES, "--mode"),  # type: ignore[arg-type]
                tokens=parse_token_count(tokens),
                seq_len=seq,
                micro_batch=batch,
                precision=_choice(precision, _PRECISIONS, "--precision"),  # type: ignore[arg-type]
                optimizer=_choice(optimizer, _OPTIMIZERS, "--optimizer"),  # type: ignore[arg-type]
                attention=_choice(attention, _ATTENTION, "--attention"),  # type: ignore[arg-type]
                lora_rank=lora_rank,
                mfu=mfu,
            ),
            clouds=_list(clouds, CLOUDS, "--clouds") or CLOUDS,
            gpus=_list(gpus, tuple(spec.lower() for spec in gpu_specs()), "--gpus"),
            deadline_hours=parse_hours(deadline) if deadline else None,
            spot_interruptions_per_hour=interruptions,
            checkpoint_minutes=checkpoint_minutes,
            restart_minutes=restart_minutes,
            commitment_discount_pct=commitment,
            max_nodes=max_nodes,
            top=top,
        )
        plan = make_plan(request)
    if as_json:
        print_json(plan_json(plan))
    else:
        _print_plan(plan)
    if plan.winner is None:
        raise typer.Exit(code=1)


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON: `options` holds exactly the table's rows, in the table's order."""
    request, job = plan.request, plan.request.job
    return {
        "model": {
            "name": job.model.name,
            "parameters": plan.parameters,
            "active_parameters": plan.active_parameters,
            "flops_per_token": plan.flops_per_token,
        },
        "job": {
            "mode": job.mode,
            "tokens": job.tokens,
            "seq_len": job.seq_len,
            "micro_batch": job.micro_batch,
            "precision": job.precision,
            "optimizer": job.optimizer,
            "attention": job.attention,
        },
        "assumptions": {
            "mfu": job.mfu,
            "spot_interruptions_per_machine_hour": request.spot_interruptions_per_hour,
            "checkpoint_minutes": round(plan.checkpoint_minutes, 2),
            "restart_minutes": request.restart_minutes,
            "global_batch_tokens": job.global_batch_tokens,
            "inter_node_gbs_per_gpu": job.inter_node_gbs,
            "commitment_discount_pct": request.commitment_discount_pct,
            "deadline_hours": request.deadline_hours,
        },
        "explanation": plan.explanation,
        "options": [option.as_dict() for option in plan.shown],
        "ranked_options": len(plan.ranking),
        "too_slow": plan.too_slow,
        "not_fitting": [
            {
                "gpu": item.gpu,
                "gpus": item.gpus,
                "needed_gib": round(item.needed_gib, 2),
                "capacity_gib": round(item.capacity_gib, 2),
                "strategy": item.strategy,
            }
            for item in plan.not_fitting
        ],
        "skipped_gpus": plan.skipped_gpus,
    }


def plan_table(plan: Plan) -> Table:
    """The ranked rows people see; `plan_json(plan)["options"]` lists the same rows."""
    table = Table(
        title="Ranked options — cheapest first (plus the best of each cloud)", title_justify="left"
    )
    for header, justify in (
        ("#", "right"),
        ("cloud", "left"),
        ("region", "left"),
        ("machine", "left"),
        ("GPUs", "left"),
        ("pricing", "left"),
        ("strategy", "left"),
        ("GiB/GPU", "right"),
        ("free", "right"),
        ("hours", "right"),
        ("$/h", "right"),
        ("cost $", "right"),
    ):
        table.add_column(header, justify=justify, no_wrap=header not in ("strategy", "region"))  # type: ignore[arg-type]
    for option in plan.shown:
        table.add_row(*(Text(cell) for cell in _row(option)))
    return table


def _row(option: PlanOption) -> list[str]:
    machine = option.instance_type + (f" ×{option.nodes}" if option.nodes > 1 else "")
    pricing = option.pricing
    if option.spot_overhead_pct is not None:
        pricing += f" (+{option.spot_overhead_pct:.0f}%)"
    return [
        str(option.rank),
        option.cloud,
        option.region,
        machine,
        f"{option.gpus_total}× {option.gpu}",
        pricing,
        option.strategy,
        f"{option.memory_per_gpu_gib:.1f}/{option.capacity_gib:.0f}",
        f"{option.headroom_pct:.0f}%",
        hours_text(option.hours),
        f"{option.usd_per_hour:,.2f}",
        f"{option.cost_usd:,.2f}",
    ]


def _print_plan(plan: Plan) -> None:
    out = console if console.is_terminal else Console(width=220, highlight=False)
    request, job = plan.request, plan.request.job
    out.print(
        f"[bold]{escape(job.model.name)}[/]: {plan.parameters / 1e9:,.2f} B parameters"
        + (
            f" ({plan.active_parameters / 1e9:,.2f} B active)"
            if plan.active_parameters != plan.parameters
            else ""
        )
        + f"; {job.mode} on {job.tokens / 1e9:,.3g} B tokens, seq {job.seq_len}, "
        f"micro-batch {job.micro_batch}, {job.precision} + {job.optimizer}, "
        f"{job.attention} attention",
        highlight=False,
    )
    out.print(
        f"{plan.flops_per_token:.3g} model FLOPs/token; MFU {job.mfu:.2f}; spot: "
        f"{request.spot_interruptions_per_hour:g} interruptions per machine-hour, checkpoint "
        f"{plan.checkpoint_minutes:.1f} min, restart {request.restart_minutes:g} min"
        + (f"; deadline {request.deadline_hours:g} h" if request.deadline_hours else ""),
        highlight=False,
    )
    if plan.shown:
        out.print(plan_table(plan))
    out.print(f"[bold]Why:[/] {escape(plan.explanation)}", highlight=False)
    if plan.winner is not None:
        out.print(f"Winner: {escape(describe(plan.winner))}", highlight=False)
    if plan.not_fitting:
        listed = "; ".join(
            f"{item.gpu} {item.needed_gib:.1f}/{item.capacity_gib:.0f} GiB on {item.gpus} GPU(s)"
            for item in plan.not_fitting
        )
        out.print(
            f"Does not fit (least memory per GPU any strategy needs / capacity): {listed}",
            highlight=False,
            markup=False,
        )
    if plan.too_slow:
        out.print(
            f"{plan.too_slow} cloud/GPU/pricing choices fit but miss the deadline.", highlight=False
        )
    if plan.skipped_gpus:
        listed = ", ".join(f"{name} ({count})" for name, count in plan.skipped_gpus.items())
        out.print(f"Offers skipped, no GPU spec on file: {listed}", highlight=False, markup=False)
