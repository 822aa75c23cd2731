"""Window-based scoring of a detector against labelled anomaly windows (NAB style)."""

from __future__ import annotations

import pandas as pd

from costrail.timeseries.evaluation import WindowScore, detections, score_windows


def scored(flags: str) -> pd.DataFrame:
    """'..xx.x' → hourly points from 2026-01-01 00:00, flagged where 'x'."""
    stamps = pd.date_range("2026-01-01", periods=len(flags), freq="h")
    return pd.DataFrame({"ds": stamps, "flagged": [c == "x" for c in flags]})


def window(first_hour: int, last_hour: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp("2026-01-01")
    return start + pd.Timedelta(hours=first_hour), start + pd.Timedelta(hours=last_hour)


def test_consecutive_flags_are_one_detection() -> None:
    assert len(detections(scored("..xxx..x."))) == 2


def test_a_window_touched_by_a_detection_is_found_and_others_are_missed() -> None:
    score = score_windows(scored("..xx......x."), [window(3, 5), window(7, 8)])

    assert (score.windows_found, score.windows) == (1, 2)
    assert (score.true_detections, score.detections) == (1, 2)
    assert score.recall == 0.5 and score.precision == 0.5


def test_scores_add_up_across_series() -> None:
    total = WindowScore(2, 1, 3, 1) + WindowScore(1, 1, 1, 1)

    assert (total.windows, total.windows_found, total.detections, total.true_detections) == (
        3,
        2,
        4,
        2,
    )
