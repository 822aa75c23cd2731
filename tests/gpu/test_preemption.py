"""Young–Daly checkpoint interval and the wall-time cost of spot interruptions."""

from __future__ import annotations

import math

import pytest

from costrail.gpu.preemption import spot_overhead, young_daly_interval_hours


def test_young_daly_interval_is_sqrt_of_2_c_times_mtbi() -> None:
    # C = 6 minutes, one interruption every 20 hours: sqrt(2 × 0.1 × 20) = 2 hours.
    assert young_daly_interval_hours(0.1, 0.05) == pytest.approx(2.0)


def test_overhead_grows_with_the_interruption_rate() -> None:
    rare = spot_overhead(100.0, 0.01, 0.05, 1 / 6)
    often = spot_overhead(100.0, 0.2, 0.05, 1 / 6)

    assert rare.wall_hours < often.wall_hours
    assert rare.overhead_pct < often.overhead_pct


def test_wall_time_follows_the_first_order_waste_model() -> None:
    compute, rate, checkpoint, restart = 100.0, 0.05, 0.1, 0.25
    interval = math.sqrt(2 * checkpoint / rate)
    expected = compute * (1 + checkpoint / interval) / (1 - (interval / 2 + restart) * rate)

    assert spot_overhead(compute, rate, checkpoint, restart).wall_hours == pytest.approx(expected)


def test_worked_example_from_the_docs() -> None:
    # docs/plan.md, "Worked example 5": C = 6 min, λ = 0.05/h, R = 15 min, T = 100 h.
    overhead = spot_overhead(100.0, 0.05, 0.1, 0.25)

    assert overhead.interval_hours == pytest.approx(2.0)
    assert overhead.wall_hours == pytest.approx(112.0)


def test_a_cluster_is_interrupted_when_any_machine_is() -> None:
    one = spot_overhead(100.0, 0.05, 0.05, 1 / 6, machines=1)
    four = spot_overhead(100.0, 0.05, 0.05, 1 / 6, machines=4)

    assert four.interruptions_per_hour == pytest.approx(0.2)
    assert four.wall_hours > one.wall_hours


def test_no_interruptions_means_no_overhead() -> None:
    assert spot_overhead(100.0, 0.0, 0.1, 0.2).wall_hours == 100.0


def test_interruptions_faster_than_restarts_make_spot_not_viable() -> None:
    assert not spot_overhead(100.0, 2.0, 0.2, 0.5).viable
