"""Ingest: detect → load native → check → map to FOCUS → stage → reconcile → one atomic commit.

Nothing is visible in the warehouse until every file of the call has been mapped and every
billing period reconciled to the cent; any error leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

import costrail.sources  # noqa: F401  (registers the readers)
from costrail.errors import InputError, ReconciliationError
from costrail.schema.costs import conform_costs
from costrail.sources import native
from costrail.sources.base import LoadWarnings, MappingContext, SourceFile
from costrail.sources.discover import FileGroup, discover
from costrail.warehouse.reconcile import PartitionTotal, partition_totals
from costrail.warehouse.store import Warehouse

#: Called with a short description of each step, for progress display.
ProgressHook = Callable[[str], None]

KEY_COLUMNS = ("x_Provider", "BillingAccountId", "BillingPeriodStart")


@dataclass
class IngestReport:
    """What one `ingest` call did: per-period reconciliation lines, warnings, skipped files."""

    ingest_id: str
    partitions: list[PartitionTotal] = field(default_factory=list)
    warnings: LoadWarnings = field(default_factory=LoadWarnings)
    skipped_files: list[Path] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(partition.loaded_rows for partition in self.partitions)


def new_ingest_id() -> str:
    return datetime.now(UTC).strftime("ing-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]


def ingest(
    warehouse: Warehouse,
    paths: list[Path],
    format_name: str | None = None,
    progress: ProgressHook | None = None,
) -> IngestReport:
    """Load `paths` (files, directories, export manifests) into `warehouse` atomically."""
    notify = progress or (lambda _message: None)
    found = discover([Path(path) for path in paths], format_name)
    report = IngestReport(ingest_id=new_ingest_id(), skipped_files=found.skipped)
    staged: list[ir.Table] = []
    ingest_rows: list[dict[str, object]] = []
    try:
        for group in found.groups:
            notify(f"reading {len(group.files)} {group.reader.name} file(s)")
            table, partitions = _stage_group(warehouse, group, report)
            staged.append(table)
            report.partitions.extend(partitions)
            report.formats[group.reader.name] = len(group.files)
            ingest_rows.extend(_ingest_rows(report.ingest_id, group, partitions))
        _require_reconciled(report.partitions)
        _require_disjoint(staged)
        notify("committing")
        warehouse.commit(staged, pa.Table.from_pylist(ingest_rows))
    finally:
        warehouse.drop_staged(staged)
    return report


def _stage_group(
    warehouse: Warehouse, group: FileGroup, report: IngestReport
) -> tuple[ir.Table, list[PartitionTotal]]:
    reader = group.reader
    files = list(group.files)
    native_table = native.load(warehouse.con, files, reader.arrow_read_options(group.kind))
    reader.check(native_table, files, report.warnings)
    context = MappingContext(
        engine=warehouse.engine, ingest_id=report.ingest_id, source_format=reader.name
    )
    mapped = reader.to_focus(native_table, context).mutate(
        x_IngestId=ibis.literal(report.ingest_id), x_SourceFormat=ibis.literal(reader.name)
    )
    staged = warehouse.stage(
        conform_costs(mapped), report.ingest_id, [str(source.path) for source in files]
    )
    _require_keys(staged)
    return staged, partition_totals(reader.source_totals(native_table), staged)


def _require_keys(staged: ir.Table) -> None:
    """Every row needs its load key and a billed cost; name the first row that lacks one.

    BillingAccountId may be null: some providers' FOCUS files leave it empty.
    """
    required = ("x_Provider", "BillingPeriodStart", "BilledCost", "ChargePeriodStart")
    counts = (
        staged.aggregate(
            **{column: staged[column].isnull().cast("int64").sum() for column in required}
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    for column in required:
        if not counts[column]:
            continue
        missing = staged.filter(staged[column].isnull())
        first = (
            missing.order_by(["x_SourceFile", "x_SourceRow"])
            .select("x_SourceFile", "x_SourceRow")
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        raise InputError(
            f"no value for {column} could be derived",
            file=first[0]["x_SourceFile"],
            row=first[0]["x_SourceRow"],
            column=column,
            hint="the row lacks the source columns this is derived from; nothing was loaded",
        )


def _require_reconciled(partitions: list[PartitionTotal]) -> None:
    failed = [partition for partition in partitions if not partition.reconciled]
    if failed:
        lines = "; ".join(partition.line() for partition in failed)
        raise ReconciliationError(f"totals do not reconcile, nothing was loaded: {lines}")


def _require_disjoint(staged: list[ir.Table]) -> None:
    """Two formats in one call must not both claim one period (it would double count)."""
    seen: dict[tuple[object, ...], int] = {}
    for index, table in enumerate(staged):
        keys = table.select(*KEY_COLUMNS).distinct().to_pyarrow().to_pylist()
        for key in keys:
            key_tuple = tuple(key[column] for column in KEY_COLUMNS)
            if key_tuple in seen and seen[key_tuple] != index:
                raise InputError(
                    f"two file formats in one load both hold billing period {key_tuple}; "
                    "load them separately (a later load of a period replaces the earlier one)"
                )
            seen[key_tuple] = index


def _ingest_rows(
    ingest_id: str, group: FileGroup, partitions: list[PartitionTotal]
) -> list[dict[str, object]]:
    files_json = json.dumps([_file_record(source) for source in group.files], separators=(",", ":"))
    loaded_at = datetime.now(UTC)
    return [
        {
            "ingest_id": ingest_id,
            "loaded_at": loaded_at,
            "source_format": group.reader.name,
            "files": files_json,
            "provider": partition.provider,
            "billing_account_id": partition.billing_account_id,
            "billing_period_start": partition.billing_period_start,
            "rows": partition.loaded_rows,
            "source_total": partition.source_total,
            "loaded_total": partition.loaded_total,
            "currency": partition.currency,
            "status": "reconciled",
        }
        for partition in partitions
    ]


def _file_record(source: SourceFile) -> dict[str, object]:
    return {"path": str(source.path), "sha256": source.sha256, "bytes": source.size_bytes}
