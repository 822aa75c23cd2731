"""Forecasts: calibrated intervals on weekly-seasonal series with known noise, missing days,
quarter-end projections, hourly input, and the backtest."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from costrail.timeseries import (
    SeasonalNaive,
    TrendSeasonal,
    backtest,
    project_period,
    quarter_bounds,
)

WEEK_USD = np.array([100, 110, 120, 110, 100, 60, 50], dtype=float)
NOISE_SD_USD = 10.0


def weekly_series(n_series: int, days: int, seed: int = 1, slope_usd: float = 0.0) -> pd.DataFrame:
    """Weekday pattern + optional linear trend + N(0, 10) noise, from Monday 2026-01-05."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2026-01-05", periods=days, freq="D")
    level = WEEK_USD[stamps.day_of_week][None, :] + slope_usd * np.arange(days)[None, :]
    values = level + rng.normal(0, NOISE_SD_USD, (n_series, days))
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], days),
            "ds": np.tile(stamps, n_series),
            "y": values.ravel(),
        }
    )


def coverage(frame: pd.DataFrame, truth: pd.DataFrame, name: str, level: int) -> float:
    merged = frame.merge(truth, on=["unique_id", "ds"])
    inside = (merged["y"] >= merged[f"{name}-lo-{level}"]) & (
        merged["y"] <= merged[f"{name}-hi-{level}"]
    )
    return float(inside.mean())


@pytest.fixture(scope="module")
def history_and_future() -> tuple[pd.DataFrame, pd.DataFrame]:
    series = weekly_series(400, 140)
    cut = pd.Timestamp("2026-01-05") + pd.Timedelta(days=112)
    return series[series["ds"] < cut], series[series["ds"] >= cut]


def test_daily_intervals_cover_about_80_and_95_percent(
    history_and_future: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    history, future = history_and_future

    predicted = TrendSeasonal().fit(history).predict(28, level=[80, 95])

    assert 0.75 <= coverage(predicted, future, "trend_seasonal", 80) <= 0.86
    assert 0.91 <= coverage(predicted, future, "trend_seasonal", 95) <= 0.98


def test_the_weekly_pattern_is_forecast(
    history_and_future: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    history, _ = history_and_future

    predicted = TrendSeasonal().fit(history).predict(7)

    by_weekday = predicted.groupby(predicted["ds"].dt.day_of_week)["trend_seasonal"].mean()
    assert np.abs(by_weekday.to_numpy() - WEEK_USD).max() < 5


def test_seasonal_naive_repeats_last_week_with_the_same_contract(
    history_and_future: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    history, _ = history_and_future

    predicted = SeasonalNaive().fit(history).predict(14, level=[80])

    one = predicted[predicted["unique_id"] == "s0"]["seasonal_naive"].to_numpy()
    last_week = history[history["unique_id"] == "s0"]["y"].to_numpy()[-7:]
    assert np.allclose(one[:7], last_week) and np.allclose(one[7:], last_week)
    assert {"seasonal_naive-lo-80", "seasonal_naive-hi-80"} <= set(predicted.columns)


def test_month_end_interval_covers_the_true_total_about_80_percent() -> None:
    series = weekly_series(400, 150, seed=3)  # 2026-01-05 … 2026-06-03
    known = series[series["ds"] <= pd.Timestamp("2026-05-10")]
    truth = series[series["ds"].dt.month == 5].groupby("unique_id")["y"].sum()

    projections = project_period(known, date(2026, 5, 1), date(2026, 6, 1))

    inside80 = [float(p.lo80_usd) <= truth[p.scope] <= float(p.hi80_usd) for p in projections]
    inside95 = [float(p.lo95_usd) <= truth[p.scope] <= float(p.hi95_usd) for p in projections]
    assert 0.72 <= np.mean(inside80) <= 0.88
    assert 0.90 <= np.mean(inside95) <= 0.99


def test_actual_to_date_is_exact_and_missing_days_do_not_break_the_projection() -> None:
    series = weekly_series(1, 120, seed=5)
    rng = np.random.default_rng(0)
    gappy = series.drop(index=list(rng.choice(series.index[:-1], size=15, replace=False)))
    known = gappy[gappy["ds"] <= pd.Timestamp("2026-04-15")]
    april = known[known["ds"] >= pd.Timestamp("2026-04-01")]["y"].sum()

    (projection,) = project_period(known, date(2026, 4, 1), date(2026, 5, 1))

    assert abs(float(projection.actual_to_date_usd) - april) < 0.01
    expected_rest = 15 * WEEK_USD.mean()  # April 16 … 30
    assert abs(float(projection.expected_total_usd) - april - expected_rest) < 0.1 * expected_rest
    assert projection.lo95_usd < projection.lo80_usd < projection.expected_total_usd
    assert projection.expected_total_usd < projection.hi80_usd < projection.hi95_usd


def test_quarter_end_projection_counts_every_remaining_day_of_the_quarter() -> None:
    flat = pd.DataFrame(
        {"unique_id": "flat", "ds": pd.date_range("2026-01-01", "2026-02-14"), "y": 10.0}
    )
    start, end = quarter_bounds(date(2026, 2, 14))

    (projection,) = project_period(flat, start, end)

    assert (start, end) == (date(2026, 1, 1), date(2026, 4, 1))
    assert projection.actual_to_date_usd == 450  # 45 days × $10
    assert abs(float(projection.expected_total_usd) - 900) < 1  # + 45 more days × $10


def test_hourly_series_are_projected_per_day() -> None:
    stamps = pd.date_range("2026-03-01", "2026-03-20 23:00", freq="h")
    hourly = pd.DataFrame({"unique_id": "gpu", "ds": stamps, "y": 2.0})

    (projection,) = project_period(hourly, date(2026, 3, 1), date(2026, 4, 1))

    assert projection.actual_to_date_usd == 960  # 20 days × 24 h × $2
    assert abs(float(projection.expected_total_usd) - 31 * 48) < 2


def test_a_trend_is_followed_but_damped() -> None:
    rising = weekly_series(50, 112, seed=7, slope_usd=1.0)
    known = rising[rising["ds"] < pd.Timestamp("2026-04-27")]

    predicted = TrendSeasonal().fit(known).predict(7)

    last_week = known.groupby("unique_id").tail(7)["y"].mean()
    assert predicted["trend_seasonal"].mean() > last_week + 3  # kept rising


def test_backtest_scores_both_models_on_the_same_points() -> None:
    scores = backtest(weekly_series(100, 120, seed=9))

    by_model = {score.model: score for score in scores}
    assert set(by_model) == {"seasonal_naive", "trend_seasonal"}
    assert by_model["seasonal_naive"].points == by_model["trend_seasonal"].points > 0
    assert by_model["trend_seasonal"].mase < by_model["seasonal_naive"].mase
    assert 70 <= by_model["trend_seasonal"].coverage80_pct <= 90
