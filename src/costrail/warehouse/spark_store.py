"""Warehouse on Apache Spark: Parquet snapshots under a directory, switched atomically.

Each load writes new versions of `costs` and `ingests` (the untouched billing periods copied
forward, the loaded ones replaced) and then atomically renames a small `_current.json` that
names the live versions. Readers always see one consistent snapshot; a failed load leaves the
pointer — and so the warehouse — as it was. Old versions beyond the last few are removed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from costrail.engine import register_arrow, table_name
from costrail.errors import WarehouseError
from costrail.schema import COSTS_SCHEMA, INGESTS_SCHEMA
from costrail.warehouse.store import Warehouse

POINTER = "_current.json"
KEEP_VERSIONS = 2
KEY_COLUMNS = ("x_Provider", "BillingAccountId", "BillingPeriodStart")


def local_session(app_name: str = "costrail") -> Any:
    """A `local[*]` SparkSession set up for exact, UTC, small-footprint work."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise WarehouseError(
            "Spark support needs pyspark: pip install 'costrail[spark]' (and Java 17+)"
        ) from error
    return (
        SparkSession.builder.master(os.environ.get("COSTRAIL_SPARK_MASTER", "local[*]"))
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.memory", os.environ.get("COSTRAIL_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


class SparkWarehouse(Warehouse):
    """`costs` and `ingests` as Parquet datasets under `directory`, served as Spark temp views."""

    def __init__(self, url: str, directory: Path, session: Any | None = None) -> None:
        self.url = url
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.session = session or local_session()
        self.con = ibis.pyspark.connect(self.session)
        self._staged_paths: dict[str, Path] = {}
        self._register_current()

    # -- snapshots -------------------------------------------------------------------------

    def _pointer(self) -> dict[str, str]:
        path = self.directory / POINTER
        if not path.exists():
            return {}
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def _register_current(self) -> None:
        pointer = self._pointer()
        for name, schema in (("costs", COSTS_SCHEMA), ("ingests", INGESTS_SCHEMA)):
            version = pointer.get(name)
            if version is None:
                register_arrow(self.con, name, schema.to_pyarrow().empty_table())
            else:
                frame = self.session.read.parquet(str(self.directory / name / version))
                frame.createOrReplaceTempView(name)

    def costs(self) -> ir.Table:
        return _typed(self.con.table("costs"), COSTS_SCHEMA)

    def ingests(self) -> ir.Table:
        return _typed(self.con.table("ingests"), INGESTS_SCHEMA)

    def stage(self, expr: ir.Table, ingest_id: str, source_files: list[str]) -> ir.Table:
        """Write the staged rows as Parquet (so later steps don't recompute the mapping)."""
        name = f"_stage_{uuid.uuid4().hex[:12]}"
        path = self.directory / "_staging" / name
        self._frame(expr).write.parquet(str(path))
        self.session.read.parquet(str(path)).createOrReplaceTempView(name)
        self._staged_paths[name] = path
        return self.con.table(name)

    def commit(self, staged: list[ir.Table], ingest_rows: pa.Table) -> None:
        pointer = self._pointer()
        version = f"v{uuid.uuid4().hex[:12]}"
        new_rows = _typed(staged[0], COSTS_SCHEMA)
        for table in staged[1:]:
            new_rows = new_rows.union(_typed(table, COSTS_SCHEMA))
        keys = new_rows.select(*KEY_COLUMNS).distinct()
        current = self.costs()
        kept = current.anti_join(keys, [current[k].identical_to(keys[k]) for k in KEY_COLUMNS])
        combined = kept.union(new_rows)
        self._frame(combined.select(*COSTS_SCHEMA.names)).write.parquet(
            str(self.directory / "costs" / version)
        )
        replaced = _mark_replaced(self.ingests(), keys)
        appended_name = f"_ingest_rows_{uuid.uuid4().hex[:12]}"
        appended = register_arrow(self.con, appended_name, ingest_rows).cast(INGESTS_SCHEMA)
        self._frame(replaced.union(appended).select(*INGESTS_SCHEMA.names)).write.parquet(
            str(self.directory / "ingests" / version)
        )
        _atomic_write_json(self.directory / POINTER, {"costs": version, "ingests": version})
        self._register_current()
        self._collect_garbage(pointer)

    def append(self, name: str, rows: pa.Table, schema: ibis.Schema) -> None:
        """One Parquet file per append under `<dir>/<name>/` (written aside, then renamed)."""
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        import pyarrow.parquet as pq

        final = folder / f"part-{uuid.uuid4().hex}.parquet"
        temporary = folder / f".{final.name}.tmp"
        pq.write_table(rows.cast(schema.to_pyarrow()), temporary)
        os.replace(temporary, final)

    def replace(
        self, name: str, rows: ir.Table, schema: ibis.Schema, key_columns: tuple[str, ...]
    ) -> int:
        """Copy-on-write: the kept old rows and the new ones are written to a fresh folder,
        which then takes the table's place (two renames; readers opened before keep theirs)."""
        typed = rows.select(
            *[rows[column].cast(dtype).name(column) for column, dtype in schema.items()]
        )
        incoming_path = self.directory / "_staging" / f"_incoming_{uuid.uuid4().hex[:12]}"
        self._frame(typed).write.parquet(str(incoming_path))
        incoming = _typed(self._view(self.session.read.parquet(str(incoming_path))), schema)
        keys = incoming.select(*key_columns).distinct()
        current = self.read(name, schema)
        kept = current.anti_join(keys, [current[k].identical_to(keys[k]) for k in key_columns])
        folder = self.directory / name
        fresh = self.directory / f".{name}.{uuid.uuid4().hex[:8]}"
        frame = self._frame(kept.union(incoming).select(*schema.names))
        frame.write.parquet(str(fresh))  # Spark names its files part-*.parquet, as read() expects
        written = int(incoming.count().to_pyarrow().as_py())
        retired = self.directory / f".{name}.retired.{uuid.uuid4().hex[:8]}"
        if folder.exists():
            folder.rename(retired)
        fresh.rename(folder)
        shutil.rmtree(retired, ignore_errors=True)
        shutil.rmtree(incoming_path, ignore_errors=True)
        return written

    def _view(self, frame: Any) -> ir.Table:
        view = f"_view_{uuid.uuid4().hex[:8]}"
        frame.createOrReplaceTempView(view)
        return self.con.table(view)

    def read(self, name: str, schema: ibis.Schema) -> ir.Table:
        folder = self.directory / name
        view = f"_{name}_{uuid.uuid4().hex[:8]}"
        if folder.exists() and any(folder.glob("part-*.parquet")):
            self.session.read.parquet(str(folder / "part-*.parquet")).createOrReplaceTempView(view)
        else:
            register_arrow(self.con, view, schema.to_pyarrow().empty_table())
        return _typed(self.con.table(view), schema)

    def drop_staged(self, staged: list[ir.Table]) -> None:
        for table in staged:
            path = self._staged_paths.pop(table_name(table), None)
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)

    def _frame(self, expr: ir.Table) -> Any:
        """A Spark DataFrame for `expr` (in-memory lookup tables registered first, as Ibis does)."""
        self.con._run_pre_execute_hooks(expr)  # type: ignore[attr-defined]
        return self.session.sql(str(self.con.compile(expr)))

    def _collect_garbage(self, previous: dict[str, str]) -> None:
        for name in ("costs", "ingests"):
            root = self.directory / name
            versions = sorted(root.iterdir(), key=lambda p: p.stat().st_mtime)
            live = self._pointer().get(name)
            for stale in versions[:-KEEP_VERSIONS]:
                if stale.name not in (live, previous.get(name)):
                    shutil.rmtree(stale, ignore_errors=True)


def _typed(table: ir.Table, schema: ibis.Schema) -> ir.Table:
    """Spark reads timestamps without a zone and may widen types: cast back to canonical."""
    return table.select(
        **{
            name: table[name] if table[name].type() == dtype else table[name].cast(dtype)
            for name, dtype in schema.items()
        }
    )


def _mark_replaced(ingests: ir.Table, keys: ir.Table) -> ir.Table:
    """Earlier reconciled ingests of the keys being loaded now become 'replaced'."""
    hits = keys.mutate(_hit=ibis.literal(True))
    joined = ingests.left_join(
        hits,
        [
            ingests.provider.identical_to(hits.x_Provider),
            ingests.billing_account_id.identical_to(hits.BillingAccountId),
            ingests.billing_period_start.identical_to(hits.BillingPeriodStart),
        ],
    )
    status = ibis.ifelse(
        joined._hit.notnull() & (joined.status == "reconciled"), "replaced", joined.status
    )
    return joined.select(*[c for c in INGESTS_SCHEMA.names if c != "status"], status=status)


def _atomic_write_json(path: Path, payload: dict[str, str]) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(temporary, path)
