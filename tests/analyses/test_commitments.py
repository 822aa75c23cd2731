"""Commitments: unused Savings Plan fees as a loss, and the hourly commitment worth buying."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from costrail.analyses import context_for
from costrail.analyses.commitments import (
    best_level,
    commitment_opportunity,
    simulate,
    unused_commitments,
)
from costrail.findings import Finding
from tests.demo_cache import demo_folder, demo_warehouse

D28 = Decimal("0.28")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[Finding], list[Finding]]:  # type: ignore[type-arg]
    directory = tmp_path_factory.mktemp("acme-commit")
    directory = demo_folder(False)
    warehouse = demo_warehouse(False, ("aws", "gcp", "azure"))
    truth = json.loads(Path(directory / "truth.json").read_text(encoding="utf-8"))
    context = context_for(warehouse.costs(), warehouse.engine)
    return truth, unused_commitments(context), commitment_opportunity(context)


def test_commitment_saving_is_covered_on_demand_minus_commitment() -> None:
    outcome = simulate([Decimal("10"), Decimal("0")], Decimal("7.2"), D28)
    assert outcome.covered_on_demand_usd == Decimal("10")
    assert outcome.savings_usd == Decimal("10") - Decimal("14.4")
    assert outcome.unused_usd == Decimal("7.2")


def test_best_level_covers_a_level_only_when_it_lasts_beyond_break_even_hours() -> None:
    hours = [Decimal("10")] * 90 + [Decimal("100")] * 10
    assert best_level(hours, D28).level_usd_per_hour == Decimal("7.20")
    hours = [Decimal("10")] * 20 + [Decimal("100")] * 80
    assert best_level(hours, D28).level_usd_per_hour == Decimal("72.00")


def test_intermittent_usage_gets_no_commitment() -> None:
    hours = [Decimal("10")] * 20 + [Decimal("0")] * 80
    assert best_level(hours, D28).savings_usd == 0


def test_unused_savings_plan_fee_is_found_with_its_dollar_loss(demo) -> None:  # type: ignore[no-untyped-def]
    truth, unused, _ = demo
    planted = next(p for p in truth["planted"] if p["kind"] == "unused_savings_plan_commitment")
    (finding,) = [f for f in unused if f.resources == tuple(planted["resources"])]
    assert finding.kind == "unused_savings_plan_commitment"
    expected = Decimal(planted["monthly_savings_usd"])
    assert abs(finding.monthly_savings_usd - expected) <= expected * Decimal("0.10")


def test_opportunity_states_break_even_and_the_risk_of_a_usage_drop(demo) -> None:  # type: ignore[no-untyped-def]
    _, _, opportunities = demo
    assert opportunities
    for finding in opportunities:
        assert finding.evidence["break_even_utilisation"] == 1 - D28
        assert "usage_drop_50pct_monthly_savings_usd" in finding.evidence
        assert finding.evidence["expected_utilisation"] >= 1 - D28
