"""Checkpoint interval maths against Young's formula and Daly's published cases."""

from __future__ import annotations

import math

import pytest

from costrail.spot import (
    daly_interval_s,
    expected_overhead_fraction,
    mtbi_s,
    plan_checkpoints,
    young_interval_s,
)

MINUTE_S = 60.0


def per_hour(mean_time_between_interruptions_s: float) -> float:
    return 3600.0 / mean_time_between_interruptions_s


def test_mtbi_is_the_inverse_of_the_hourly_rate() -> None:
    assert mtbi_s(0.5) == 7200.0
    assert mtbi_s(0.0) == math.inf


def test_young_interval_is_sqrt_of_twice_checkpoint_time_times_mtbi() -> None:
    # C = 60 s, one interruption per hour: sqrt(2 · 60 · 3600) = 657.27 s
    assert young_interval_s(60.0, 1.0) == pytest.approx(657.2671, abs=1e-4)


@pytest.mark.parametrize(
    ("mtbi_minutes", "published_interval_minutes", "tolerance_minutes"),
    [(24 * 60, 117, 0.5), (6 * 60, 57, 0.5), (15, 9.1, 0.05)],
)
def test_daly_interval_reproduces_the_published_cases(
    mtbi_minutes: float, published_interval_minutes: float, tolerance_minutes: float
) -> None:
    # Daly (2006), figs. 3–5: dump time δ = 5 min, R = 10 min
    interval_s = daly_interval_s(5 * MINUTE_S, per_hour(mtbi_minutes * MINUTE_S))

    assert interval_s / MINUTE_S == pytest.approx(published_interval_minutes, abs=tolerance_minutes)


def test_daly_interval_is_the_mtbi_once_a_checkpoint_takes_twice_as_long() -> None:
    assert daly_interval_s(3 * 3600.0, 1.0) == 3600.0


def test_no_interruptions_means_no_safety_checkpoints_and_no_overhead() -> None:
    plan = plan_checkpoints(120.0, 0.0, restart_s=300.0)

    assert plan.interval_s == math.inf
    assert plan.overhead_fraction == 0.0


def test_daly_interval_minimises_the_expected_overhead() -> None:
    checkpoint_s, rate, restart_s = 90.0, 0.2, 240.0
    best_s = daly_interval_s(checkpoint_s, rate)

    at_best = expected_overhead_fraction(best_s, checkpoint_s, rate, restart_s)

    for factor in (0.7, 0.9, 1.1, 1.4):
        assert at_best < expected_overhead_fraction(best_s * factor, checkpoint_s, rate, restart_s)


def test_overhead_matches_the_first_order_estimate_when_interruptions_are_rare() -> None:
    # C/τ + (τ + C)/(2M) + R/M for C = 30 s, τ = 1 h, M = 1000 h, R = 60 s
    interval_s, checkpoint_s, restart_s, mean_s = 3600.0, 30.0, 60.0, 3.6e6
    first_order = (
        checkpoint_s / interval_s + (interval_s + checkpoint_s) / (2 * mean_s) + restart_s / mean_s
    )

    overhead = expected_overhead_fraction(interval_s, checkpoint_s, per_hour(mean_s), restart_s)

    assert overhead == pytest.approx(first_order, rel=1e-3)


def test_plan_uses_daly_interval_and_reports_its_overhead() -> None:
    plan = plan_checkpoints(120.0, 0.25, restart_s=300.0)

    assert plan.interval_s == daly_interval_s(120.0, 0.25)
    assert plan.overhead_fraction == expected_overhead_fraction(plan.interval_s, 120.0, 0.25, 300.0)
    assert plan.mtbi_s == 14_400.0
    assert 0 < plan.overhead_fraction < 0.2


def test_free_checkpoints_leave_only_restart_cost() -> None:
    plan = plan_checkpoints(0.0, 1.0, restart_s=36.0)

    assert plan.interval_s == 0.0
    assert plan.overhead_fraction == pytest.approx(math.expm1(36.0 / 3600.0))


def test_overhead_is_infinite_when_interruptions_come_far_faster_than_restarts() -> None:
    # Ten-minute restarts against one interruption every 0.72 s: e^(R/M) is beyond a float.
    plan = plan_checkpoints(600.0, 5000.0, restart_s=600.0)

    assert plan.overhead_fraction == math.inf


@pytest.mark.parametrize(
    "call",
    [
        lambda: mtbi_s(-1.0),
        lambda: young_interval_s(-5.0, 1.0),
        lambda: daly_interval_s(10.0, float("nan")),
        lambda: expected_overhead_fraction(0.0, 10.0, 1.0),
        lambda: expected_overhead_fraction(600.0, 10.0, 1.0, restart_s=-1.0),
    ],
)
def test_negative_or_meaningless_inputs_are_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
