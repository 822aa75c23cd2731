"""DCGM counters in long form (one value per metric per series per time) → `gpu_samples` rows.

The exposition-text reader and the Prometheus API reader both produce the same two relations
in a private DuckDB connection — `long(series_key, time, metric, value)` and one row of
canonical labels per `series_key` — and this module turns them into one row per
(time, host, GPU, MIG instance, pod) with all counters side by side. Labels are resolved once
per distinct series (a few hundred), never per sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

#: DCGM counter → `gpu_samples` column. FB values are MiB, UTIL is %, PROF ratios are 0..1.
METRIC_COLUMNS: dict[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "gpu_util_pct",
    "DCGM_FI_DEV_FB_USED": "memory_used_mib",
    "DCGM_FI_DEV_FB_FREE": "_memory_free_mib",
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": "gr_engine_active",
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": "tensor_active",
    "DCGM_FI_PROF_DRAM_ACTIVE": "dram_active",
    "DCGM_FI_PROF_SM_ACTIVE": "sm_active",
}

#: DCGM writes "blank" (no reading) as the largest values of each field type: int32 blank is
#: 2147483632 (0x7ffffff0) and up, int64 blank 9223372036854775792 and up, fp64 blank
#: 140737488355328.0 (2**47) and up. No counter read here can legitimately reach 2147483632
#: (MiB, %, W, ratios), so one threshold covers every type; NaN and ±Inf are blank too.
DCGM_BLANK_THRESHOLD = 2147483632.0

#: `interval_s` given to a GPU seen only once (no spacing to measure): Prometheus's default
#: `scrape_interval` of one minute.
DEFAULT_INTERVAL_S = 60.0

#: canonical label → the labels that may carry it, first present wins. Prometheus renames a
#: target's own `namespace`/`pod`/`container` to `exported_*` when it adds its own, so the
#: exported ones name the workload and win. Newer exporters write `hostname`, older `Hostname`.
LABEL_SOURCES: dict[str, tuple[str, ...]] = {
    "host": ("hostname", "Hostname", "kubernetes_node", "node", "nodename"),
    "node": ("kubernetes_node", "node", "nodename"),
    "gpu": ("gpu",),
    "uuid": ("UUID", "uuid"),
    "model": ("modelName", "modelname"),
    "pci_bus_id": ("pci_bus_id",),
    "mig_profile": ("GPU_I_PROFILE",),
    "mig_instance_id": ("GPU_I_ID",),
    "namespace": ("exported_namespace", "namespace"),
    "pod": ("exported_pod", "pod"),
    "container": ("exported_container", "container"),
    "job_id": ("hpc_job", "job_id"),
    "provider_id": ("provider_id", "providerID", "label_provider_id"),
    "instance_label": ("instance_id",),
    "prom_instance": ("instance",),
}

LABEL_COLUMNS = tuple(LABEL_SOURCES)

_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


@dataclass
class Parsed:
    """One file's (or one pull's) rows in `gpu_samples` column order, without `ingest_id`."""

    table: pa.Table
    source: str
    sentinel_counts: dict[str, int] = field(default_factory=dict)

    @property
    def sentinels(self) -> int:
        return sum(self.sentinel_counts.values())


def parse_label_string(text: str) -> dict[str, str] | None:
    """`{a="1",b="x\\"y"}` → {"a": "1", "b": 'x"y'}; None when it is not a label set."""
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return None
    inner = inner[1:-1].strip()
    labels: dict[str, str] = {}
    position = 0
    while position < len(inner):
        found = _LABEL.match(inner, position)
        if found is None:
            return None
        labels[found.group(1)] = _unescape(found.group(2))
        position = found.end()
    return labels


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def canonical_labels(labels: Mapping[str, str]) -> dict[str, str | None]:
    """The canonical label values of one series (None where no source label is present)."""
    row: dict[str, str | None] = {}
    for canonical, names in LABEL_SOURCES.items():
        row[canonical] = next((labels[name] for name in names if labels.get(name)), None)
    if row["host"] is None and row["prom_instance"]:
        row["host"] = _strip_port(row["prom_instance"])
    return row


def _strip_port(instance: str) -> str:
    host, _, port = instance.rpartition(":")
    return host if host and port.isdigit() else instance


def labels_table(
    series: Mapping[Any, Mapping[str, str]], key_type: pa.DataType | None = None
) -> pa.Table:
    """series_key → canonical labels, as the relation the pivot joins to."""
    rows = {key: canonical_labels(labels) for key, labels in series.items()}
    columns = {"series_key": pa.array(list(rows), key_type or pa.string())}
    for canonical in LABEL_COLUMNS:
        columns[canonical] = pa.array([row[canonical] for row in rows.values()], pa.string())
    return pa.table(columns)


def count_sentinels(con: duckdb.DuckDBPyConnection, long_name: str) -> dict[str, int]:
    """Blank readings per metric in relation `long_name` (they are dropped by the pivot)."""
    rows = con.execute(
        f"SELECT metric, count(*) FROM {long_name} WHERE {blank_condition('value')} GROUP BY metric"
    ).fetchall()
    return {str(metric): int(count) for metric, count in rows}


def blank_condition(value: str) -> str:
    """SQL that is true when `value` is a DCGM blank (or NaN/±Inf)."""
    return f"(isnan({value}) OR isinf({value}) OR {value} >= {DCGM_BLANK_THRESHOLD})"


def pivot(
    con: duckdb.DuckDBPyConnection,
    long_name: str,
    labels_name: str,
    default_interval_s: float = DEFAULT_INTERVAL_S,
    file_column: str | None = None,
) -> pa.Table:
    """Wide rows: counters as columns, `memory_total_mib` = used + free, `interval_s` = median
    spacing of the GPU's distinct sample times (a lone sample gets `default_interval_s`).

    `long_name` has (series_key, time TIMESTAMPTZ, metric, value DOUBLE); blank values become
    NULL here, so a GPU whose every counter is blank at a time still has its row. With
    `file_column` (an integer column of `long_name`), rows and spacing are per file and the
    column is kept, first in the sort order.
    """
    if not math.isfinite(default_interval_s) or default_interval_s <= 0:
        raise ValueError("default_interval_s must be a positive number of seconds")
    blank = blank_condition("value")
    counters = ",\n".join(
        f"max(CASE WHEN metric = '{metric}' AND NOT {blank} THEN value END) AS {column}"
        for metric, column in METRIC_COLUMNS.items()
    )
    file_select = f"v.{file_column}, " if file_column else ""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE wide AS
        SELECT *, memory_used_mib + _memory_free_mib AS memory_total_mib FROM (
            SELECT {file_select}l.host, l.node, l.gpu, l.uuid, l.model, l.pci_bus_id, l.mig_profile,
                   l.mig_instance_id, l.namespace, l.pod, l.container, l.job_id, l.provider_id,
                   l.instance_label, v.time,
                   {counters}
            FROM {long_name} v JOIN {labels_name} l USING (series_key)
            GROUP BY ALL
        )
        """
    )
    return shape(con, "wide", default_interval_s, file_column)


def shape(
    con: duckdb.DuckDBPyConnection,
    wide_name: str,
    default_interval_s: float = DEFAULT_INTERVAL_S,
    file_column: str | None = None,
) -> pa.Table:
    """Relation `wide_name` (label columns, `time`, one column per counter and
    `memory_total_mib`) → reader output with `interval_s`, sorted by GPU and time (by file
    first, and spacing measured per file, when `file_column` is given)."""
    files = (file_column,) if file_column else ()
    gpu_key = (*files, "host", "gpu", "uuid", "mig_instance_id")
    file_select = "".join(f"w.{column}, " for column in files)
    partition = ", ".join(gpu_key)
    join = " AND ".join(f"w.{column} IS NOT DISTINCT FROM s.{column}" for column in gpu_key)
    sql = f"""
    WITH times AS (SELECT DISTINCT {partition}, time FROM {wide_name}),
    gaps AS (
        SELECT {partition},
               epoch(time) - epoch(lag(time) OVER (PARTITION BY {partition} ORDER BY time)) AS gap_s
        FROM times
    ),
    spacing AS (SELECT {partition}, median(gap_s) AS interval_s FROM gaps GROUP BY ALL)
    SELECT {file_select}w.time, w.host, w.instance_label, w.provider_id,
           coalesce(w.node, w.host) AS node,
           TRY_CAST(w.gpu AS INTEGER) AS gpu_index, w.uuid AS gpu_uuid, w.model AS gpu_model,
           w.pci_bus_id, w.mig_profile, w.mig_instance_id,
           w.gpu_util_pct, w.sm_active, w.tensor_active, w.gr_engine_active, w.dram_active,
           w.memory_used_mib, w.memory_total_mib,
           w.power_w, w.namespace, w.pod, w.container, w.job_id,
           CAST(NULL AS INTEGER) AS process_count,
           coalesce(s.interval_s, {float(default_interval_s)}) AS interval_s
    FROM {wide_name} w LEFT JOIN spacing s ON {join}
    ORDER BY {file_select}w.host, w.uuid, w.mig_instance_id, w.time
    """
    return con.execute(sql).fetch_arrow_table()


def to_utc(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC."""
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
