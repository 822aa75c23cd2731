"""Benchmark: N days × M GPUs × one sample a minute of agent Parquet segments, ingested and
analysed by the GPU analyses; wall time and peak RSS per phase to bench/results/.

    .venv/bin/python bench/gpu_fleet.py                 # 30 days × 1,000 GPUs (43.2M samples)
    .venv/bin/python bench/gpu_fleet.py --gpus 50 --days 2
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from costrail.analyses import context_for, run
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.warehouse import connect

GPUS_PER_HOST = 8
START = datetime(2026, 11, 1, tzinfo=UTC)
KINDS = ["gpu_idle", "gpu_zombie", "gpu_low_utilisation", "gpu_oversized", "gpu_fleet_efficiency"]


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def segment(host: int, days: int, rng: np.random.Generator) -> pa.Table:
    """One host's samples (8 GPUs × one a minute), vectorised; some hosts idle half the time."""
    minutes = days * 1440
    times = np.datetime64(START.replace(tzinfo=None), "s") + np.arange(minutes) * np.timedelta64(
        60, "s"
    )
    n = minutes * GPUS_PER_HOST
    busy = rng.uniform(0.3, 0.9, n)
    if host % 5 == 0:
        busy[: n // 2] = 0.0
    schema = GPU_SAMPLES_SCHEMA.to_pyarrow()
    columns: dict[str, Any] = {
        "time": pa.array(np.repeat(times, GPUS_PER_HOST)).cast(schema.field("time").type),
        "host": pa.array(np.full(n, f"host-{host:04d}")),
        "gpu_index": pa.array(np.tile(np.arange(GPUS_PER_HOST, dtype=np.int32), minutes)),
        "gpu_uuid": pa.array(np.tile([f"GPU-{host:04d}-{i}" for i in range(8)], minutes)),
        "gpu_model": pa.array(np.full(n, "NVIDIA H100 80GB HBM3")),
        "gpu_util_pct": pa.array(np.minimum(busy * 100 + 30, 100) * (busy > 0)),
        "sm_active": pa.array(busy),
        "memory_used_mib": pa.array(rng.uniform(20000, 70000, n) * (busy > 0)),
        "memory_total_mib": pa.array(np.full(n, 81559.0)),
        "power_w": pa.array(70 + busy * 600),
        "interval_s": pa.array(np.full(n, 60.0)),
        "source": pa.array(np.full(n, "agent")),
    }
    fields = [f for f in schema if f.name not in ("source_file", "ingest_id")]
    arrays = [columns.get(f.name, pa.nulls(n, f.type)).cast(f.type) for f in fields]
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    return table.replace_schema_metadata({"costrail.segment": "gpu_samples/1"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gpus", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    hosts = max(1, args.gpus // GPUS_PER_HOST)
    phases: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "segments"
        folder.mkdir()
        started = time.perf_counter()
        rng = np.random.default_rng(7)
        for host in range(hosts):
            pq.write_table(segment(host, args.days, rng), folder / f"host-{host:04d}.parquet")
        phases["generate"] = {
            "wall_s": time.perf_counter() - started,
            "peak_rss_mib": peak_rss_mib(),
        }

        started = time.perf_counter()
        warehouse = connect(str(Path(tmp) / "w.duckdb"))
        try:
            from costrail.telemetry import load_telemetry  # type: ignore[attr-defined]

            load_telemetry(warehouse, sorted(folder.glob("*.parquet")))
            loader = "costrail.telemetry.load_telemetry"
        except ImportError:
            rows = ibis.read_parquet(str(folder / "*.parquet"))
            rows = rows.mutate(source_file=ibis.literal("bench"), ingest_id=ibis.literal("bench"))
            warehouse.replace("gpu_samples", rows, GPU_SAMPLES_SCHEMA, ("host",))
            loader = "Warehouse.replace(read_parquet) (telemetry loader not in the tree yet)"
        phases["ingest"] = {"wall_s": time.perf_counter() - started, "peak_rss_mib": peak_rss_mib()}

        started = time.perf_counter()
        samples = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA)
        findings = run(context_for(warehouse.costs(), warehouse.engine, gpu_samples=samples), KINDS)
        phases["analyse"] = {
            "wall_s": time.perf_counter() - started,
            "peak_rss_mib": peak_rss_mib(),
        }
    result = {
        "gpus": hosts * GPUS_PER_HOST,
        "days": args.days,
        "samples": hosts * GPUS_PER_HOST * args.days * 1440,
        "loader": loader,
        "findings": len(findings),
        "phases": phases,
        "total_wall_s": sum(p["wall_s"] for p in phases.values()),
        "note": "measured on a shared 2-core machine (other engineers' jobs running)",
    }
    out = Path(__file__).parent / "results" / f"gpu_fleet-{date.today():%Y-%m-%d}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
