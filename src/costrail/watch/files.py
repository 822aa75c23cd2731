"""Which export files are new or changed since the last cycle: sha256 per path in `watch_files`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from costrail.schema.costs import TIMESTAMP
from costrail.warehouse.store import Warehouse

WATCH_FILES_TABLE = "watch_files"
WATCH_FILES_SCHEMA = ibis.schema(
    {
        "path": dt.string,
        "sha256": dt.string,
        "size_bytes": dt.int64,
        "at": TIMESTAMP,
        "status": dt.string,  # ingested | failed
        "detail": dt.string,
    }
)
_DATA_SUFFIXES = (".csv", ".csv.gz", ".csv.zip", ".parquet", ".json", ".jsonl", ".gz", ".txt")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SeenFile:
    path: Path
    sha256: str
    size_bytes: int


def scan(sources: list[Path]) -> list[SeenFile]:
    """Every data file under the sources (hidden and `_`-prefixed names skipped)."""
    found: list[SeenFile] = []
    for source in sources:
        candidates = [source] if source.is_file() else sorted(source.rglob("*"))
        for path in candidates:
            if not path.is_file() or path.name.startswith((".", "_")):
                continue
            if not path.name.lower().endswith(_DATA_SUFFIXES):
                continue
            found.append(SeenFile(path.resolve(), sha256_of(path), path.stat().st_size))
    return found


def last_outcomes(warehouse: Warehouse) -> dict[tuple[str, str], str]:
    """(path, sha256) → status of its latest attempt."""
    table = warehouse.read(WATCH_FILES_TABLE, WATCH_FILES_SCHEMA)
    rows = table.order_by("at").to_pyarrow().to_pylist()
    return {(str(row["path"]), str(row["sha256"])): str(row["status"]) for row in rows}


def record(warehouse: Warehouse, outcomes: list[tuple[SeenFile, str, str]]) -> None:
    if not outcomes:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "path": str(seen.path),
            "sha256": seen.sha256,
            "size_bytes": seen.size_bytes,
            "at": now,
            "status": status,
            "detail": detail,
        }
        for seen, status, detail in outcomes
    ]
    table = pa.Table.from_pylist(rows, schema=WATCH_FILES_SCHEMA.to_pyarrow())
    warehouse.append(WATCH_FILES_TABLE, table, WATCH_FILES_SCHEMA)
