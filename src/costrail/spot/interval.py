"""How often to checkpoint: Young's and Daly's optimal intervals and the expected overhead.

Units: every duration is in seconds; the interruption rate is interruptions per hour of
running time (a spot market's observed rate, e.g. 0.05/h ≈ one per 20 h). Interruptions are
assumed to arrive as a Poisson process (exponential times between them, mean `MTBI`).
The interval is *compute* time between the end of one checkpoint and the start of the next;
one cycle of wall time is `interval_s + checkpoint_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SECONDS_PER_HOUR = 3600.0


def mtbi_s(interruptions_per_hour: float) -> float:
    """Mean time between interruptions in seconds; infinite for a rate of zero."""
    if interruptions_per_hour < 0 or math.isnan(interruptions_per_hour):
        raise ValueError(f"interruptions_per_hour must be >= 0, got {interruptions_per_hour}")
    if interruptions_per_hour == 0:
        return math.inf
    return SECONDS_PER_HOUR / interruptions_per_hour


def young_interval_s(checkpoint_s: float, interruptions_per_hour: float) -> float:
    """Young (1974), first order: `sqrt(2 · C · MTBI)`.

    Good when the checkpoint time `C` is small against the MTBI; it overestimates the optimum
    as `C` grows. Infinite when there are no interruptions (never checkpoint for safety).
    """
    _require_non_negative(checkpoint_s=checkpoint_s)
    return math.sqrt(2.0 * checkpoint_s * mtbi_s(interruptions_per_hour))


def daly_interval_s(checkpoint_s: float, interruptions_per_hour: float) -> float:
    """Daly (2006), higher order: for `C < 2·M`,
    `sqrt(2CM) · (1 + ⅓·sqrt(C/2M) + ⅑·(C/2M)) − C`, else `M`.

    Reproduces Daly's published cases: C = 5 min, M = 24 h → 117 min; M = 6 h → 57 min;
    M = 15 min → 9.1 min. Restart time does not move the optimum in this model.
    """
    _require_non_negative(checkpoint_s=checkpoint_s)
    mean_s = mtbi_s(interruptions_per_hour)
    if math.isinf(mean_s):
        return math.inf
    if checkpoint_s >= 2.0 * mean_s:
        return mean_s
    ratio = checkpoint_s / (2.0 * mean_s)
    correction = 1.0 + math.sqrt(ratio) / 3.0 + ratio / 9.0
    return math.sqrt(2.0 * checkpoint_s * mean_s) * correction - checkpoint_s


def expected_overhead_fraction(
    interval_s: float,
    checkpoint_s: float,
    interruptions_per_hour: float,
    restart_s: float = 0.0,
) -> float:
    """Expected extra wall time as a fraction of the failure-free compute time.

    Daly's complete model (interruptions may also strike during checkpoints and restarts):
    `T_wall / T_compute = M · e^(R/M) · (e^((τ + C)/M) − 1) / τ`, so the overhead is that minus
    one. A job needing 10 h of compute at an overhead of 0.08 takes 10.8 h on average. It counts
    checkpoint writes, lost work and restarts (`restart_s`: relaunch + reload until the first
    step). It does not count waiting for new capacity after an interruption. Infinite when
    interruptions come so much faster than cycles that the job would never finish.
    """
    _require_non_negative(checkpoint_s=checkpoint_s, restart_s=restart_s)
    if interval_s < 0 or math.isnan(interval_s) or (interval_s == 0 and checkpoint_s > 0):
        raise ValueError(f"interval_s must be > 0, got {interval_s}")
    mean_s = mtbi_s(interruptions_per_hour)
    try:
        return _daly_overhead(interval_s, checkpoint_s, mean_s, restart_s)
    except OverflowError:
        return math.inf


def _daly_overhead(
    interval_s: float, checkpoint_s: float, mean_s: float, restart_s: float
) -> float:
    """`T_wall / T_compute − 1` of Daly's model, with its limits at τ = 0 and at M or τ infinite."""
    if interval_s == 0:  # free checkpoints taken continuously: only restarts cost anything
        return 0.0 if math.isinf(mean_s) else math.expm1(restart_s / mean_s)
    if math.isinf(mean_s):
        return 0.0 if math.isinf(interval_s) else checkpoint_s / interval_s
    if math.isinf(interval_s):
        return math.inf
    cycles = (
        mean_s * math.exp(restart_s / mean_s) * math.expm1((interval_s + checkpoint_s) / mean_s)
    )
    return cycles / interval_s - 1.0


@dataclass(frozen=True)
class CheckpointPlan:
    """The interval to use and what it costs; what the planner adds to a spot option's time."""

    interval_s: float
    overhead_fraction: float
    mtbi_s: float
    checkpoint_s: float
    restart_s: float


def plan_checkpoints(
    checkpoint_s: float, interruptions_per_hour: float, restart_s: float = 0.0
) -> CheckpointPlan:
    """Daly's interval for these inputs and its expected overhead fraction."""
    interval = daly_interval_s(checkpoint_s, interruptions_per_hour)
    return CheckpointPlan(
        interval_s=interval,
        overhead_fraction=expected_overhead_fraction(
            interval, checkpoint_s, interruptions_per_hour, restart_s
        ),
        mtbi_s=mtbi_s(interruptions_per_hour),
        checkpoint_s=checkpoint_s,
        restart_s=restart_s,
    )


def _require_non_negative(**durations_s: float) -> None:
    for name, value in durations_s.items():
        if value < 0 or math.isnan(value):
            raise ValueError(f"{name} must be >= 0 seconds, got {value}")
