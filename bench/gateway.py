"""Added latency of `costrail gateway` over direct calls to the same local upstream.

Starts the local OpenAI-format upstream (`tests/guard/upstream.py`) and the gateway (SQLite
store, a budget and a rate limit so the guard does real work) as uvicorn processes on
127.0.0.1, then sends an open-loop 200 requests/s load (a request is sent on schedule whether
or not earlier ones returned) directly and through the gateway, and finally measures the
gateway's maximum requests/s with a closed loop. Writes bench/results/gateway-<date>.json.

    .venv/bin/python bench/gateway.py --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
#: why LiteLLM's proxy is not in the comparison (checked 2026-12-02 on this machine)
LITELLM_NOTE = (
    "not measured: `pip index versions litellm` lists 1.110.2, but `pip install "
    "'litellm[proxy]==1.110.2'` into a scratch venv under /tmp fails: the registry has no "
    "distribution of its `litellm-proxy==1.110.2` dependency, so the proxy cannot be installed "
    "cleanly here"
)
BODY = {
    "model": "gpt-4o-mini",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Classify this support ticket: my invoice is wrong."}],
}
CONFIG = """
warehouse: {warehouse}
guard:
  upstreams:
    local: {{provider: openai, base_url: "http://127.0.0.1:{upstream_port}", timeout_s: 60}}
  keys: [{{key: sk-bench, alias: bench, team: perf}}]
  budgets: [{{scope: team, amount_usd: "100000", period: month}}]
  rate_limits: [{{scope: key, rpm: 10000000, tpm: 100000000000}}]
  store: {{kind: sqlite, path: "{store}"}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(args: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    process = subprocess.Popen(args, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"server on port {port} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), load-independent cost evidence."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def open_loop(url: str, rate_per_s: float, seconds: float) -> tuple[list[float], int]:
    """Latencies (ms) of requests sent on a fixed schedule, independent of responses, and
    the number of failed requests."""
    latencies: list[float] = []
    failures = 0
    headers = {"authorization": "Bearer sk-bench"}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=500)) as client:

        async def one() -> None:
            nonlocal failures
            start = time.perf_counter()
            try:
                response = await client.post(url, json=BODY, headers=headers)
            except httpx.HTTPError:
                failures += 1
                return
            if response.status_code == 200:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures += 1

        tasks = []
        begin = time.perf_counter()
        for index in range(int(rate_per_s * seconds)):
            delay = begin + index / rate_per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return latencies, failures


async def max_throughput(url: str, seconds: float, concurrency: int = 64) -> float:
    done = 0
    headers = {"authorization": "Bearer sk-bench"}
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=500)) as client:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                try:
                    response = await client.post(url, json=BODY, headers=headers)
                except httpx.HTTPError:
                    continue
                done += response.status_code == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / seconds


def in_process_cpu_ms(requests: int = 500) -> dict[str, float]:
    """CPU ms per request, direct vs through the gateway, both as in-process ASGI apps (no
    sockets, SQLite store with a budget and rate limits, rows discarded): the guard's own
    cost, far less disturbed by other load on the machine than wall-clock latency."""
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    from costrail.guard.config import GuardSection
    from costrail.guard.gateway import create_app
    from costrail.guard.runtime import Guard
    from costrail.guard.store_sqlite import SqliteStore
    from tests.guard.upstream import create_upstream

    settings = GuardSection.model_validate(
        {
            "upstreams": {"local": {"provider": "openai", "base_url": "http://upstream"}},
            "keys": [{"key": "sk-bench", "alias": "bench", "team": "perf"}],
            "budgets": [{"scope": "team", "amount_usd": "100000"}],
            "rate_limits": [{"scope": "key", "rpm": 10_000_000, "tpm": 10_000_000_000}],
        }
    )
    store = SqliteStore(Path(tempfile.mkdtemp(prefix="costrail-bench-")) / "guard.sqlite")
    guard = Guard(settings, store=store, sink=lambda rows: None)
    upstream = create_upstream()
    gateway = create_app(guard, upstream_transport=httpx.ASGITransport(app=upstream))

    async def run(app: object, count: int) -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        headers = {"authorization": "Bearer sk-bench"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://x", headers=headers
        ) as c:
            for _ in range(count):
                await c.post("/v1/chat/completions", json=BODY)

    figures: dict[str, float] = {}
    for name, app in (("direct", upstream), ("gateway", gateway)):
        asyncio.run(run(app, 20))
        start_s = time.process_time()
        asyncio.run(run(app, requests))
        figures[name] = (time.process_time() - start_s) * 1000 / requests
    figures["added"] = figures["gateway"] - figures["direct"]
    guard.close()
    return figures


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    options = parser.parse_args()
    cpu_in_process = in_process_cpu_ms()
    work = Path(tempfile.mkdtemp(prefix="costrail-bench-"))
    upstream_port, gateway_port = free_port(), free_port()
    config = work / "costrail.yaml"
    config.write_text(
        CONFIG.format(
            upstream_port=upstream_port, store=work / "guard.sqlite", warehouse=work / "wh.duckdb"
        )
    )
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--host", "127.0.0.1"]
    upstream = serve(
        [
            *uvicorn,
            "--port",
            str(upstream_port),
            "--factory",
            "tests.guard.upstream:create_upstream",
        ],
        upstream_port,
    )
    try:
        gateway = serve(
            [
                sys.executable,
                "-c",
                "from costrail.cli.main import main; main()",
                "gateway",
                "--config",
                str(config),
                "--port",
                str(gateway_port),
            ],
            gateway_port,
        )
    except BaseException:
        upstream.terminate()
        raise
    try:
        direct_url = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
        gateway_url = f"http://127.0.0.1:{gateway_port}/v1/chat/completions"
        asyncio.run(open_loop(gateway_url, 50, 1))  # warm up connections and caches
        direct, direct_failures = asyncio.run(open_loop(direct_url, options.rate, options.seconds))
        cpu_before_s = cpu_seconds(gateway.pid)
        guarded, gateway_failures = asyncio.run(
            open_loop(gateway_url, options.rate, options.seconds)
        )
        gateway_cpu_ms = (cpu_seconds(gateway.pid) - cpu_before_s) * 1000 / max(1, len(guarded))
        max_rps = asyncio.run(max_throughput(gateway_url, min(10.0, options.seconds)))
    finally:
        for process in (gateway, upstream):
            process.terminate()
            process.wait(timeout=30)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, shared with other engineers' work while measured",
        "rate_per_s": options.rate,
        "seconds": options.seconds,
        "load_average_1m_at_end": os.getloadavg()[0],
        "direct_ms": {
            "p50": percentile(direct, 50),
            "p99": percentile(direct, 99),
            "ok": len(direct),
            "failed": direct_failures,
        },
        "gateway_ms": {
            "p50": percentile(guarded, 50),
            "p99": percentile(guarded, 99),
            "ok": len(guarded),
            "failed": gateway_failures,
        },
        # CPU the gateway process spent per request (guard, proxying, recording): the figure
        # least disturbed by other work on the machine
        "gateway_cpu_ms_per_request": gateway_cpu_ms,
        "added_ms": {
            "p50": percentile(guarded, 50) - percentile(direct, 50),
            "p99": percentile(guarded, 99) - percentile(direct, 99),
            "mean": statistics.fmean(guarded) - statistics.fmean(direct),
        },
        "gateway_max_rps_closed_loop": max_rps,
        "in_process_cpu_ms_per_request": cpu_in_process,
        "litellm": LITELLM_NOTE,
    }
    out = ROOT / "bench" / "results" / f"gateway-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
