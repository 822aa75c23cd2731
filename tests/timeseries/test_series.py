"""Scope series: spend per scope and day from the costs table, gaps filled inside each span."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd
import pytest

from costrail.errors import ConfigError
from costrail.timeseries import fill_gaps, scope_series
from tests.timeseries.focus_bill import DAYS, bill_warehouse


@pytest.fixture(scope="module")
def costs(tmp_path_factory: pytest.TempPathFactory) -> ir.Table:
    return bill_warehouse(tmp_path_factory.mktemp("bill"), with_burst=True).costs()


def test_total_series_has_one_row_per_day_with_the_days_spend(costs: ir.Table) -> None:
    series = scope_series(costs)

    assert set(series["unique_id"]) == {"total"}
    assert len(series) == DAYS
    first = series.iloc[0]
    assert first["ds"] == pd.Timestamp("2026-09-01") and first["y"] == 170.0  # Tuesday


def test_tag_scope_ids_name_the_dimension_and_value(costs: ir.Table) -> None:
    series = scope_series(costs, by=["tag:team"])

    assert set(series["unique_id"]) == {"tag:team=web", "tag:team=data", "tag:team=research"}


def test_a_series_is_zero_filled_between_its_first_and_last_day_only(costs: ir.Table) -> None:
    series = scope_series(costs, by=["ResourceId"], where="ResourceId=i-gpu-1")

    assert list(series["ds"].dt.strftime("%m-%d")) == ["10-20", "10-21"]


def test_where_text_filters_and_an_unknown_metric_is_a_config_error(costs: ir.Table) -> None:
    web = scope_series(costs, where="tag:team=web")
    assert web["y"].iloc[0] == 150.0
    with pytest.raises(ConfigError):
        scope_series(costs, metric="Dollars")


def test_gaps_inside_a_span_become_zero() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a", "a"],
            "ds": pd.to_datetime(["2026-01-01", "2026-01-04"]),
            "y": [1.0, 2.0],
        }
    )
    filled = fill_gaps(frame)
    assert list(filled["y"]) == [1.0, 0.0, 0.0, 2.0]
