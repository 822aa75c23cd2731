"""Usage patterns over the timeline: always on, work hours, training runs, spot runs, jobs.

Each returns a boolean mask over the timeline's hours (or seconds per hour for jobs that start
and stop mid-hour), drawn from the caller's random stream so the pattern is reproducible.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from costrail.demo.timeline import BoolArray, IntArray, Timeline


def always_on(timeline: Timeline) -> BoolArray:
    return np.ones(timeline.hours, dtype=np.bool_)


def work_hours(timeline: Timeline) -> BoolArray:
    return timeline.workday_mask.copy()


def between(timeline: Timeline, first_hour: int, end_hour: int) -> BoolArray:
    """Hours in [first_hour, end_hour)."""
    mask = np.zeros(timeline.hours, dtype=np.bool_)
    mask[max(first_hour, 0) : min(end_hour, timeline.hours)] = True
    return mask


def training_runs(
    rng: np.random.Generator,
    timeline: Timeline,
    duty: float,
    min_run_hours: int,
    max_run_hours: int,
) -> BoolArray:
    """Runs of `min..max` hours separated by gaps, busy about `duty` of the time."""
    mask = np.zeros(timeline.hours, dtype=np.bool_)
    mean_run = (min_run_hours + max_run_hours) / 2
    mean_gap = mean_run * (1 - duty) / duty
    hour = int(rng.integers(0, max(1, int(mean_gap))))
    while hour < timeline.hours:
        run = int(rng.integers(min_run_hours, max_run_hours + 1))
        mask[hour : hour + run] = True
        hour += run + max(1, int(rng.exponential(mean_gap)))
    return mask


def with_interruptions(rng: np.random.Generator, mask: BoolArray, per_hour: float) -> BoolArray:
    """Spot capacity: each running hour is reclaimed with probability `per_hour` for 1–4 hours."""
    result = mask.copy()
    starts = np.flatnonzero(mask & (rng.random(mask.size) < per_hour))
    for start in starts:
        result[start : start + int(rng.integers(1, 5))] = False
    return result


def jobs(
    rng: np.random.Generator,
    timeline: Timeline,
    per_month: int,
    min_hours: float,
    max_hours: float,
) -> list[tuple[int, int]]:
    """Batch jobs as (start second, duration in seconds) from the timeline start, in time order."""
    count = per_month * len(timeline.periods)
    total_seconds = timeline.hours * 3600
    starts = np.sort(rng.integers(0, total_seconds - int(max_hours * 3600), size=count))
    durations = rng.integers(int(min_hours * 3600), int(max_hours * 3600), size=count)
    return [(int(s), int(d)) for s, d in zip(starts, durations, strict=True)]


def seconds_by_hour(start_second: int, duration_seconds: int) -> tuple[IntArray, IntArray]:
    """Split one job into (hour index, seconds used in that hour) for per-second billing."""
    end_second = start_second + duration_seconds
    first_hour, last_hour = start_second // 3600, (end_second - 1) // 3600
    hours = np.arange(first_hour, last_hour + 1, dtype=np.int64)
    hour_starts = hours * 3600
    used = np.minimum(hour_starts + 3600, end_second) - np.maximum(hour_starts, start_second)
    return hours, np.asarray(used, dtype=np.int64)


def diurnal(timeline: Timeline, low: float, high: float) -> npt.NDArray[np.float64]:
    """A smooth day curve between `low` (night) and `high` (local mid-afternoon)."""
    phase = (timeline.local_hour - 15) / 24 * 2 * np.pi
    return np.asarray(low + (high - low) * (0.5 + 0.5 * np.cos(phase)), dtype=np.float64)
