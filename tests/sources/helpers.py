"""Helpers shared by the reader tests: CSV fixtures in their real layout, and runs on Spark."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import conform_costs
from costrail.sources import native, readers
from costrail.sources.base import MappingContext, SourceFile


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    """Write `rows` under `header` (default: the first row's keys); a `.gz` path is gzipped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def map_on_spark(
    session: Any, reader_name: str, files: list[SourceFile]
) -> tuple[ir.Table, ir.Table]:
    """A reader's conformed FOCUS rows and its source totals, both computed by Spark."""
    con = ibis.pyspark.connect(session)
    reader = readers.get(reader_name)()
    table = native.load(con, files, reader.arrow_read_options(files[0].kind))
    context = MappingContext(engine="pyspark", ingest_id="spark-test", source_format=reader.name)
    return conform_costs(reader.to_focus(table, context)), reader.source_totals(table)
