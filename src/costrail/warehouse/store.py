"""The storage seam: what every warehouse engine must do so loads are atomic and idempotent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa


class Warehouse(ABC):
    """Canonical tables on one Ibis backend.

    `con` is the Ibis backend; attribute access falls through to it, so a `Warehouse` can be
    used where an Ibis backend is expected (`wh.table("costs")`, `wh.list_tables()`).
    """

    url: str
    con: ibis.BaseBackend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    @property
    def engine(self) -> str:
        return str(self.con.name)

    @abstractmethod
    def costs(self) -> ir.Table:
        """The `costs` table as of the last committed load."""

    @abstractmethod
    def ingests(self) -> ir.Table:
        """The `ingests` log."""

    @abstractmethod
    def stage(self, expr: ir.Table, ingest_id: str, source_files: list[str]) -> ir.Table:
        """Materialise a conformed costs expression; nothing is visible to others until commit.

        Returns a table of exactly the staged rows (those of `source_files` in `ingest_id`).
        """

    @abstractmethod
    def commit(self, staged: list[ir.Table], ingest_rows: pa.Table) -> None:
        """Atomically: replace every (x_Provider, BillingAccountId, BillingPeriodStart) key present
        in `staged` with the staged rows, mark earlier ingests of those keys as replaced, and
        append `ingest_rows`. Either all of it is visible afterwards or none of it.
        """

    @abstractmethod
    def drop_staged(self, staged: list[ir.Table]) -> None:
        """Forget staged tables (after commit or on failure)."""

    @abstractmethod
    def append(self, name: str, rows: pa.Table, schema: ibis.Schema) -> None:
        """Append `rows` to table `name` (created with `schema` if missing), atomically."""

    @abstractmethod
    def replace(
        self, name: str, rows: ir.Table, schema: ibis.Schema, key_columns: tuple[str, ...]
    ) -> int:
        """Atomically replace in table `name` every row whose `key_columns` values occur in
        `rows` by `rows` (cast to `schema`; table created if missing); returns rows written.

        This is how re-loading telemetry or request logs replaces what an earlier load of the
        same hosts / requests wrote instead of counting it twice. Null keys match null keys.
        """

    @abstractmethod
    def read(self, name: str, schema: ibis.Schema) -> ir.Table:
        """Table `name`; empty with `schema` when nothing was appended yet."""

    def close(self) -> None:
        """Release the engine (Spark keeps its session for reuse within the process)."""
