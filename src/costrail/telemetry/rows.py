"""The last step every text reader shares: fill `instance_id` and order columns as `gpu_samples`."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.telemetry.hosts import resolve_instance_ids

#: `gpu_samples` columns a reader produces; `ingest_id` is added by the load.
SAMPLE_COLUMNS = tuple(name for name in GPU_SAMPLES_SCHEMA.names if name != "ingest_id")
_ARROW_SCHEMA = GPU_SAMPLES_SCHEMA.to_pyarrow()


def finish(
    wide: pa.Table,
    source: str,
    source_file: str | pa.Array,
    host_map: Mapping[str, str] | None,
) -> pa.Table:
    """`wide` (a reader's pivot: `instance_label` and `provider_id` instead of `instance_id`)
    → a table of exactly `SAMPLE_COLUMNS`, typed as `GPU_SAMPLES_SCHEMA`. `source_file` is
    one name for every row, or one per row (several files parsed together)."""
    length = wide.num_rows
    instance_ids = resolve_instance_ids(
        wide.column("host"), wide.column("provider_id"), wide.column("instance_label"), host_map
    )
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in SAMPLE_COLUMNS:
        target = _ARROW_SCHEMA.field(name).type
        if name == "instance_id":
            values: pa.Array | pa.ChunkedArray = instance_ids
        elif name == "source":
            values = pa.repeat(pa.scalar(source, pa.string()), length)
        elif name == "source_file" and isinstance(source_file, str):
            values = pa.repeat(pa.scalar(source_file, pa.string()), length)
        elif name == "source_file":
            values = source_file
        elif name in wide.column_names:
            values = wide.column(name)
        else:
            values = pa.nulls(length, target)
        columns[name] = values.cast(target)
    return pa.table(columns)
