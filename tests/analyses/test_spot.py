"""Spot candidates: on-demand GPU hours in interruptible runs, priced at catalog spot rates."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from costrail.analyses import Thresholds, context_for
from costrail.analyses.spot import ondemand_should_be_spot, spot_overhead_fraction, spot_saving
from costrail.findings import Finding
from costrail.pricing.gpu_offers import GpuOffer
from tests.demo_cache import demo_folder, demo_warehouse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[Finding]]:  # type: ignore[type-arg]
    directory = tmp_path_factory.mktemp("acme-spot")
    directory = demo_folder(False)
    warehouse = demo_warehouse(False, ("aws", "gcp", "azure"))
    truth = json.loads(Path(directory / "truth.json").read_text(encoding="utf-8"))
    return truth, ondemand_should_be_spot(context_for(warehouse.costs(), warehouse.engine))


def test_overhead_follows_young_daly_for_the_default_thresholds() -> None:
    overhead = spot_overhead_fraction(Thresholds())
    assert Decimal("0.03") < overhead < Decimal("0.06")


def test_spot_saving_is_on_demand_minus_spot_hours_with_overhead() -> None:
    offer = GpuOffer(
        "aws", "us-west-2", "p5.48xlarge", "H100", 8, None, Decimal("50"), Decimal("10")
    )
    saving = spot_saving(Decimal("1000"), offer, Decimal("0.05"))
    assert saving.instance_hours == Decimal("20")
    assert saving.spot_cost_usd == Decimal("210.00")
    assert saving.savings_usd == Decimal("790.00")


def test_planted_on_demand_training_is_found_within_ten_percent(
    demo: tuple[dict, list[Finding]],
) -> None:  # type: ignore[type-arg]
    truth, findings = demo
    planted = next(p for p in truth["planted"] if p["kind"] == "ondemand_should_be_spot")
    matches = [f for f in findings if set(f.resources) & set(planted["resources"])]
    found = sum((f.monthly_savings_usd for f in matches), Decimal(0))
    expected = Decimal(planted["monthly_savings_usd"])
    assert abs(found - expected) <= expected * Decimal("0.10")
    assert {r for f in matches for r in f.resources} == set(planted["resources"])


def test_24x7_serving_and_dev_boxes_are_not_spot_candidates(
    demo: tuple[dict, list[Finding]],
) -> None:  # type: ignore[type-arg]
    _, findings = demo
    envs = {f.scope.get("env") for f in findings}
    assert "prod" not in envs and "dev" not in envs


def test_sagemaker_training_without_catalog_spot_price_is_a_counted_warning(
    demo: tuple[dict, list[Finding]],  # type: ignore[type-arg]
) -> None:
    _, findings = demo
    sagemaker = [f for f in findings if f.resources[0].startswith("arn:aws:sagemaker")]
    assert sagemaker
    for finding in sagemaker:
        assert finding.monthly_savings_usd == 0
        assert finding.warnings and "missing catalog price" in finding.warnings[0]
