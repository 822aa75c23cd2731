"""`Warehouse.replace`: a re-load of the same keys replaces rows instead of adding them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pytest

from costrail.warehouse import Warehouse, connect

SCHEMA = ibis.schema({"host": dt.string, "gpu": dt.int32, "value": dt.float64})


def _rows(*records: tuple[str | None, int, float]) -> Any:
    table = pa.table(
        {
            "host": [record[0] for record in records],
            "gpu": pa.array([record[1] for record in records], pa.int32()),
            "value": [record[2] for record in records],
        }
    )
    return ibis.memtable(table)


def _exercise(warehouse: Warehouse) -> None:
    assert warehouse.replace("samples", _rows(("a", 0, 1.0), ("b", 0, 2.0)), SCHEMA, ("host",)) == 2
    assert (
        warehouse.replace("samples", _rows(("a", 0, 5.0), (None, 1, 7.0)), SCHEMA, ("host",)) == 2
    )
    assert warehouse.replace("samples", _rows((None, 2, 9.0)), SCHEMA, ("host",)) == 1
    table = warehouse.read("samples", SCHEMA)
    got = sorted((row["host"] or "", row["value"]) for row in table.to_pyarrow().to_pylist())
    assert got == [("", 9.0), ("a", 5.0), ("b", 2.0)]


def test_replace_on_duckdb_replaces_matching_keys_and_keeps_others(tmp_path: Path) -> None:
    _exercise(connect(str(tmp_path / "w.duckdb")))


@pytest.mark.spark
def test_replace_on_spark_replaces_matching_keys_and_keeps_others(
    tmp_path: Path, spark_session: Any
) -> None:
    _exercise(connect(f"spark://{tmp_path / 'wh'}", spark=spark_session))


def test_replace_with_rows_read_from_the_same_table_uses_them_as_they_were(
    tmp_path: Path,
) -> None:
    """Rows derived from the target table must be read before the keyed delete runs."""
    warehouse = connect(str(tmp_path / "w.duckdb"))
    warehouse.replace("samples", _rows(("a", 0, 1.0), ("b", 0, 2.0)), SCHEMA, ("host",))
    table = warehouse.read("samples", SCHEMA)
    doubled = table.filter(table.host == "a").mutate(value=table.value * 2)
    assert warehouse.replace("samples", doubled, SCHEMA, ("host",)) == 1
    got = sorted((row["host"], row["value"]) for row in table.to_pyarrow().to_pylist())
    assert got == [("a", 2.0), ("b", 2.0)]
