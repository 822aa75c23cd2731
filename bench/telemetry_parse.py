"""Benchmark: dcgm-exporter exposition text, two shapes people actually save.

1. one 30-day × 8-GPU file with one scrape a minute (`--days`, `--gpus`; `--days 0` skips it);
2. a folder of `--files` one-scrape files (default 1,000), as `curl host:9400/metrics > f` once
   a minute leaves them: no time comment, the file's modification time is the scrape time.

Writes `bench/results/telemetry_parse-<UTC timestamp>.json` with sizes, rows, wall and CPU
seconds, peak RSS and the load average. Run:
`.venv/bin/python bench/telemetry_parse.py [--days 30] [--gpus 8] [--files 1000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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


START = datetime(2026, 10, 1, tzinfo=UTC)


def _labels(gpus: int) -> list[str]:
    return [
        f'gpu="{i}",UUID="GPU-0000{i:04d}-aaaa-bbbb-cccc-{i:012d}",pci_bus_id="00000000:{i:02X}:00.0",'
        f'device="nvidia{i}",modelName="NVIDIA H100 80GB HBM3",Hostname="bench-node-1",'
        f'DCGM_FI_DRIVER_VERSION="550.54.15"'
        for i in range(gpus)
    ]


def scrape_block(minute: int, labels: list[str]) -> list[str]:
    """One scrape in dcgm-exporter's layout (HELP/TYPE then one line per GPU per counter)."""
    block = []
    for metric, template in _VALUES.items():
        block.append(f"# HELP {metric} {metric} help text.")
        block.append(f"# TYPE {metric} gauge")
        for i, label in enumerate(labels):
            u = (minute * 7 + i * 13) % 101
            value = template.format(
                u=u, used=u * 800, free=81559 - u * 800, power=60 + u * 6.5, ratio=u / 100
            )
            block.append(f"{metric}{{{label}}} {value}")
    return block


def write_scrapes(path: Path, days: int, gpus: int) -> int:
    """dcgm-exporter layout, one `# costrail-scrape-time` block per minute; returns bytes."""
    labels = _labels(gpus)
    with path.open("w") as out:
        for minute in range(days * 24 * 60):
            moment = START + timedelta(minutes=minute)
            block = [f"# costrail-scrape-time: {moment.isoformat()}", *scrape_block(minute, labels)]
            out.write("\n".join(block) + "\n")
    return path.stat().st_size


def write_scrape_files(folder: Path, files: int, gpus: int) -> int:
    """`files` one-scrape files a minute apart (times from mtime); returns total bytes."""
    labels = _labels(gpus)
    total = 0
    for minute in range(files):
        path = folder / f"scrape-{minute:05d}.prom"
        path.write_text("\n".join(scrape_block(minute, labels)) + "\n")
        moment = (START + timedelta(minutes=minute)).timestamp()
        os.utime(path, (moment, moment))
        total += path.stat().st_size
    return total


def _cpu_s() -> float:
    """CPU seconds of this process (all DuckDB threads): comparable on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _phase(run: Callable[[], int]) -> dict[str, float]:
    started, cpu_started = time.perf_counter(), _cpu_s()
    rows = run()
    return {
        "rows": rows,
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(_cpu_s() - cpu_started, 2),
    }


def big_file(tmp: Path, days: int, gpus: int) -> dict[str, object]:
    path = tmp / "scrapes.prom"
    started = time.perf_counter()
    size_bytes = write_scrapes(path, days, gpus)
    generate_s = time.perf_counter() - started
    parse = _phase(lambda: parse_exposition(path).table.num_rows)
    warehouse = connect(str(tmp / "big.duckdb"))
    load = _phase(lambda: load_telemetry(warehouse, [path]).rows)
    warehouse.close()
    return {
        "days": days,
        "gpus": gpus,
        "file_bytes": size_bytes,
        "generate_s": round(generate_s, 2),
        "parse": parse,
        "parse_and_load": load,
    }


def many_files(tmp: Path, files: int, gpus: int) -> dict[str, object]:
    folder = tmp / "scrapes"
    folder.mkdir()
    size_bytes = write_scrape_files(folder, files, gpus)
    paths = sorted(folder.glob("*.prom"))
    warehouse = connect(str(tmp / "many.duckdb"))
    load = _phase(lambda: load_telemetry(warehouse, paths).rows)
    warehouse.close()
    return {"files": files, "gpus": gpus, "total_bytes": size_bytes, "parse_and_load": load}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30, help="one big file; 0 skips it")
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--files", type=int, default=1000, help="one-scrape files; 0 skips")
    args = parser.parse_args()
    stamp = datetime.now(UTC)
    result: dict[str, object] = {
        "benchmark": "telemetry_parse",
        "started": stamp.isoformat(timespec="seconds"),
        "counters": len(METRIC_COLUMNS),
        "cpus": os.cpu_count(),
        "load_average_1m_start": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory() as tmp:
        if args.files > 0:
            result["many_files"] = many_files(Path(tmp), args.files, args.gpus)
        if args.days > 0:
            result["big_file"] = big_file(Path(tmp), args.days, args.gpus)
    result["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["note"] = (
        "2-core machine shared with other engineers' jobs (see load_average_1m_*): wall seconds "
        "are inflated, cpu_s less so; the lead may re-run"
    )
    out = Path(__file__).parent / "results" / f"telemetry_parse-{stamp:%Y-%m-%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
