"""Benchmark: pricing and writing LLM requests (`costrail.llm.store.write_requests`) on DuckDB.

    python bench/llm_store.py --rows 100000

Measures, for N synthetic requests over four models (some above the long-context threshold):
the catalog pricing pass alone (`prepare_requests`) and the full keyed write, first load and
re-load (replace). Writes bench/results/llm_store-<date>.json. Shared machines make the figures
noisy: the load average at the start is recorded with them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from costrail.llm.store import prepare_requests, write_requests
from costrail.pricing.llm import LlmPrices
from costrail.warehouse import connect

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = (
    ("openai", "gpt-4o"),
    ("anthropic", "claude-sonnet-4-5-20250929"),
    ("gcp.gemini", "gemini-2.5-pro"),
    ("openai", "gpt-4o-mini"),
)


def synthetic_requests(rows: int, seed: int = 1) -> pa.Table:
    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    inputs = [rng.randint(1_000, 300_000) for _ in range(rows)]
    return pa.table(
        {
            "time": [start + dt.timedelta(seconds=i) for i in range(rows)],
            "request_id": [f"bench-{i}" for i in range(rows)],
            "provider": [MODELS[i % len(MODELS)][0] for i in range(rows)],
            "model": [MODELS[i % len(MODELS)][1] for i in range(rows)],
            "input_tokens": inputs,
            "cached_input_tokens": [tokens // 2 for tokens in inputs],
            "output_tokens": [rng.randint(1, 2_000) for _ in range(rows)],
            "source": ["bench"] * rows,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    table = synthetic_requests(args.rows)
    prices = LlmPrices.load()
    load_average = os.getloadavg()[0]
    started = time.perf_counter()
    prepare_requests(table, prices=prices)
    pricing_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        warehouse = connect(str(Path(folder) / "bench.duckdb"))
        started = time.perf_counter()
        write_requests(warehouse, table, prices=prices)
        first_write_s = time.perf_counter() - started
        started = time.perf_counter()
        write_requests(warehouse, table, prices=prices)
        rewrite_s = time.perf_counter() - started
        warehouse.close()
    result = {
        "benchmark": "llm_store",
        "date": dt.date.today().isoformat(),
        "rows": args.rows,
        "pricing_s": round(pricing_s, 3),
        "first_write_s": round(first_write_s, 3),
        "rewrite_s": round(rewrite_s, 3),
        "rows_per_s_first_write": round(args.rows / first_write_s),
        "load_average_1m_at_start": load_average,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"llm_store-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
