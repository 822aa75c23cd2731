"""Allocation coverage per account, and tag key spellings that should be one key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from costrail.analyses import AnalysisContext, Thresholds, analyses, context_for
from costrail.analyses.allocation import allocation_coverage, normalised_tag_key
from costrail.schema.costs import COSTS_SCHEMA, conform_costs
from costrail.warehouse import Warehouse
from tests.demo_cache import demo_warehouse

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> Warehouse:
    return demo_warehouse(False, ("aws", "gcp"))


def _line(account: str, cost: str, tags: dict[str, str], category: str = "Usage") -> dict[str, Any]:
    return {
        "x_Provider": "aws",
        "SubAccountId": account,
        "ChargeCategory": category,
        "ChargePeriodStart": START,
        "ChargePeriodEnd": START + timedelta(hours=1),
        "ResourceId": f"i-{len(tags)}-{cost}",
        "BilledCost": Decimal(cost),
        "EffectiveCost": Decimal(cost),
        "Tags": list(tags.items()),
    }


def _costs(lines: list[dict[str, Any]]) -> ibis.Table:
    schema = COSTS_SCHEMA.to_pyarrow()
    columns = {name: [line.get(name) for line in lines] for name in schema.names}
    return conform_costs(ibis.memtable(pa.table(columns, schema=schema)))


def test_coverage_is_the_share_of_spend_with_any_team_spelling() -> None:
    costs = _costs(
        [
            _line("A", "60", {"team": "vision"}),
            _line("A", "20", {"owner-team": "nlp"}),
            _line("A", "20", {"env": "dev"}),
        ]
    )
    [coverage] = allocation_coverage(costs)
    assert (coverage.team_coverage_pct, coverage.unallocated_usd) == (Decimal("80.00"), 20)


def test_tax_and_credits_do_not_count_against_coverage() -> None:
    costs = _costs([_line("A", "50", {"team": "x"}), _line("A", "5", {}, category="Tax")])
    [coverage] = allocation_coverage(costs)
    assert coverage.team_coverage_pct == Decimal("100.00")


def test_empty_tag_value_is_not_an_owner() -> None:
    costs = _costs([_line("A", "50", {"team": " "}), _line("A", "50", {"team": "x"})])
    [coverage] = allocation_coverage(costs)
    assert coverage.team_coverage_pct == Decimal("50.00")


def test_team_key_spellings_normalise_to_one_key() -> None:
    spellings = {normalised_tag_key(k) for k in ("team", "Team", "TEAM")}
    assert spellings == {"team"}
    assert normalised_tag_key("owner-team") == normalised_tag_key("owner_team") == "ownerteam"


def test_allocation_gap_finding_states_no_saving_and_the_unallocated_spend() -> None:
    costs = _costs([_line("A", "75", {"team": "x"}), _line("A", "25", {})])
    context = AnalysisContext(costs, "duckdb", START, END, Thresholds())
    [finding] = analyses.get("allocation_gap")(context)
    assert (finding.kind, finding.monthly_savings_usd, finding.monthly_cost_usd) == (
        "allocation_gap",
        Decimal(0),
        Decimal(25),
    )
    assert finding.evidence["untagged_resources"] == [{"resource": "i-0-25", "cost_usd": 25}]


def test_fully_tagged_account_with_one_spelling_has_no_finding() -> None:
    costs = _costs([_line("A", "75", {"team": "x"})])
    context = AnalysisContext(costs, "duckdb", START, END, Thresholds())
    assert analyses.get("allocation_gap")(context) == []


def test_demo_aws_team_key_is_spelled_three_ways_in_the_warehouse(demo: Warehouse) -> None:
    context = context_for(demo.costs(), demo.engine)
    aws_keys = {
        spelling.key
        for coverage in allocation_coverage(context.in_window())
        if coverage.provider == "aws"
        for spelling in coverage.team_spellings
    }
    assert aws_keys == {"team", "Team", "owner_team"}


def test_demo_gcp_labels_owner_team_counts_as_team(demo: Warehouse) -> None:
    context = context_for(demo.costs(), demo.engine)
    gcp_keys = {
        spelling.key
        for coverage in allocation_coverage(context.in_window())
        if coverage.provider == "gcp"
        for spelling in coverage.team_spellings
    }
    assert gcp_keys == {"team", "owner-team"}


def test_demo_reports_coverage_for_every_account(demo: Warehouse) -> None:
    context = context_for(demo.costs(), demo.engine)
    findings = analyses.get("allocation_gap")(context)
    assert findings
    assert all(f.monthly_savings_usd == 0 and "account" in f.scope for f in findings)
