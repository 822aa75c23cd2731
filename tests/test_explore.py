"""`explore`: group-by over FOCUS columns, tags and months, with filters, exact money."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from costrail.errors import ConfigError
from costrail.explore import ExploreQuery, explore
from costrail.warehouse import Warehouse
from costrail.warehouse.load import ingest
from tests.conftest import FOCUS_SAMPLE


@pytest.fixture
def loaded(warehouse: Warehouse) -> Warehouse:
    ingest(warehouse, [FOCUS_SAMPLE])
    return warehouse


def test_groups_add_up_to_the_total(loaded: Warehouse) -> None:
    groups = explore(loaded.costs(), ExploreQuery(by=("ProviderName", "ServiceCategory")))

    assert sum(group["BilledCost"] for group in groups) == Decimal("20.52022672899")  # type: ignore[misc]
    assert groups == sorted(groups, key=lambda g: g["BilledCost"], reverse=True)  # type: ignore[arg-type, return-value]


def test_tag_dimension_reads_the_tag_value(loaded: Warehouse) -> None:
    groups = explore(loaded.costs(), ExploreQuery(by=("tag:env",), where="tag:env=prod"))

    assert [group["tag:env"] for group in groups] == ["prod"]


def test_where_combines_clauses_and_compares_money_as_decimals(loaded: Warehouse) -> None:
    everything = explore(loaded.costs(), ExploreQuery(where="x_Provider=aws"))[0]
    expensive = explore(loaded.costs(), ExploreQuery(where="x_Provider=aws and BilledCost>0.1"))[0]

    assert 0 < expensive["rows"] < everything["rows"]  # type: ignore[operator]


def test_since_and_until_bound_the_charge_period(loaded: Warehouse) -> None:
    mid_september = explore(
        loaded.costs(), ExploreQuery(by=("day",), since=date(2024, 9, 10), until=date(2024, 9, 12))
    )

    assert {group["day"] for group in mid_september} == {"2024-09-10", "2024-09-11"}


def test_metric_can_be_effective_cost(loaded: Warehouse) -> None:
    (total,) = explore(loaded.costs(), ExploreQuery(metric="EffectiveCost"))

    costs = loaded.costs()
    assert total["EffectiveCost"] == Decimal(costs.EffectiveCost.sum().execute())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (ExploreQuery(by=("NoSuchColumn",)), "unknown column"),
        (ExploreQuery(metric="Price"), "unknown metric"),
        (ExploreQuery(where="BilledCost is big"), "cannot read --where"),
    ],
)
def test_mistakes_are_config_errors(loaded: Warehouse, query: ExploreQuery, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        explore(loaded.costs(), query)
