"""Benchmark: parse and load a 30-day × 8-GPU dcgm-exporter scrape file (one scrape a minute).

Writes `bench/results/telemetry_parse-<date>.json` with file size, rows, seconds and peak RSS.
Run: `.venv/bin/python bench/telemetry_parse.py [--days 30] [--gpus 8]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from costrail.telemetry import load_telemetry
from costrail.telemetry.dcgm import parse_exposition
from costrail.telemetry.pivot import METRIC_COLUMNS
from costrail.warehouse import connect

_VALUES = {
    "DCGM_FI_DEV_GPU_UTIL": "{u}",
    "DCGM_FI_DEV_FB_USED": "{used}",
    "DCGM_FI_DEV_FB_FREE": "{free}",
    "DCGM_FI_DEV_POWER_USAGE": "{power:.3f}",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": "{ratio:.6f}",
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": "{ratio:.6f}",
    "DCGM_FI_PROF_DRAM_ACTIVE": "{ratio:.6f}",
    "DCGM_FI_PROF_SM_ACTIVE": "{ratio:.6f}",
}


def write_scrapes(path: Path, days: int, gpus: int) -> int:
    """dcgm-exporter layout, one `# costrail-scrape-time` block per minute; returns bytes."""
    labels = [
        f'gpu="{i}",UUID="GPU-0000{i:04d}-aaaa-bbbb-cccc-{i:012d}",pci_bus_id="00000000:{i:02X}:00.0",'
        f'device="nvidia{i}",modelName="NVIDIA H100 80GB HBM3",Hostname="bench-node-1",'
        f'DCGM_FI_DRIVER_VERSION="550.54.15"'
        for i in range(gpus)
    ]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with path.open("w") as out:
        for minute in range(days * 24 * 60):
            moment = start + timedelta(minutes=minute)
            block = [f"# costrail-scrape-time: {moment.isoformat()}"]
            for metric, template in _VALUES.items():
                block.append(f"# HELP {metric} {metric} help text.")
                block.append(f"# TYPE {metric} gauge")
                for i in range(gpus):
                    u = (minute * 7 + i * 13) % 101
                    value = template.format(
                        u=u, used=u * 800, free=81559 - u * 800, power=60 + u * 6.5, ratio=u / 100
                    )
                    block.append(f"{metric}{{{labels[i]}}} {value}")
            out.write("\n".join(block) + "\n")
    return path.stat().st_size


def _cpu_s() -> float:
    """CPU seconds of this process (all DuckDB threads): comparable on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--gpus", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scrapes.prom"
        started = time.perf_counter()
        size_bytes = write_scrapes(path, args.days, args.gpus)
        generate_s = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), _cpu_s()
        parsed = parse_exposition(path)
        parse_s, parse_cpu_s = time.perf_counter() - started, _cpu_s() - cpu_started
        warehouse = connect(str(Path(tmp) / "w.duckdb"))
        started = time.perf_counter()
        report = load_telemetry(warehouse, [path])
        load_s = time.perf_counter() - started
        warehouse.close()
    result = {
        "benchmark": "telemetry_parse",
        "date": date.today().isoformat(),
        "days": args.days,
        "gpus": args.gpus,
        "counters": len(METRIC_COLUMNS),
        "file_bytes": size_bytes,
        "rows": parsed.table.num_rows,
        "generate_s": round(generate_s, 2),
        "parse_s": round(parse_s, 2),
        "parse_cpu_s": round(parse_cpu_s, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "parse_and_load_s": round(load_s, 2),
        "loaded_rows": report.rows,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "note": "2-core machine shared with other engineers' jobs (see load_average_1m): "
        "wall seconds are inflated, parse_cpu_s is not; the lead may re-run",
    }
    out = Path(__file__).parent / "results" / f"telemetry_parse-{result['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
