"""Scoring a detector against labelled anomaly windows (NAB style): a window counts as found
when any flagged point falls inside it; a detection is a run of consecutive flagged points,
and it is a false alarm when it touches no window."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class WindowScore:
    """Window recall and detection precision over one or more labelled series."""

    windows: int
    windows_found: int
    detections: int
    true_detections: int

    @property
    def recall(self) -> float:
        return self.windows_found / self.windows if self.windows else float("nan")

    @property
    def precision(self) -> float:
        return self.true_detections / self.detections if self.detections else float("nan")

    def __add__(self, other: WindowScore) -> WindowScore:
        return WindowScore(
            self.windows + other.windows,
            self.windows_found + other.windows_found,
            self.detections + other.detections,
            self.true_detections + other.true_detections,
        )


def detections(scored: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Runs of consecutive flagged points of one scored series, as (first, last) stamps."""
    ordered = scored.sort_values("ds").reset_index(drop=True)
    flagged = ordered["flagged"].to_numpy(dtype=bool)
    runs: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    start: int | None = None
    for index, is_flagged in enumerate(flagged):
        if is_flagged and start is None:
            start = index
        if not is_flagged and start is not None:
            runs.append((ordered["ds"][start], ordered["ds"][index - 1]))
            start = None
    if start is not None:
        runs.append((ordered["ds"][start], ordered["ds"][len(flagged) - 1]))
    return runs


def score_windows(
    scored: pd.DataFrame, windows: list[tuple[pd.Timestamp, pd.Timestamp]]
) -> WindowScore:
    """One scored series (`ds`, `flagged`) against its labelled windows (inclusive bounds)."""
    runs = detections(scored)

    def touches(
        run: tuple[pd.Timestamp, pd.Timestamp], window: tuple[pd.Timestamp, pd.Timestamp]
    ) -> bool:
        return run[0] <= window[1] and window[0] <= run[1]

    found = sum(any(touches(run, window) for run in runs) for window in windows)
    true_runs = sum(any(touches(run, window) for window in windows) for run in runs)
    return WindowScore(len(windows), found, len(runs), true_runs)
