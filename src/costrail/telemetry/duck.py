"""A private in-memory DuckDB for parsing: UTC session time zone, no state shared with others."""

from __future__ import annotations

import duckdb


def parser_connection() -> duckdb.DuckDBPyConnection:
    """A fresh connection; parsing never touches the warehouse until the load's one replace."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con
