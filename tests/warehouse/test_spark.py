"""The same loads on Apache Spark (local mode): same totals, same idempotency, atomic snapshots."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costrail.errors import InputError
from costrail.explore import ExploreQuery, explore
from costrail.warehouse import connect
from costrail.warehouse.load import ingest
from tests.conftest import FOCUS_SAMPLE

pytestmark = pytest.mark.spark


def test_focus_sample_totals_match_duckdb_on_spark(tmp_path: Path, spark_session: Any) -> None:
    on_spark = connect(f"spark://{tmp_path / 'spark'}", spark=spark_session)
    on_duckdb = connect(str(tmp_path / "w.duckdb"))
    ingest(on_spark, [FOCUS_SAMPLE])
    ingest(on_duckdb, [FOCUS_SAMPLE])
    query = ExploreQuery(by=("x_Provider", "month", "ChargeCategory"), metric="EffectiveCost")

    assert explore(on_spark.costs(), query) == explore(on_duckdb.costs(), query)


def test_reingest_on_spark_replaces_instead_of_doubling(tmp_path: Path, spark_session: Any) -> None:
    warehouse = connect(f"spark://{tmp_path / 'spark'}", spark=spark_session)

    ingest(warehouse, [FOCUS_SAMPLE])
    ingest(warehouse, [FOCUS_SAMPLE])

    assert warehouse.costs().count().execute() == 1000
    assert warehouse.costs().BilledCost.sum().execute() == Decimal("20.52022672899")


def test_spark_warehouse_survives_a_new_connection(tmp_path: Path, spark_session: Any) -> None:
    url = f"spark://{tmp_path / 'spark'}"
    ingest(connect(url, spark=spark_session), [FOCUS_SAMPLE])

    reopened = connect(url, spark=spark_session)

    assert reopened.costs().BilledCost.sum().execute() == Decimal("20.52022672899")


def test_failed_load_on_spark_leaves_the_snapshot_unchanged(
    tmp_path: Path, spark_session: Any
) -> None:
    warehouse = connect(f"spark://{tmp_path / 'spark'}", spark=spark_session)
    ingest(warehouse, [FOCUS_SAMPLE])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "BillingPeriodStart,ChargePeriodStart,BilledCost,ProviderName\n"
        "2024-09-01,2024-09-01,not-a-number,AWS\n"
    )

    with pytest.raises(InputError):
        ingest(warehouse, [bad], format_name="focus")

    assert warehouse.costs().count().execute() == 1000
