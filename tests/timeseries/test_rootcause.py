"""Root cause: the dimension values that added the dollars, best explanation first."""

from __future__ import annotations

from decimal import Decimal

import ibis.expr.types as ir
import pytest

from costrail.timeseries import rank_root_causes, scope_filter
from costrail.timeseries.rootcause import baseline_days
from tests.timeseries.focus_bill import GPU_DAYS, GPU_INSTANCES, GPU_USD_PER_DAY, bill_warehouse

DIMENSIONS = ("ServiceName", "SubAccountId", "RegionId", "ResourceId", "tag:team")


@pytest.fixture(scope="module")
def costs(tmp_path_factory: pytest.TempPathFactory) -> ir.Table:
    return bill_warehouse(tmp_path_factory.mktemp("rc"), with_burst=True).costs()


def test_the_new_team_that_explains_all_the_dollars_ranks_first(costs: ir.Table) -> None:
    causes = rank_root_causes(costs, list(GPU_DAYS), dimensions=DIMENSIONS)

    top = causes[0]
    assert (top.dimension, top.value) == ("tag:team", "research")
    assert top.impact_usd == Decimal(len(GPU_INSTANCES) * GPU_USD_PER_DAY * len(GPU_DAYS))
    assert top.share == pytest.approx(1.0)


def test_a_single_instance_explaining_a_third_ranks_below_the_explanations(costs: ir.Table) -> None:
    causes = rank_root_causes(costs, list(GPU_DAYS), dimensions=DIMENSIONS, limit=10)

    names = [(c.dimension, c.value) for c in causes]
    explaining = {("tag:team", "research"), ("SubAccountId", "222"), ("RegionId", "us-west-2"),
                  ("ServiceName", "Amazon EC2")}  # fmt: skip
    assert set(names[:4]) == explaining
    assert names[4][0] == "ResourceId" and names[4][1] in GPU_INSTANCES
    assert causes[4].share == pytest.approx(1 / 3, abs=0.01)


def test_values_that_did_not_rise_are_not_causes(costs: ir.Table) -> None:
    causes = rank_root_causes(costs, list(GPU_DAYS), dimensions=DIMENSIONS, limit=20)

    assert all(c.value not in ("i-web", "db-main", "bucket-logs", "web", "data") for c in causes)


def test_a_scope_is_analysed_on_its_own_rows(costs: ir.Table) -> None:
    account = scope_filter(costs, ["SubAccountId"], "SubAccountId=111")

    assert rank_root_causes(account, list(GPU_DAYS), dimensions=DIMENSIONS) == ()


def test_the_baseline_is_the_same_weekdays_of_the_previous_weeks() -> None:
    days = baseline_days(list(GPU_DAYS), weeks=2)

    assert [d.isoformat() for d in days] == ["2026-10-06", "2026-10-07", "2026-10-13", "2026-10-14"]
