"""Shared fixtures: paths to the public sample data and a fresh DuckDB warehouse per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costrail.warehouse import Warehouse, connect

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COSTRAIL_SHARED", REPO.parent / "shared"))
PUBLIC_BILLING = SHARED / "data" / "public" / "billing"
FOCUS_SAMPLE = PUBLIC_BILLING / "focus-sample-data" / "FOCUS-1.0" / "focus_sample.csv"
SPEC_EXAMPLES = PUBLIC_BILLING / "focus-spec-v1.2-examples"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return connect(str(tmp_path / "warehouse.duckdb"))


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    """One local Spark session for the whole run (a JVM start costs ~10 s)."""
    pytest.importorskip(
        "pyspark", reason="the Spark suite needs pyspark (pip install costrail[spark])"
    )
    from costrail.warehouse.spark_store import local_session

    os.environ.setdefault("COSTRAIL_SPARK_MASTER", "local[2]")
    session = local_session("costrail-tests")
    yield session
    session.stop()
