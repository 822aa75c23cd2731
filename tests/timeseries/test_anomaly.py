"""Anomaly scoring: spikes flagged, weekly patterns not, both thresholds needed, runs joined,
new series waiting, and the trailing-7-day baseline rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costrail.analyses import analyses, context_for
from costrail.timeseries import AnomalyReport, AnomalySettings, detect_anomalies, score_series
from tests.timeseries.focus_bill import GPU_DAYS, bill_warehouse


def weekly_costs(days: int = 70, seed: int = 2) -> pd.DataFrame:
    """$1,000 weekdays, $400 weekends, ±2 % noise, from Monday 2026-03-02."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2026-03-02", periods=days, freq="D")
    level = np.where(stamps.day_of_week >= 5, 400.0, 1000.0)
    return pd.DataFrame(
        {"unique_id": "total", "ds": stamps, "y": level * rng.normal(1, 0.02, days)}
    )


def with_extra(series: pd.DataFrame, day: str, extra_usd: float) -> pd.DataFrame:
    changed = series.copy()
    changed.loc[changed["ds"] == pd.Timestamp(day), "y"] += extra_usd
    return changed


def flagged_days(scored: pd.DataFrame) -> list[str]:
    return list(scored[scored["flagged"]]["ds"].dt.strftime("%Y-%m-%d"))


def test_a_spike_is_flagged_on_its_day() -> None:
    series = with_extra(weekly_costs(), "2026-04-22", 600.0)

    assert flagged_days(score_series(series)) == ["2026-04-22"]


def test_the_weekly_pattern_alone_is_not_flagged() -> None:
    scored = score_series(weekly_costs())

    assert flagged_days(scored) == []
    assert scored["score"].notna().sum() > 40


def test_weekday_spend_on_a_sunday_is_flagged() -> None:
    sunday_as_weekday = with_extra(weekly_costs(), "2026-04-26", 600.0)  # $400 → $1,000

    assert flagged_days(score_series(sunday_as_weekday)) == ["2026-04-26"]


def test_a_burst_no_bigger_than_one_seen_in_the_last_six_weeks_is_not_news() -> None:
    twice = with_extra(with_extra(weekly_costs(), "2026-03-25", 600.0), "2026-04-22", 600.0)

    assert flagged_days(score_series(twice)) == ["2026-03-25"]


def test_a_flag_needs_the_minimum_dollar_impact() -> None:
    series = with_extra(weekly_costs(), "2026-04-22", 600.0)

    strict = AnomalySettings(min_impact_usd=Decimal(700))

    assert flagged_days(score_series(series, strict)) == []


def test_a_flag_needs_the_minimum_relative_change() -> None:
    series = with_extra(weekly_costs(), "2026-04-22", 600.0)  # +60 %

    strict = AnomalySettings(min_relative_change=0.8)

    assert flagged_days(score_series(series, strict)) == []


def test_the_first_days_of_a_series_are_not_scored() -> None:
    series = with_extra(weekly_costs(), "2026-03-10", 5000.0)  # day 9

    scored = score_series(series)

    assert flagged_days(scored) == []
    assert scored["score"].iloc[:14].isna().all()


def test_trailing7_flags_more_than_20_percent_over_the_trailing_average() -> None:
    flat = pd.DataFrame(
        {"unique_id": "x", "ds": pd.date_range("2026-01-01", periods=30), "y": 1000.0}
    )
    series = with_extra(with_extra(flat, "2026-01-20", 250.0), "2026-01-25", 150.0)

    scored = score_series(series, AnomalySettings(detector="trailing7"))

    assert flagged_days(scored) == ["2026-01-20"]
    assert scored.loc[scored["ds"] == "2026-01-20", "score"].item() == pytest.approx(0.25)


def test_hourly_series_are_scored_against_the_same_hour_of_previous_days() -> None:
    stamps = pd.date_range("2026-03-01", periods=24 * 21, freq="h")
    rng = np.random.default_rng(4)
    busy = np.where((stamps.hour >= 9) & (stamps.hour < 18), 50.0, 10.0)
    series = pd.DataFrame(
        {"unique_id": "h", "ds": stamps, "y": busy * rng.normal(1, 0.02, len(stamps))}
    )
    spiked = with_extra(series, "2026-03-18 03:00", 40.0)  # a night hour at day level

    flagged = flagged_days(score_series(spiked, AnomalySettings(min_impact_usd=Decimal(10))))

    assert flagged == ["2026-03-18"]


@pytest.fixture(scope="module")
def burst_report(tmp_path_factory: pytest.TempPathFactory) -> AnomalyReport:
    warehouse = bill_warehouse(tmp_path_factory.mktemp("burst"), with_burst=True)
    return detect_anomalies(warehouse.costs(), by=["SubAccountId"])


def test_consecutive_flagged_days_are_one_anomaly_with_its_first_day(
    burst_report: AnomalyReport,
) -> None:
    (anomaly,) = burst_report.anomalies

    assert anomaly.scope == "SubAccountId=222"
    assert (anomaly.first_seen, anomaly.ds) == GPU_DAYS
    assert anomaly.impact_usd == Decimal(1200)  # 3 GPUs × $200 × 2 days; the bucket as usual


def test_a_new_series_waits_until_it_has_enough_history(tmp_path: Path) -> None:
    warehouse = bill_warehouse(tmp_path, with_burst=False, days=10)

    report = detect_anomalies(warehouse.costs(), by=["SubAccountId"])

    assert report.series_scored == 0
    assert report.series_waiting == {
        "SubAccountId=111": "needs 4 more days of history",
        "SubAccountId=222": "needs 4 more days of history",
    }


def test_a_two_day_series_is_left_unscored_rather_than_failing() -> None:
    two_days = weekly_costs(days=2)

    scored = score_series(two_days)

    assert len(scored) == 2
    assert scored["score"].isna().all() and not scored["flagged"].any()


def test_two_days_of_costs_wait_for_history_in_detection_and_in_the_analysis(
    tmp_path: Path,
) -> None:
    warehouse = bill_warehouse(tmp_path, with_burst=False, days=2)

    report = detect_anomalies(warehouse.costs())
    findings = analyses.get("cost_anomaly")(context_for(warehouse.costs(), warehouse.engine))

    assert report.anomalies == [] and findings == []
    assert report.series_waiting["total"] == "needs 12 more days of history"


def test_since_keeps_only_anomalies_still_active_on_or_after_it(
    burst_report: AnomalyReport, tmp_path: Path
) -> None:
    warehouse = bill_warehouse(tmp_path, with_burst=True)

    later = detect_anomalies(warehouse.costs(), by=["SubAccountId"], since=date(2026, 10, 22))

    assert burst_report.anomalies and later.anomalies == []
