"""Shared paths and small helpers for the telemetry tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telemetry"


def rows_by(table: pa.Table, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Rows of `table` keyed by the values of `keys` (time values as ISO strings)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in table.to_pylist():
        key = tuple(
            row[name].isoformat().replace("+00:00", "Z") if name == "time" else row[name]
            for name in keys
        )
        out[key] = row
    return out
