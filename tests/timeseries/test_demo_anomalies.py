"""The demo company: the planted spend spike is found on its days with its instance type as
the first root cause; the clean company has no anomaly; the analysis reports it as a finding.

The planted day and root cause are read from the warehouse (the first charge day and the
instance type of the planted resources in truth.json), not written into the test.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pytest

from costrail.analyses import analyses, context_for
from costrail.demo import generate
from costrail.timeseries import AnomalyReport, detect_anomalies
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest

#: two demo companies are generated and loaded (~25 s on an idle 2-core machine)
pytestmark = pytest.mark.slow

ANOMALY_KINDS = ("spend_spike",)


def _load(directory: Path, clean: bool) -> Warehouse:
    generate(directory, rows=None, seed=7, clean=clean)
    warehouse = connect(str(directory / "w.duckdb"))
    ingest(warehouse, [directory / name for name in ("aws", "gcp", "azure")])
    return warehouse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, list[dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("acme")
    warehouse = _load(directory, clean=False)
    truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    planted = [item for item in truth["planted"] if item["kind"] in ANOMALY_KINDS]
    return warehouse, planted


@pytest.fixture(scope="module")
def report(demo: tuple[Warehouse, list[dict[str, Any]]]) -> AnomalyReport:
    return detect_anomalies(demo[0].costs())


def _planted_days_and_type(warehouse: Warehouse, resources: list[str]) -> tuple[date, date, str]:
    costs = warehouse.costs()
    rows = costs.filter(costs.ResourceId.isin(resources) & (costs.ChargeCategory == "Usage"))
    day = rows.ChargePeriodStart.date()
    summary = rows.aggregate(first=day.min(), last=day.max())
    record = summary.to_pyarrow().to_pylist()[0]
    types = rows.select("x_InstanceType").distinct().to_pyarrow()["x_InstanceType"].to_pylist()
    (instance_type,) = types
    return record["first"], record["last"], str(instance_type)


def test_the_planted_spike_is_flagged_from_its_first_day_with_its_root_cause_first(
    demo: tuple[Warehouse, list[dict[str, Any]]], report: AnomalyReport
) -> None:
    warehouse, planted = demo
    assert planted, "the demo plants a spend spike"
    for item in planted:
        first, last, instance_type = _planted_days_and_type(warehouse, item["resources"])
        matches = [a for a in report.anomalies if a.first_seen <= last and first <= a.ds]
        assert len(matches) == 1, [a.scope for a in report.anomalies]
        (anomaly,) = matches
        assert anomaly.first_seen == first
        assert first <= anomaly.ds <= last
        top = anomaly.root_causes[0]
        assert (top.dimension, top.value) == ("x_InstanceType", instance_type)


def test_nothing_but_the_planted_anomalies_is_flagged_on_the_demo(
    demo: tuple[Warehouse, list[dict[str, Any]]], report: AnomalyReport
) -> None:
    warehouse, planted = demo
    spans = [_planted_days_and_type(warehouse, item["resources"])[:2] for item in planted]
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
