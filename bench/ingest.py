"""Benchmark: CUR 2.0 Parquet → costrail warehouse, against a plain DuckDB copy of the same file.

Each measurement runs in a fresh subprocess (so peak RSS is its own) on the same file in the
same run; the ratio costrail / plain copy is what we track. Results go to bench/results/.

    python bench/ingest.py                 # 1M and 10M rows
    python bench/ingest.py --rows 200000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
RESULTS = BENCH / "results"
README = BENCH.parent / "README.md"


def generate(rows: int) -> Path:
    """The CUR 2.0 file for `rows` rows (cached under bench/data)."""
    from costrail.demo import generate_cur2_parquet

    path = DATA / f"cur2-{rows}.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate_cur2_parquet(path, rows=rows, seed=1)
        print(f"  generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def measure_plain_copy(path: Path, workdir: Path) -> float:
    import duckdb

    con = duckdb.connect(str(workdir / "plain.duckdb"))
    started = time.perf_counter()
    con.execute(f"CREATE TABLE cur AS SELECT * FROM read_parquet('{path}')")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def measure_costrail(path: Path, workdir: Path) -> float:
    from costrail.warehouse import connect
    from costrail.warehouse.load import ingest

    warehouse = connect(str(workdir / "costrail.duckdb"))
    started = time.perf_counter()
    report = ingest(warehouse, [path], format_name="aws-cur2")
    elapsed = time.perf_counter() - started
    if not all(partition.reconciled for partition in report.partitions):
        raise SystemExit("benchmark load did not reconcile")
    return elapsed


def run_one(kind: str, path: Path) -> dict[str, float]:
    """Runs in the child process: one measurement, printed as JSON."""
    with tempfile.TemporaryDirectory() as workdir:
        measure = measure_plain_copy if kind == "plain" else measure_costrail
        seconds = measure(path, Path(workdir))
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_rss_mib": peak_rss_mib}


def child(kind: str, path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def bench(rows: int) -> dict[str, object]:
    path = generate(rows)
    import pyarrow.parquet as pq

    actual_rows = pq.read_metadata(path).num_rows
    plain = child("plain", path)
    costrail = child("costrail", path)
    result = {
        "rows": actual_rows,
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "plain_copy_s": round(plain["seconds"], 2),
        "plain_copy_rows_per_s": round(actual_rows / plain["seconds"]),
        "plain_copy_peak_rss_mib": round(plain["peak_rss_mib"]),
        "costrail_s": round(costrail["seconds"], 2),
        "costrail_rows_per_s": round(actual_rows / costrail["seconds"]),
        "costrail_peak_rss_mib": round(costrail["peak_rss_mib"]),
        "ratio_vs_plain_copy": round(costrail["seconds"] / plain["seconds"], 2),
    }
    print(f"  {json.dumps(result)}", flush=True)
    return result


def markdown(results: list[dict[str, object]], machine: str) -> str:
    lines = [
        f"CUR 2.0 Parquet → warehouse ({machine}):",
        "",
        "| rows | costrail rows/s | plain DuckDB copy rows/s | costrail / plain "
        "| costrail peak RSS |",
        "|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result['rows']:,} | {result['costrail_rows_per_s']:,} | "
            f"{result['plain_copy_rows_per_s']:,} | {result['ratio_vs_plain_copy']}× | "
            f"{result['costrail_peak_rss_mib']:,} MiB |"
        )
    return "\n".join(lines) + "\n"


def update_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- bench-table -->", "<!-- /bench-table -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        README.write_text(f"{before}{start}\n{table}{end}{after}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--no-readme", action="store_true", help="Don't update the README table.")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], Path(args.child[1]))))
        return
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    results = []
    for rows in args.rows:
        print(f"{rows:,} rows", flush=True)
        results.append(bench(rows))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    record = {"when": stamp, "machine": machine, "results": results}
    (RESULTS / f"ingest-{stamp}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    table = markdown(results, machine)
    (RESULTS / "ingest.md").write_text(table, encoding="utf-8")
    print(table)
    if not args.no_readme:
        update_readme(table)


if __name__ == "__main__":
    main()
