"""What spot interruptions cost a job: Young–Daly checkpoint interval and the wall-time overhead.

Young (1974) and Daly (2006): with checkpoints that take C and a mean time between interruptions
M, checkpointing every τ = sqrt(2·C·M) minimises the expected waste. A job needing T hours of
compute then runs W = T·(1 + C/τ) / (1 − (τ/2 + R)/M) wall hours: every τ it pays C to write a
checkpoint, and each interruption (W/M of them) loses on average half an interval plus the
restart time R (a new instance, reload, warm-up). A job on N machines is interrupted when any of
them is: its rate is N × the per-machine rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Below this share of useful time a spot run is called not viable (it mostly restarts).
MIN_USEFUL_FRACTION = 0.2


@dataclass(frozen=True)
class SpotOverhead:
    """Checkpoint interval and wall time of a job on interruptible machines (hours)."""

    interruptions_per_hour: float
    checkpoint_hours: float
    restart_hours: float
    interval_hours: float | None
    wall_hours: float
    compute_hours: float
    viable: bool

    @property
    def overhead_pct(self) -> float:
        return 100.0 * (self.wall_hours / self.compute_hours - 1.0) if self.compute_hours else 0.0


def young_daly_interval_hours(checkpoint_hours: float, interruptions_per_hour: float) -> float:
    """sqrt(2 · C · MTBI): the checkpoint interval that minimises expected lost time."""
    if interruptions_per_hour <= 0:
        return math.inf
    return math.sqrt(2.0 * checkpoint_hours / interruptions_per_hour)


def spot_overhead(
    compute_hours: float,
    interruptions_per_hour: float,
    checkpoint_hours: float,
    restart_hours: float,
    machines: int = 1,
) -> SpotOverhead:
    """Wall hours for `compute_hours` of work at `interruptions_per_hour` per machine."""
    rate = interruptions_per_hour * machines
    if rate <= 0:
        return SpotOverhead(
            0.0, checkpoint_hours, restart_hours, None, compute_hours, compute_hours, True
        )
    interval = young_daly_interval_hours(checkpoint_hours, rate)
    mtbi = 1.0 / rate
    useful = 1.0 - (interval / 2.0 + restart_hours) / mtbi
    if useful < MIN_USEFUL_FRACTION:
        return SpotOverhead(
            rate, checkpoint_hours, restart_hours, interval, math.inf, compute_hours, False
        )
    writing = checkpoint_hours / interval if interval > 0 else 0.0
    wall = compute_hours * (1.0 + writing) / useful
    return SpotOverhead(rate, checkpoint_hours, restart_hours, interval, wall, compute_hours, True)
