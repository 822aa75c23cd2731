"""The same scope series, anomalies and root causes on Apache Spark as on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from costrail.timeseries import detect_anomalies, scope_series
from costrail.warehouse import connect
from costrail.warehouse.load import ingest
from tests.timeseries.focus_bill import bill_warehouse, write_bill


@pytest.mark.spark
def test_anomalies_and_root_causes_match_duckdb_on_spark(
    spark_session: Any, tmp_path: Path
) -> None:
    on_duckdb = bill_warehouse(tmp_path / "duck", with_burst=True)
    on_spark = connect(f"spark://{tmp_path / 'spark'}", spark=spark_session)
    ingest(on_spark, [write_bill(tmp_path / "focus.csv", with_burst=True)])

    spark_series = scope_series(on_spark.costs(), by=["tag:team"])
    duck_series = scope_series(on_duckdb.costs(), by=["tag:team"])
    spark_report = detect_anomalies(on_spark.costs(), by=["SubAccountId"])
    duck_report = detect_anomalies(on_duckdb.costs(), by=["SubAccountId"])

    pd.testing.assert_frame_equal(spark_series, duck_series)
    assert spark_report.anomalies == duck_report.anomalies
    assert spark_report.anomalies[0].root_causes
