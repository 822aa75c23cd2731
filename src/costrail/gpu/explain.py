"""Words for a plan: how an option is described and why the winner wins, from its numbers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costrail.gpu.planner import Plan, PlanOption


def describe(option: PlanOption) -> str:
    """`8× NVIDIA H100 SXM5 (aws p5.48xlarge, us-east-1, spot)`."""
    where = f"{option.cloud} {option.instance_type}" + (
        f" × {option.nodes} nodes" if option.nodes > 1 else ""
    )
    return f"{option.gpus_total}× {option.gpu_name} ({where}, {option.region}, {option.pricing})"


def explain(plan: Plan) -> str:
    """Why the top choice wins, in two or three sentences built from the numbers."""
    winner = plan.winner
    request = plan.request
    if winner is None:
        reason = "no GPU in the catalogs fits this job"
        if plan.too_slow:
            reason = f"no fitting option meets the {request.deadline_hours:g} h deadline"
        return f"No option: {reason}."
    text = (
        f"{describe(winner)} wins at ${winner.cost_usd:,.2f} and {hours_text(winner.hours)} h, "
        f"using {winner.strategy} with {winner.headroom_pct:.0f}% memory headroom per GPU."
    )
    runner = next(
        (o for o in plan.ranking[1:] if (o.gpu, o.cloud) != (winner.gpu, winner.cloud)), None
    )
    if runner is not None and runner.cost_usd > 0:
        saving = 100 * (runner.cost_usd - winner.cost_usd) / runner.cost_usd
        text += (
            f" The next-cheapest different choice, {describe(runner)}, costs "
            f"${runner.cost_usd:,.2f} ({saving:.0f}% more) and takes {hours_text(runner.hours)} h."
        )
    if request.job.mode != "inference":
        value = _tflops_per_dollar(winner)
        best_value = max(_tflops_per_dollar(option) for option in plan.ranking)
        if value >= best_value * 0.999:
            text += (
                f" It buys the most dense {winner.precision} compute per dollar of all fitting "
                f"options ({value:,.0f} peak TFLOPS per $/h)."
            )
        else:
            text += (
                " Cheaper compute per dollar exists, but it loses more to communication, "
                "recomputation or interruptions than it saves."
            )
    if winner.pricing == "spot" and winner.spot_overhead_pct is not None:
        text += (
            f" Spot adds {winner.spot_overhead_pct:.0f}% wall time at "
            f"{request.spot_interruptions_per_hour:g} interruptions per machine-hour"
        )
        interval = winner.checkpoint_interval_hours
        text += (
            f" (checkpoint every {interval:.2g} h, Young–Daly)."
            if interval
            else " (restarts only: serving keeps no training state)."
        )
    if request.deadline_hours is not None:
        text += f" It meets the {request.deadline_hours:g} h deadline."
    return text


def hours_text(hours: float) -> str:
    """Hours for people: two decimals under 10 h, one above."""
    return f"{hours:,.2f}" if hours < 10 else f"{hours:,.1f}"


def _tflops_per_dollar(option: PlanOption) -> float:
    price = float(option.usd_per_hour)
    if price <= 0 or not math.isfinite(option.hours):
        return 0.0
    return option.peak_tflops * option.gpus_total * option.compute_hours / option.hours / price
