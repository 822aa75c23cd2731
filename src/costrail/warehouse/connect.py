"""Open a warehouse from a URL: a DuckDB file path (default) or `spark:///dir`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costrail.errors import WarehouseError
from costrail.warehouse.store import Warehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_WAREHOUSE = ".costrail/warehouse.duckdb"


def default_url() -> str:
    """`COSTRAIL_WAREHOUSE` if set, else `.costrail/warehouse.duckdb` in the current directory."""
    return os.environ.get("COSTRAIL_WAREHOUSE") or DEFAULT_WAREHOUSE


def connect(url: str | None = None, *, spark: SparkSession | Any | None = None) -> Warehouse:
    """Open (creating if needed) the warehouse at `url`.

    - `path/to/file.duckdb`, `duckdb:///path/to/file.duckdb`, `duckdb://:memory:` — embedded DuckDB.
    - `spark:///path/to/dir` — Apache Spark; a local `local[*]` session unless `spark` is given
      (pass your own SparkSession to run on a cluster).
    """
    url = url or default_url()
    if url.startswith("spark://") or spark is not None:
        from costrail.warehouse.spark_store import SparkWarehouse

        directory = url.removeprefix("spark://") if url.startswith("spark://") else url
        if not directory:
            raise WarehouseError("a Spark warehouse URL needs a directory: spark:///path/to/dir")
        return SparkWarehouse(url, Path(directory), session=spark)
    if url.startswith("duckdb://"):
        database = url.removeprefix("duckdb://") or ":memory:"
    elif "://" in url:
        raise WarehouseError(
            f"unsupported warehouse URL {url!r}",
        )
    else:
        database = url
    from costrail.warehouse.duckdb_store import DuckDBWarehouse

    return DuckDBWarehouse(url, database)
