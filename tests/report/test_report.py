"""The report: figures from a small FOCUS bill, the HTML / Markdown / JSON renderings, and the
`report` / `findings` commands (the latter on the demo company, where the analyses find waste)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.explore import ExploreQuery, explore
from costrail.report import Report, build_report, render_html, render_json, render_markdown
from costrail.report.html import CHART_IDS
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.demo_cache import demo_folder
from tests.report.bill import ENDPOINT, TOTAL_USD, TRAINING_JOB, hand_made_findings

runner = CliRunner()
FINDING_FIELDS = {
    "kind",
    "title",
    "scope",
    "resources",
    "evidence",
    "monthly_savings_usd",
    "confidence",
    "assumptions",
    "remediation",
}


def _report(warehouse: Warehouse) -> Report:
    return build_report(
        warehouse.costs(), hand_made_findings(), warehouse=warehouse.url, engine=warehouse.engine
    )


def _groups(report: Report, dimension: str) -> dict[str, Decimal]:
    allocation = next(a for a in report.allocations if a.dimension == dimension)
    return {group.name: group.billed_cost_usd for group in allocation.groups}


def test_report_totals_equal_explore_totals(warehouse_with_bill: Warehouse) -> None:
    report = _report(warehouse_with_bill)
    costs = warehouse_with_bill.costs()

    total = explore(costs, ExploreQuery())[0]["BilledCost"]
    by_provider = {
        r["x_Provider"]: r["BilledCost"] for r in explore(costs, ExploreQuery(by=("x_Provider",)))
    }
    by_month = {r["month"]: r["BilledCost"] for r in explore(costs, ExploreQuery(by=("month",)))}

    assert report.total.billed_cost_usd == total == TOTAL_USD
    assert {p.name: p.billed_cost_usd for p in report.providers} == by_provider
    assert {m.month: m.billed_cost_usd for m in report.months} == by_month


def test_month_over_month_change_is_against_the_previous_billing_period(
    warehouse_with_bill: Warehouse,
) -> None:
    months = _report(warehouse_with_bill).months

    assert [m.month for m in months] == ["2026-09", "2026-10"]
    assert months[0].change_pct is None
    assert months[1].change_pct == Decimal("312.14")  # 140 → 577
    assert months[1].billed_by_provider_usd == {"aws": Decimal(377), "gcp": Decimal(200)}


def test_team_spellings_and_value_casings_are_one_team(warehouse_with_bill: Warehouse) -> None:
    teams = _groups(_report(warehouse_with_bill), "team")

    # research: team=Research, Team=research, owner_team=" RESEARCH "; applied: owner-team
    assert teams == {"research": Decimal(200), "applied": Decimal(305), "(untagged)": Decimal(212)}


def test_tag_coverage_is_the_tagged_share_of_usage_cost(warehouse_with_bill: Warehouse) -> None:
    allocation = _report(warehouse_with_bill).allocations[0]

    # usage 705 (the 12 USD tax line is not usage), of which 505 carries a team tag
    assert allocation.dimension == "team"
    assert allocation.tagged_usage_pct == Decimal("71.63")


def test_unit_costs_are_per_training_job_and_endpoint_not_their_log_groups(
    warehouse_with_bill: Warehouse,
) -> None:
    report = _report(warehouse_with_bill)

    units = {(u.unit, u.resource_id): u.cost_usd for u in report.unit_costs}
    assert units == {
        ("training run", TRAINING_JOB.format(2)): Decimal(60),
        ("training run", TRAINING_JOB.format(1)): Decimal(40),
        ("endpoint", ENDPOINT): Decimal(300),
    }
    training = next(s for s in report.unit_cost_summaries if s.unit == "training run")
    assert (training.project, training.model, training.units) == ("orca", "orca-13b", 2)
    assert (training.mean_usd, training.max_usd) == (Decimal(50), Decimal(60))


def test_savings_by_kind_add_up_every_finding_of_the_kind(warehouse_with_bill: Warehouse) -> None:
    report = _report(warehouse_with_bill)

    assert [(k.kind, k.findings, k.monthly_savings_usd) for k in report.savings_by_kind] == [
        ("idle_gpu_instance", 2, Decimal("180.00")),
        ("s3_cold_data_in_standard", 1, Decimal("80.50")),
    ]
    assert report.monthly_savings_usd == Decimal("260.50")
    assert [f.monthly_savings_usd for f in report.top_findings] == [
        Decimal("120.00"),
        Decimal("80.50"),
        Decimal("60.00"),
    ]


def test_html_is_self_contained_with_three_charts(warehouse_with_bill: Warehouse) -> None:
    page = render_html(_report(warehouse_with_bill))

    assert "<script src=" not in page and "<link" not in page  # nothing fetched
    assert "Plotly.newPlot" in page and "plotly.js" in page  # the library is inline
    for chart_id in CHART_IDS:
        assert f"id='{chart_id}'" in page


def test_html_escapes_text_from_findings(warehouse_with_bill: Warehouse) -> None:
    page = render_html(_report(warehouse_with_bill), plotly_js="")

    assert "<script>alert('x')</script>" not in page
    assert "Bucket &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; is cold" in page
    assert "team=data &amp; &lt;ml&gt;" in page


def test_html_shows_every_finding_with_evidence_and_fix(warehouse_with_bill: Warehouse) -> None:
    page = render_html(_report(warehouse_with_bill), plotly_js="")

    assert page.count("class='finding'") == 3
    assert "standard_storage_usd" in page and "120.25" in page
    assert "Move to Glacier Instant Retrieval" in page
    assert "aws_s3_bucket_lifecycle_configuration" in page
    assert "$260.50" in page  # savings potential per month


def test_markdown_has_summary_allocation_unit_costs_and_findings(
    warehouse_with_bill: Warehouse,
) -> None:
    text = render_markdown(_report(warehouse_with_bill))

    assert "- **Total billed**: $717.00 over 2 billing periods" in text
    assert "| research | $200.00 | $200.00 |" in text
    assert "| training run | orca | orca-13b | 2 | $50.00 | $60.00 | $100.00 |" in text
    assert "### 1. Dev GPU i-0aaa runs nights and weekends" in text
    assert "```hcl" in text


def test_json_report_keeps_money_exact_and_findings_complete(
    warehouse_with_bill: Warehouse,
) -> None:
    document = json.loads(render_json(_report(warehouse_with_bill)))

    assert document["total"]["billed_cost_usd"] == "717.000000000000"
    assert document["monthly_savings_usd"] == "260.50"
    assert len(document["findings"]) == 3
    assert all(set(finding) >= FINDING_FIELDS for finding in document["findings"])
    assert document["findings"][0]["remediation"]["action"] == "Stop it outside working hours"


def test_report_command_writes_html_and_markdown(
    warehouse_with_bill: Warehouse, tmp_path: Path
) -> None:
    html_path, md_path = tmp_path / "out" / "report.html", tmp_path / "out" / "report.md"

    result = runner.invoke(
        app,
        ["report", "-w", warehouse_with_bill.url, "--html", str(html_path), "--md", str(md_path)],
    )

    assert result.exit_code == 0, result.output
    assert "Total billed $717.00" in result.output
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "# Cloud cost report" in md_path.read_text(encoding="utf-8")


def test_report_command_json_prints_only_json(warehouse_with_bill: Warehouse) -> None:
    result = runner.invoke(app, ["report", "-w", warehouse_with_bill.url, "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]["billed_cost_usd"] == "717.000000000000"


def test_findings_rejects_a_minimum_that_is_not_an_amount(warehouse_with_bill: Warehouse) -> None:
    result = runner.invoke(
        app, ["findings", "-w", warehouse_with_bill.url, "--min-savings", "lots"]
    )

    assert result.exit_code == 2
    assert "--min-savings" in result.output


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("acme")
    demo = demo_folder(False)
    url = str(directory / "w.duckdb")
    ingest(connect(url), [demo / name for name in ("aws", "gcp", "azure")])
    return url


@pytest.fixture(scope="module")
def demo_findings(demo_url: str) -> list[dict[str, object]]:
    """Every finding on the demo company, as `costrail findings --json` prints them."""
    return _findings_json("-w", demo_url)


def _findings_json(*arguments: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["findings", *arguments, "--json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    assert isinstance(findings, list)
    return findings


def test_findings_json_is_a_list_of_complete_findings(
    demo_findings: list[dict[str, object]],
) -> None:
    findings = demo_findings

    assert findings, "the demo company has planted waste"
    assert all(set(finding) >= FINDING_FIELDS for finding in findings)
    assert all(isinstance(finding["monthly_savings_usd"], str) for finding in findings)


def test_findings_kind_keeps_only_that_kind(
    demo_url: str, demo_findings: list[dict[str, object]]
) -> None:
    everything = demo_findings
    kind = str(everything[-1]["kind"])

    selected = _findings_json("-w", demo_url, "--kind", kind)

    assert selected == [finding for finding in everything if finding["kind"] == kind]


def test_findings_min_savings_drops_smaller_findings(
    demo_url: str, demo_findings: list[dict[str, object]]
) -> None:
    everything = demo_findings
    savings = sorted(Decimal(str(f["monthly_savings_usd"])) for f in everything)
    threshold = savings[len(savings) // 2]

    selected = _findings_json("-w", demo_url, "--min-savings", str(threshold))

    assert selected == [
        f for f in everything if Decimal(str(f["monthly_savings_usd"])) >= threshold
    ]
    assert 0 < len(selected) < len(everything)
