"""Added latency of `costrail gateway` over direct calls to the same local upstream.

Three processes on 127.0.0.1: the local OpenAI-format upstream (`tests/guard/upstream.py`)
and the gateway (SQLite store, a budget and a rate limit so the guard does real work, rows
written to DuckDB), each under uvicorn with `--loop asyncio --http h11`, and this load
generator. The open-loop load (a request leaves on schedule whether or not earlier ones came
back) alternates between direct and gateway in short rounds after a warm-up, so slow changes
in other load on a shared machine hit both paths alike. Then a closed loop measures the
maximum requests/s of each path, and the gateway's CPU per request is read from /proc.
Every phase is bounded in time. Writes bench/results/gateway-<timestamp>.json.

    .venv/bin/python bench/gateway.py --seconds 20 --rate 200
    .venv/bin/python bench/gateway.py --profile /tmp/gateway.prof   # cProfile the gateway
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
HEADERS = {"authorization": "Bearer sk-bench"}
CONFIG = """
warehouse: {warehouse}
guard:
  upstreams:
    local: {{provider: openai, base_url: "http://127.0.0.1:{upstream_port}", timeout_s: 60}}
  keys: [{{key: sk-bench, alias: bench, team: perf}}]
  budgets: [{{scope: team, amount_usd: "100000", period: month}}]
  rate_limits: [{{scope: key, rpm: 10000000, tpm: 100000000000}}]
  store: {{kind: sqlite, path: "{store}"}}
{recorder}"""
REQUEST_TIMEOUT_S = 10.0
#: quiet time between phases, so one phase's leftovers do not land in the next
PAUSE_S = 3.0
#: the load generator's pools: few idle connections kept (see `upstream_limits` in
#: costrail/guard/gateway.py for why a large idle pool costs CPU on every request)
LOAD_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=8, keepalive_expiry=5)
UVICORN = ["-m", "uvicorn", "--loop", "asyncio", "--http", "h11", "--no-access-log"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(args: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a server process and wait (at most 60 s) until it accepts connections."""
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"server on port {port} did not start: {' '.join(args)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT: uvicorn shuts down cleanly (the recorder flushes) and then re-raises it, which
    `python -m cProfile` survives long enough to write its profile (SIGTERM it does not)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), load-independent cost evidence."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Samples:
    """Latencies (ms) of successful requests and the count of failed or late ones."""

    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0
    #: still unanswered `REQUEST_TIMEOUT_S` after the schedule ended (cancelled)
    late: int = 0

    def summary(self) -> dict[str, float | int]:
        return {
            "p50": percentile(self.latencies_ms, 50),
            "p90": percentile(self.latencies_ms, 90),
            "p99": percentile(self.latencies_ms, 99),
            "mean": statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan"),
            "ok": len(self.latencies_ms),
            "failed": self.failed,
            "late": self.late,
        }


async def _timed_post(client: httpx.AsyncClient, url: str, samples: Samples | None) -> None:
    start = time.perf_counter()
    try:
        response = await client.post(url, json=BODY, headers=HEADERS)
    except httpx.HTTPError:
        if samples is not None:
            samples.failed += 1
        return
    if samples is None:
        return
    if response.status_code == 200:
        samples.latencies_ms.append((time.perf_counter() - start) * 1000)
    else:
        samples.failed += 1


async def open_loop(
    urls: dict[str, str], rate_per_s: float, seconds: float, warmup_s: float, round_s: float
) -> dict[str, Samples]:
    """Send `rate_per_s` requests/s on a fixed schedule for `warmup_s + seconds`, switching
    target every `round_s` (direct, gateway, direct, …); warm-up requests are not counted.
    Requests still out `REQUEST_TIMEOUT_S` after the schedule ends count as failed."""
    samples = {name: Samples() for name in urls}
    names = list(urls)
    async with AsyncExitStack() as stack:
        # a client (connection pool) per target: httpcore scans every pooled connection on
        # each request, so one shared pool would make each path pay for the other's
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=LOAD_LIMITS)
            )
            for name in names
        }
        tasks: dict[asyncio.Task[None], Samples | None] = {}
        begin = time.perf_counter()
        total = int(rate_per_s * (warmup_s + seconds))
        for index in range(total):
            at_s = index / rate_per_s
            delay = begin + at_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            name = names[int(at_s / round_s) % len(names)]
            counted = samples[name] if at_s >= warmup_s else None
            post = _timed_post(clients[name], urls[name], counted)
            tasks[asyncio.create_task(post)] = counted
        _, late = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 1)
        for task in late:
            task.cancel()
            if (counted := tasks[task]) is not None:
                counted.late += 1
    return samples


async def closed_loop(url: str, seconds: float, concurrency: int) -> float:
    """Requests/s completed by `concurrency` callers each sending as soon as the last returned."""
    done = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:

        async def caller() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                try:
                    response = await client.post(url, json=BODY, headers=HEADERS)
                except httpx.HTTPError:
                    continue
                done += response.status_code == 200

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(caller() for _ in range(concurrency))), seconds + REQUEST_TIMEOUT_S
        )
    return done / (time.perf_counter() - started)


def in_process_cpu_ms(requests: int = 1000) -> dict[str, float]:
    """CPU ms per request, direct vs through the gateway, both as in-process ASGI apps (no
    sockets, SQLite store with a budget and rate limits, rows discarded): the guard's own
    cost, far less disturbed by other load on the machine than wall-clock latency."""
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

    async def run(app: Any, count: int) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://x", headers=HEADERS
        ) as client:
            for _ in range(count):
                await client.post("/v1/chat/completions", json=BODY)

    figures: dict[str, float] = {}
    for name, app in (("direct", upstream), ("gateway", gateway)):
        asyncio.run(run(app, 50))
        start_s = time.process_time()
        asyncio.run(run(app, requests))
        figures[name] = (time.process_time() - start_s) * 1000 / requests
    figures["added"] = figures["gateway"] - figures["direct"]
    guard.close()
    return figures


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def gateway_app() -> Any:
    """The gateway for `$COSTRAIL_CONFIG`, as `costrail gateway` builds it (a uvicorn factory
    that also works with a copy of an older revision of the package, via `--src`)."""
    from costrail.guard.gateway import create_app
    from costrail.guard.runtime import Guard

    return create_app(Guard.from_config(None, source="gateway"))


def start_servers(
    stack: ExitStack, work: Path, profile: Path | None, src: Path, recorder: str | None
) -> tuple[str, str, subprocess.Popen[bytes]]:
    upstream_port, gateway_port = free_port(), free_port()
    config = work / "costrail.yaml"
    config.write_text(
        CONFIG.format(
            upstream_port=upstream_port,
            store=work / "guard.sqlite",
            warehouse=work / "wh.duckdb",
            recorder=f"  recorder_process: {recorder == 'process'}\n" if recorder else "",
        )
    )
    env = {"PYTHONPATH": f"{src}:{ROOT}", "COSTRAIL_CONFIG": str(config)}
    common = ["--log-level", "warning", "--host", "127.0.0.1", "--factory"]
    upstream_app = "tests.guard.upstream:create_upstream"
    upstream = serve(
        [sys.executable, *UVICORN, *common, upstream_app, "--port", str(upstream_port)],
        upstream_port,
        env,
    )
    stack.callback(stop, upstream)
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    gateway_app = "bench.gateway:gateway_app"
    gateway = serve(
        [sys.executable, *profiler, *UVICORN, *common, gateway_app, "--port", str(gateway_port)],
        gateway_port,
        env,
    )
    stack.callback(stop, gateway)
    base = "http://127.0.0.1:{}/v1/chat/completions"
    return base.format(upstream_port), base.format(gateway_port), gateway


def open_loop_run(
    urls: dict[str, str], rate: float, options: argparse.Namespace, gateway_pid: int
) -> dict[str, Any]:
    """One open-loop run at `rate`: latency figures of both paths and the gateway's CPU."""
    cpu_before_s = cpu_seconds(gateway_pid)
    samples = asyncio.run(open_loop(urls, rate, options.seconds, options.warmup, options.round))
    gateway_requests = max(1, int(rate * (options.warmup + options.seconds) / len(urls)))
    direct, guarded = samples["direct"].summary(), samples["gateway"].summary()
    return {
        "rate_per_s": rate,
        "direct_ms": direct,
        "gateway_ms": guarded,
        "added_ms": {k: guarded[k] - direct[k] for k in ("p50", "p90", "p99", "mean")},
        # CPU the gateway process spent per request (guard, proxying, recording rows)
        "gateway_cpu_ms_per_request": (cpu_seconds(gateway_pid) - cpu_before_s)
        * 1000
        / gateway_requests,
        "load_average_after": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured open-loop time")
    parser.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=[200.0, 50.0],
        help="open-loop requests/s; several: one open-loop run each (a lower rate shows the "
        "overhead when a shared machine cannot keep up with the first)",
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="uncounted seconds first")
    parser.add_argument("--round", type=float, default=1.0, help="seconds per target switch")
    parser.add_argument("--max-seconds", type=float, default=5.0, help="closed-loop time")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop callers")
    parser.add_argument("--profile", type=Path, help="run the gateway under cProfile to FILE")
    parser.add_argument("--note", default="", help="free text stored with the results")
    parser.add_argument(
        "--recorder",
        choices=["process", "thread"],
        help="where the gateway writes rows (default: the gateway's default, a process)",
    )
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT / "src",
        help="the `src` folder to run (e.g. a copy of an older revision, to compare)",
    )
    options = parser.parse_args()
    sys.path[:0] = [str(options.src), str(ROOT)]
    load_at_start = os.getloadavg()
    started = datetime.now(UTC)
    cpu_in_process = in_process_cpu_ms()
    work = Path(tempfile.mkdtemp(prefix="costrail-bench-"))
    with ExitStack() as stack:
        direct_url, gateway_url, gateway = start_servers(
            stack, work, options.profile, options.src, options.recorder
        )
        urls = {"direct": direct_url, "gateway": gateway_url}
        runs = []
        for rate in sorted(options.rate):  # lowest first: an overloaded run leaves a backlog
            runs.append(open_loop_run(urls, rate, options, gateway.pid))
            time.sleep(PAUSE_S)
        max_rps = {}
        for name, url in urls.items():
            max_rps[name] = asyncio.run(closed_loop(url, options.max_seconds, options.concurrency))
            time.sleep(PAUSE_S)
    result = {
        "date": started.isoformat(timespec="seconds"),
        "machine": (
            f"{os.cpu_count()} CPUs, shared with other engineers' work while measured "
            "(see load averages)"
        ),
        "note": options.note,
        "command": " ".join(["bench/gateway.py", *sys.argv[1:]]),
        "src": str(options.src),
        "recorder": options.recorder or "default",
        "servers": "uvicorn --loop asyncio --http h11 (uvloop and httptools not installed)",
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "seconds": options.seconds,
        "warmup_s": options.warmup,
        "round_s": options.round,
        "target": "added p50 < 2 ms at 200 requests/s",
        "open_loop": runs,
        "max_rps_closed_loop": max_rps,
        "closed_loop_concurrency": options.concurrency,
        "in_process_cpu_ms_per_request": cpu_in_process,
        "litellm": LITELLM_NOTE,
    }
    out = ROOT / "bench" / "results" / f"gateway-{started:%Y-%m-%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
