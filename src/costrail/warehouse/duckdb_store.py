"""Warehouse on an embedded DuckDB file: one SQL transaction per load."""

from __future__ import annotations

import uuid
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from costrail.engine import table_name
from costrail.errors import WarehouseError
from costrail.schema import COSTS_SCHEMA, INGESTS_SCHEMA
from costrail.warehouse.store import Warehouse

KEY_COLUMNS = ("x_Provider", "BillingAccountId", "BillingPeriodStart")


class DuckDBWarehouse(Warehouse):
    """`costs` and `ingests` as tables in one DuckDB database file (or `:memory:`)."""

    def __init__(self, url: str, database: str) -> None:
        self.url = url
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = ibis.duckdb.connect(database)
        except Exception as error:  # duckdb raises its own IOException types
            raise WarehouseError(f"cannot open DuckDB warehouse {database}: {error}") from error
        self._ensure_tables()

    def _ensure_tables(self) -> None:
        existing = set(self.con.list_tables())
        if "costs" not in existing:
            self.con.create_table("costs", schema=COSTS_SCHEMA)
        if "ingests" not in existing:
            self.con.create_table("ingests", schema=INGESTS_SCHEMA)

    def costs(self) -> ir.Table:
        return self.con.table("costs")

    def ingests(self) -> ir.Table:
        return self.con.table("ingests")

    def stage(self, expr: ir.Table) -> ir.Table:
        name = f"_stage_{uuid.uuid4().hex[:12]}"
        return self.con.create_table(name, expr, temp=True)

    def commit(self, staged: list[ir.Table], ingest_rows: pa.Table) -> None:
        ingest_name = f"_stage_ingests_{uuid.uuid4().hex[:12]}"
        ingest_table = self.con.create_table(
            ingest_name, ibis.memtable(ingest_rows).cast(INGESTS_SCHEMA), temp=True
        )
        stage_names = [table_name(table) for table in staged]
        union_sql = " UNION ALL ".join(f'SELECT * FROM "{name}"' for name in stage_names)
        key_match = " AND ".join(f'c."{col}" IS NOT DISTINCT FROM k."{col}"' for col in KEY_COLUMNS)
        key_list = ", ".join(f'"{col}"' for col in KEY_COLUMNS)
        raw = self.con.con  # type: ignore[attr-defined]
        raw.execute("BEGIN TRANSACTION")
        try:
            raw.execute(f"CREATE TEMP TABLE _keys AS SELECT DISTINCT {key_list} FROM ({union_sql})")
            raw.execute(
                "UPDATE ingests SET status = 'replaced' FROM _keys k WHERE "
                "ingests.provider IS NOT DISTINCT FROM k.x_Provider AND "
                "ingests.billing_account_id IS NOT DISTINCT FROM k.BillingAccountId AND "
                "ingests.billing_period_start IS NOT DISTINCT FROM k.BillingPeriodStart AND "
                "ingests.status = 'reconciled'"
            )
            raw.execute(f"DELETE FROM costs c USING _keys k WHERE {key_match}")
            for name in stage_names:
                raw.execute(f'INSERT INTO costs SELECT * FROM "{name}"')
            raw.execute(f'INSERT INTO ingests SELECT * FROM "{table_name(ingest_table)}"')
            raw.execute("DROP TABLE _keys")
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        finally:
            self.con.drop_table(ingest_name, force=True)

    def drop_staged(self, staged: list[ir.Table]) -> None:
        for table in staged:
            self.con.drop_table(table_name(table), force=True)

    def close(self) -> None:
        self.con.disconnect()
