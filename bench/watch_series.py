"""Benchmark: 10,000 scope series × 180 days scored for anomalies and projected to month end,
on 2 cores (target < 60 s). Records wall time per stage and peak memory.

python bench/watch_series.py                  # 10,000 × 180
python bench/watch_series.py --series 1000    # smaller
"""

from __future__ import annotations

import os

# pin numpy's thread pools before numpy is imported: the target is 2 cores
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "2")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from datetime import UTC, date, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def synthetic_series(n_series: int, days: int, seed: int = 7) -> pd.DataFrame:
    """Scope series like a warehouse gives: level $50–$5,000/day, a weekday pattern, trend,
    noise, 1 % of series with a 3-day spike, 5 % starting late (new scopes)."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2026-06-03", periods=days, freq="D")
    level = rng.lognormal(np.log(500), 1.0, (n_series, 1))
    weekday = 1 - rng.uniform(0, 0.5, (n_series, 1)) * (stamps.day_of_week >= 5)[None, :]
    trend = 1 + rng.normal(0, 0.002, (n_series, 1)) * np.arange(days)[None, :]
    values = level * weekday * trend * rng.normal(1, 0.05, (n_series, days))
    spiked = rng.choice(n_series, n_series // 100, replace=False)
    values[spiked, days - 20 : days - 17] *= 3
    late = rng.choice(n_series, n_series // 20, replace=False)
    starts = rng.integers(30, days - 5, len(late))
    for row, start in zip(late, starts, strict=True):
        values[row, :start] = np.nan
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat([f"scope={i}" for i in range(n_series)], days),
            "ds": np.tile(stamps, n_series),
            "y": values.ravel(),
        }
    )
    return frame.dropna(subset=["y"]).reset_index(drop=True)


def _pin_two_cores() -> str:
    try:
        available = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(available[:2]))
        return f"pinned to cores {available[:2]} of {len(available)}"
    except (AttributeError, OSError):
        return "not pinned (sched_setaffinity unavailable)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()
    pinning = _pin_two_cores()

    from costrail.timeseries import AnomalySettings, project_period, score_series

    timings: dict[str, float] = {}
    started = time.perf_counter()
    series = synthetic_series(args.series, args.days)
    timings["generate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    scored = score_series(series, AnomalySettings())
    timings["anomaly_scoring_s"] = time.perf_counter() - started

    newest = series["ds"].max().date()
    started = time.perf_counter()
    projections = project_period(series, date(newest.year, newest.month, 1), _next_month(newest))
    timings["month_end_forecast_s"] = time.perf_counter() - started

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total_s = timings["anomaly_scoring_s"] + timings["month_end_forecast_s"]
    record = {
        "benchmark": "watch_series",
        "series": args.series,
        "days": args.days,
        "points": len(series),
        "flagged_points": int(scored["flagged"].sum()),
        "projections": len(projections),
        "timings_s": {key: round(value, 2) for key, value in timings.items()},
        "score_and_forecast_s": round(total_s, 2),
        "target_s": 60,
        "peak_rss_mib": round(peak_mib, 1),
        "cores": pinning,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, shared with other engineers' jobs",
        "python": platform.python_version(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = RESULTS / f"watch_series-{stamp}.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"wrote {path}")


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


if __name__ == "__main__":
    main()
