"""`costrail agent` Parquet segments → `gpu_samples`, read by the engine itself (no Python rows).

A segment holds exactly the `gpu_samples` columns except `source_file` and `ingest_id`, and
carries the Parquet key/value metadata `costrail.segment = "gpu_samples/1"`; that marker, not
the file name, is how a segment is recognised. The same layout is the GPU benchmark's input, so
the load is one `read_parquet` scan over all segments straight into the warehouse.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from costrail.errors import InputError
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.warehouse.store import Warehouse

SEGMENT_METADATA_KEY = b"costrail.segment"
SEGMENT_FORMAT = b"gpu_samples/1"
#: columns a segment must hold, in `gpu_samples` order
SEGMENT_COLUMNS = tuple(
    name for name in GPU_SAMPLES_SCHEMA.names if name not in ("source_file", "ingest_id")
)


def segment_schema() -> pa.Schema:
    """The Arrow schema (with the marker metadata) a segment writer must use."""
    fields = [GPU_SAMPLES_SCHEMA.to_pyarrow().field(name) for name in SEGMENT_COLUMNS]
    return pa.schema(fields, metadata={SEGMENT_METADATA_KEY: SEGMENT_FORMAT})


def is_segment(path: Path) -> bool:
    """True for a Parquet file whose footer carries the segment marker; never raises."""
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"PAR1":
                return False
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return metadata.get(SEGMENT_METADATA_KEY) == SEGMENT_FORMAT


def check_segment(path: Path) -> None:
    """InputError naming the file and column when a segment lacks a `gpu_samples` column."""
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"cannot read Parquet footer: {error}", file=path) from error
    for column in SEGMENT_COLUMNS:
        if column not in names:
            raise InputError(
                "agent segment lacks a gpu_samples column",
                file=path,
                column=column,
                hint=f"segments must have exactly these columns: {', '.join(SEGMENT_COLUMNS)}",
            )


def segments_table(warehouse: Warehouse, paths: list[Path], ingest_id: str) -> ir.Table:
    """One Ibis expression over every segment, typed as `gpu_samples`, with `source_file`
    (the path as given) and `ingest_id` filled in — evaluated by the warehouse's engine."""
    for path in paths:
        check_segment(path)
    if warehouse.engine == "duckdb":
        scan = warehouse.con.read_parquet([str(path) for path in paths], filename=True)
        source_file = scan["filename"]
        return _typed(scan, source_file, ingest_id)
    parts = [
        _typed(warehouse.con.read_parquet(str(path)), ibis.literal(str(path)), ingest_id)
        for path in paths
    ]
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def _typed(scan: ir.Table, source_file: ir.Value, ingest_id: str) -> ir.Table:
    columns = [scan[name].cast(GPU_SAMPLES_SCHEMA[name]).name(name) for name in SEGMENT_COLUMNS]
    return scan.select(
        *columns,
        source_file=source_file.cast("string"),
        ingest_id=ibis.literal(ingest_id, type="string"),
    ).select(*GPU_SAMPLES_SCHEMA.names)
