"""Warehouse on an embedded DuckDB file: each load is one SQL transaction.

Staged rows are inserted straight into `costs` inside a transaction that stays open while they
are checked and reconciled; the commit then removes the rows they replace and records the
ingest. Readers on other connections see nothing until COMMIT, and any failure rolls it all
back. Writing once (instead of to a staging table and then again into `costs`) halves the I/O.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
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
        self._open_ingest: str | None = None
        self._ensure_tables()

    @property
    def _raw(self) -> Any:
        return self.con.con  # type: ignore[attr-defined]

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

    def stage(self, expr: ir.Table, ingest_id: str, source_files: list[str]) -> ir.Table:
        if self._open_ingest is None:
            self._raw.execute("BEGIN TRANSACTION")
            self._open_ingest = ingest_id
        elif self._open_ingest != ingest_id:
            raise WarehouseError("another load is still open on this connection")
        self.con._run_pre_execute_hooks(expr)  # type: ignore[attr-defined]  # registers memtables
        self._raw.execute(f"INSERT INTO costs {self.con.compile(expr)}")
        costs = self.costs()
        return costs.filter(costs.x_IngestId == ingest_id, costs.x_SourceFile.isin(source_files))

    def commit(self, staged: list[ir.Table], ingest_rows: pa.Table) -> None:
        ingest_id = self._open_ingest
        if ingest_id is None:
            raise WarehouseError("nothing staged to commit")
        ingest_name = f"_stage_ingests_{uuid.uuid4().hex[:12]}"
        ingest_table = self.con.create_table(
            ingest_name, ibis.memtable(ingest_rows).cast(INGESTS_SCHEMA), temp=True
        )
        key_list = ", ".join(f'"{col}"' for col in KEY_COLUMNS)
        key_match = " AND ".join(f'c."{col}" IS NOT DISTINCT FROM k."{col}"' for col in KEY_COLUMNS)
        raw = self._raw
        try:
            raw.execute(
                f"CREATE TEMP TABLE _keys AS SELECT DISTINCT {key_list} FROM costs "
                "WHERE x_IngestId = ?",
                [ingest_id],
            )
            raw.execute(
                "UPDATE ingests SET status = 'replaced' FROM _keys k WHERE "
                "ingests.provider IS NOT DISTINCT FROM k.x_Provider AND "
                "ingests.billing_account_id IS NOT DISTINCT FROM k.BillingAccountId AND "
                "ingests.billing_period_start IS NOT DISTINCT FROM k.BillingPeriodStart AND "
                "ingests.status = 'reconciled'"
            )
            raw.execute(
                f"DELETE FROM costs c USING _keys k WHERE {key_match} "
                "AND c.x_IngestId IS DISTINCT FROM ?",
                [ingest_id],
            )
            raw.execute(f'INSERT INTO ingests SELECT * FROM "{table_name(ingest_table)}"')
            raw.execute("DROP TABLE _keys")
            raw.execute("COMMIT")
            self._open_ingest = None
        finally:
            self._rollback_open()
            self.con.drop_table(ingest_name, force=True)

    def append(self, name: str, rows: pa.Table, schema: ibis.Schema) -> None:
        if name not in self.con.list_tables():
            self.con.create_table(name, schema=schema)
        self.con.insert(name, ibis.memtable(rows).cast(schema))

    def replace(
        self, name: str, rows: ir.Table, schema: ibis.Schema, key_columns: tuple[str, ...]
    ) -> int:
        """Streams `rows` straight into `name` in one transaction: the matching keys are
        deleted first (skipped when the table is empty), then one INSERT … SELECT, so tens of
        millions of rows scanned from Parquet are never copied into a temporary table. Only
        when `rows` reads `name` itself are they materialised first (the delete would change
        them)."""
        if self._open_ingest is not None:
            raise WarehouseError("a costs load is still open on this connection")
        if name not in self.con.list_tables():
            self.con.create_table(name, schema=schema)
        typed = rows.select(
            *[rows[column].cast(dtype).name(column) for column, dtype in schema.items()]
        )
        self.con._run_pre_execute_hooks(typed)  # type: ignore[attr-defined]  # memtables
        reads_target = any(table.name == name for table in typed.op().find(ops.DatabaseTable))
        source = f"_incoming_{uuid.uuid4().hex[:12]}" if reads_target else None
        query = str(self.con.compile(typed))
        ordered = self._raw.execute("SELECT current_setting('preserve_insertion_order')")
        keep_order = bool(ordered.fetchone()[0])
        # Row order in a table means nothing to readers; not keeping it lets the insert stream.
        self._raw.execute("SET preserve_insertion_order = false")
        self._raw.execute("BEGIN TRANSACTION")
        try:
            if source is not None:
                self._raw.execute(f"CREATE TEMP TABLE {source} AS {query}")
            incoming = f"(SELECT * FROM {source})" if source is not None else f"({query})"
            if self._raw.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is not None:
                self._delete_keys(name, incoming, key_columns)
            written = int(self._raw.execute(f'INSERT INTO "{name}" {incoming}').fetchone()[0])
            if source is not None:
                self._raw.execute(f"DROP TABLE {source}")
            self._raw.execute("COMMIT")
        except Exception:
            self._raw.execute("ROLLBACK")
            raise
        finally:
            self._raw.execute(f"SET preserve_insertion_order = {str(keep_order).lower()}")
        return written

    def _delete_keys(self, name: str, incoming: str, key_columns: tuple[str, ...]) -> None:
        matches = " AND ".join(
            f'"{name}"."{column}" IS NOT DISTINCT FROM k."{column}"' for column in key_columns
        )
        keys = ", ".join(f'"{column}"' for column in key_columns)
        self._raw.execute(
            f'DELETE FROM "{name}" USING (SELECT DISTINCT {keys} FROM {incoming} AS i) AS k '
            f"WHERE {matches}"
        )

    def read(self, name: str, schema: ibis.Schema) -> ir.Table:
        if name not in self.con.list_tables():
            self.con.create_table(name, schema=schema)
        return self.con.table(name)

    def drop_staged(self, staged: list[ir.Table]) -> None:
        self._rollback_open()

    def _rollback_open(self) -> None:
        if self._open_ingest is not None:
            self._open_ingest = None
            self._raw.execute("ROLLBACK")

    def close(self) -> None:
        self._rollback_open()
        self.con.disconnect()
