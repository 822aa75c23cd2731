"""Small engine seams: the few operations Ibis spells differently per backend."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa


def register_arrow(con: ibis.BaseBackend, name: str, data: pa.Table) -> ir.Table:
    """Make an Arrow table queryable as `name` for this session only (nothing persisted)."""
    if con.name == "pyspark":
        session: Any = con._session  # type: ignore[attr-defined]
        session.createDataFrame(data).createOrReplaceTempView(name)
        return con.table(name)
    return con.create_table(name, data, temp=True)


def table_name(table: ir.Table) -> str:
    """The unqualified name of a physical table or view expression."""
    return str(table.op().name)  # type: ignore[attr-defined]
