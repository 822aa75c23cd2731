"""Benchmark: run every analysis on a demo warehouse of about 10M AWS rows (target < 60 s, 2 cores).

python bench/analyses.py               # 10M rows (generation + ingest are cached in bench/data)
python bench/analyses.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
RESULTS = BENCH / "results"


def warehouse_for(rows: int) -> Path:
    """Generate and ingest the demo at `rows` once; later runs reuse the warehouse."""
    from costrail.demo import generate
    from costrail.warehouse import connect
    from costrail.warehouse.load import ingest

    directory = DATA / f"demo-{rows}"
    database = directory / "warehouse.duckdb"
    if not database.exists():
        started = time.perf_counter()
        generate(directory, rows=rows, seed=7, clean=False)
        ingest(connect(str(database)), [directory / name for name in ("aws", "gcp", "azure")])
        print(f"  built {database} in {time.perf_counter() - started:.0f} s", flush=True)
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    from costrail.analyses import context_for, run
    from costrail.warehouse import connect

    database = warehouse_for(args.rows)
    warehouse = connect(str(database))
    cost_rows = warehouse.costs().count().execute()
    started = time.perf_counter()
    findings = run(context_for(warehouse.costs(), warehouse.engine))
    seconds = time.perf_counter() - started
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    result = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"),
        "machine": machine,
        "requested_rows": args.rows,
        "cost_rows": cost_rows,
        "findings": len(findings),
        "all_analyses_s": round(seconds, 2),
        "target_s": 60,
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"analyses-{result['when']}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
