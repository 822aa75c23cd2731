"""The demo company: every planted anomaly (the runaway sweep, the weekend GPU fleet, the hourly
retry job) is found on its days with its planted root cause first; the clean company has no
anomaly; the analysis reports the sweep as a finding.

The planted days and root cause come from truth.json (`anomaly`), and the days are checked
against the warehouse (the charge days of the planted resources), not written into the test.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pytest

from costrail.analyses import analyses, context_for
from costrail.timeseries import Anomaly, AnomalyReport, detect_anomalies
from costrail.warehouse import Warehouse
from tests.demo_cache import demo_folder, demo_warehouse

#: two demo companies are generated and loaded (~25 s on an idle 2-core machine)
pytestmark = pytest.mark.slow


def _load(directory: Path, clean: bool) -> Warehouse:
    return demo_warehouse(clean, ("aws", "gcp", "azure"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, list[dict[str, Any]]]:
    directory = demo_folder(False)
    warehouse = _load(directory, clean=False)
    truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    planted = [item for item in truth["planted"] if "anomaly" in item]
    return warehouse, planted


@pytest.fixture(scope="module")
def report(demo: tuple[Warehouse, list[dict[str, Any]]]) -> AnomalyReport:
    return detect_anomalies(demo[0].costs())


def _planted_days(item: dict[str, Any]) -> tuple[date, date]:
    days = item["anomaly"]
    return date.fromisoformat(days["first_day"]), date.fromisoformat(days["last_day"])


def _charge_days(warehouse: Warehouse, resources: list[str]) -> tuple[date, date]:
    costs = warehouse.costs()
    rows = costs.filter(costs.ResourceId.isin(resources) & (costs.ChargeCategory == "Usage"))
    day = rows.ChargePeriodStart.date()
    record = rows.aggregate(first=day.min(), last=day.max()).to_pyarrow().to_pylist()[0]
    return record["first"], record["last"]


def _matching(report: AnomalyReport, first: date, last: date) -> list[Anomaly]:
    return [a for a in report.anomalies if a.first_seen <= last and first <= a.ds]


def test_the_demo_plants_three_anomalies_billed_on_their_truth_days(
    demo: tuple[Warehouse, list[dict[str, Any]]],
) -> None:
    warehouse, planted = demo
    assert {item["kind"] for item in planted} == {
        "spend_spike",
        "weekend_gpu_fleet",
        "hourly_retry_job",
    }
    for item in planted:
        assert item["signal"].startswith(("anomaly", "billing"))
        assert _charge_days(warehouse, item["resources"]) == _planted_days(item), item["kind"]


@pytest.mark.parametrize("kind", ["spend_spike", "weekend_gpu_fleet", "hourly_retry_job"])
def test_a_planted_anomaly_is_flagged_from_its_first_day_with_its_root_cause_first(
    demo: tuple[Warehouse, list[dict[str, Any]]], report: AnomalyReport, kind: str
) -> None:
    (item,) = [item for item in demo[1] if item["kind"] == kind]
    first, last = _planted_days(item)

    matches = _matching(report, first, last)

    assert len(matches) == 1, [(a.scope, a.first_seen) for a in report.anomalies]
    (anomaly,) = matches
    assert anomaly.first_seen == first
    assert first <= anomaly.ds <= last
    top = anomaly.root_causes[0]
    assert f"{top.dimension}={top.value}" == item["anomaly"]["root_cause"]


def test_nothing_but_the_planted_anomalies_is_flagged_on_the_demo(
    demo: tuple[Warehouse, list[dict[str, Any]]], report: AnomalyReport
) -> None:
    _, planted = demo
    spans = [_planted_days(item) for item in planted]
    unexplained = [
        a
        for a in report.anomalies
        if not any(first <= a.ds and a.first_seen <= last for first, last in spans)
    ]
    assert unexplained == []


def test_the_clean_demo_has_no_anomaly(tmp_path: Path) -> None:
    warehouse = _load(tmp_path, clean=True)

    clean = detect_anomalies(warehouse.costs())

    assert clean.anomalies == [] and clean.series_scored > 0


def test_the_cost_anomaly_analysis_reports_the_spike_as_an_informational_finding(
    demo: tuple[Warehouse, list[dict[str, Any]]],
) -> None:
    warehouse, _ = demo
    costs = warehouse.costs()
    # judge a window that contains the spike: 30 days ending 2026-10-31
    end = ibis.timestamp("2026-11-01 00:00:00")
    context = context_for(costs.filter(costs.ChargePeriodStart < end), warehouse.engine)

    findings = analyses.get("cost_anomaly")(context)

    assert len(findings) == 1
    finding = findings[0]
    assert finding.monthly_savings_usd == 0
    assert finding.evidence["root_causes"][0]["dimension"] == "x_InstanceType"
    assert "since 2026-10-14" in finding.title
