"""Anomaly detectors on a matrix of series (one row per series, NaN where unobserved): each
returns the expected value and a score for every point, using only the points before it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

MAD_TO_SD = 1.4826
#: a point's scale is at least this share of its expected level: cost series are often flat
#: to the cent (an always-on instance), where a MAD of 0 would make any change infinite
SCALE_FLOOR_SHARE = 0.02

Detector = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """NaN-ignoring median along `axis` (NaN where all are NaN).

    Sorting once (NaN sorts last) and picking the middle of the valid values is several times
    faster than numpy's masked-array `nanmedian` on the (series × time × window) stacks here.
    """
    moved = np.moveaxis(values, axis, -1)
    ordered = np.sort(moved, axis=-1)
    count = (~np.isnan(moved)).sum(axis=-1)
    low = np.clip((count - 1) // 2, 0, None)[..., None]
    high = np.clip(count // 2, 0, moved.shape[-1] - 1)[..., None]
    middle = (
        np.take_along_axis(ordered, low, axis=-1) + np.take_along_axis(ordered, high, axis=-1)
    )[..., 0] / 2
    return np.where(count > 0, middle, np.nan)


def _shift(values: np.ndarray, steps: int) -> np.ndarray:
    """values[:, t - steps] at t (NaN before the start)."""
    shifted = np.full_like(values, np.nan)
    if steps < values.shape[1]:
        shifted[:, steps:] = values[:, : values.shape[1] - steps]
    return shifted


def _rolling_median(values: np.ndarray, width: int) -> np.ndarray:
    """Median of values[:, t-width+1 .. t] at t (NaN-aware; NaN until any value is in).

    Small windows use a strided view (fast for 10,000 short daily series); long windows (a
    day of 5-minute steps) use pandas' streaming rolling median to keep memory linear.
    """
    if width * values.shape[1] <= 5_000_000 // max(len(values), 1) or width <= 32:
        padded = np.concatenate([np.full((len(values), width - 1), np.nan), values], axis=1)
        return _nanmedian(sliding_window_view(padded, width, axis=1), axis=2)
    frame = pd.DataFrame(values.T)
    return frame.rolling(width, min_periods=1).median().to_numpy().T


def seasonal(values: np.ndarray, season: int, cycles: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Robust seasonal baseline with trend; the score is a MAD-scaled residual.

    Expected at t = level (median of the last season before t, moved on by the median of the
    last three season-on-season slopes) + the seasonal effect (median, over the same slot of the
    last `cycles` seasons, of how far that point stood from its own season's median). The
    score divides the residual by the scaled MAD of the residuals of the `cycles` seasons
    before t. Medians keep a past anomaly from inflating the baseline or the scale.
    """
    recent = _rolling_median(values, season)  # median of [t-season+1, t]
    level_now = _shift(recent, 1)  # median of the season before t
    weekly_steps = [
        (_shift(recent, 1 + k * season) - _shift(recent, 1 + (k + 1) * season)) / season
        for k in range(3)
    ]
    # the median of three season-on-season moves: a trend moves all three, a one-off level
    # shift (a fleet turned off) moves one and is ignored
    slope = np.nan_to_num(_nanmedian(np.stack(weekly_steps, axis=2), axis=2))
    centre_offset = (season + 1) / 2  # from the middle of the last season to t
    level = level_now + slope * centre_offset
    half = season // 2
    centred = _backward_shift(recent, half) if half else recent  # median of the season around t
    deviation = values - centred
    effects = np.stack([_shift(deviation, k * season) for k in range(1, cycles + 1)], axis=2)
    effect = np.nan_to_num(_nanmedian(effects, axis=2))
    expected = level + effect
    residual = values - expected
    spread = _rolling_median(np.abs(_shift(residual, 1)), cycles * season) * MAD_TO_SD
    floor = SCALE_FLOOR_SHARE * np.abs(expected)
    scale = np.fmax(np.nan_to_num(spread, nan=0.0), floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, residual / scale, np.sign(residual) * np.inf)
    return expected, score


def _backward_shift(values: np.ndarray, steps: int) -> np.ndarray:
    """values[:, t + steps] at t (NaN past the end; all NaN when the series is no longer than
    `steps`, e.g. two days of a weekly season)."""
    shifted = np.full_like(values, np.nan)
    if steps < values.shape[1]:
        shifted[:, : values.shape[1] - steps] = values[:, steps:]
    return shifted


def trailing_mean(values: np.ndarray, season: int) -> tuple[np.ndarray, np.ndarray]:
    """The simple rule: expected = mean of the last 7 days (7 × `season`/7 steps) before t;
    the score is the relative change y / expected − 1."""
    width = 7 if season == 7 else 7 * season
    earlier = pd.DataFrame(values.T).shift(1)
    expected = earlier.rolling(width, min_periods=1).mean().to_numpy().T
    with np.errstate(divide="ignore", invalid="ignore"):
        change = values / np.abs(expected) - np.sign(expected)
        score = np.where(expected != 0, change, np.where(values > 0, np.inf, 0.0))
    return expected, score


DETECTORS: dict[str, Detector] = {"seasonal": seasonal, "trailing7": trailing_mean}
