"""Benchmark: CPU % and peak RSS of `costrail agent` itself while it samples.

    python bench/agent_overhead.py --seconds 60   # the real agent at 1 Hz (GPU + driver)
    python bench/agent_overhead.py --baseline     # CPU-only: recorded readings, 1 and 10 Hz

Each run is a child process; its CPU time comes from `os.wait4` (getrusage of the child) and,
for the steady state without Python start-up, from `/proc/<pid>/stat` ticks read after a
warm-up. Peak RSS is the child's `ru_maxrss`. The baseline replays recorded readings (no NVML
calls) so it measures our loop, cgroup lookups and segment writing only — not the driver.
Without an NVIDIA driver the real mode prints "no NVIDIA driver: nothing measured", exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
RECORDED = REPO / "tests" / "gpu" / "agent" / "data" / "readings-2xh100.json"
COSTRAIL = str(Path(sys.executable).parent / "costrail")
WARMUP_S = 10.0
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")

_BASELINE_CHILD = """
import sys
from pathlib import Path
from costrail.gpu.agent.recorded import RecordedReader
from costrail.gpu.agent.run import Agent, AgentOptions
reader = RecordedReader.from_file(Path(sys.argv[1]))
options = AgentOptions(host="bench", node="bench", interval_s=float(sys.argv[2]),
                       out_dir=Path(sys.argv[4]), duration_s=float(sys.argv[3]))
agent = Agent(reader, options)
print("ready", flush=True)
stats = agent.run()
print(stats.ticks, stats.rows, flush=True)
"""


def _proc_cpu_s(pid: int) -> float | None:
    """utime + stime of a live process from /proc/<pid>/stat (fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def measure(command: list[str], run_s: float, ready_line: bool) -> dict[str, Any]:
    """Run one child to completion; total and steady-state CPU %, peak RSS.

    The steady state starts when the child prints "ready" (imports done) or, for the real
    CLI which prints nothing, after WARMUP_S seconds; it ends a second before the run is due to
    finish, so the last segment write and interpreter shutdown are only in the total.
    """
    started_s = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ready_line and child.stdout is not None:
        child.stdout.readline()
    else:
        time.sleep(min(WARMUP_S, run_s / 4))
    # the real CLI prints no "ready"; its run ends run_s after it started, imports included
    steady_end_s = (time.monotonic() if ready_line else started_s) + run_s - 1.0
    warm_cpu_s, warm_at_s = _proc_cpu_s(child.pid), time.monotonic()
    end_cpu_s, end_at_s = warm_cpu_s, warm_at_s
    while True:
        # wait4 (not Popen.poll, which would reap the child and lose its rusage)
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        latest = _proc_cpu_s(child.pid)
        if latest is not None and time.monotonic() < steady_end_s:
            end_cpu_s, end_at_s = latest, time.monotonic()
        if time.monotonic() - started_s > run_s + 15:
            child.terminate()
        time.sleep(0.2)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall_s = time.monotonic() - started_s
    stdout = child.stdout.read() if child.stdout else ""
    stderr = child.stderr.read() if child.stderr else ""
    total_cpu_s = usage.ru_utime + usage.ru_stime
    steady_pct = None
    if warm_cpu_s is not None and end_cpu_s is not None and end_at_s > warm_at_s:
        steady_pct = round((end_cpu_s - warm_cpu_s) / (end_at_s - warm_at_s) * 100, 3)
    return {
        "exit_code": child.returncode,
        "wall_s": round(wall_s, 2),
        "cpu_s_total": round(total_cpu_s, 3),
        "cpu_pct_total_incl_startup": round(total_cpu_s / wall_s * 100, 3),
        "cpu_pct_steady_state": steady_pct,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "stdout_tail": stdout[-400:],
        "stderr_tail": stderr[-400:],
    }


def run_real(seconds: float, out_dir: Path) -> dict[str, Any] | None:
    once = subprocess.run(
        [COSTRAIL, "agent", "--once", "--json"], capture_output=True, text=True, check=False
    )
    if once.returncode == 2:
        print("no NVIDIA driver: nothing measured", file=sys.stderr)
        print(f"  (agent said: {once.stderr.strip()})", file=sys.stderr)
        return None
    command = [COSTRAIL, "agent", "--interval", "1s", "--duration", str(seconds)]
    result = measure([*command, "--out", str(out_dir)], seconds, ready_line=False)
    result["sample_rows"] = json.loads(once.stdout) if once.returncode == 0 else once.stderr
    return {"mode": "nvml-1hz", "rate_hz": 1, "duration_s": seconds, **result}


def run_baseline(seconds: float, out_dir: Path) -> list[dict[str, Any]]:
    runs = []
    for rate_hz in (1, 10):
        print(f"  baseline {rate_hz} Hz for {seconds:.0f} s …", flush=True)
        target = out_dir / f"{rate_hz}hz"
        command = [sys.executable, "-c", _BASELINE_CHILD, str(RECORDED), str(1 / rate_hz)]
        result = measure([*command, str(seconds), str(target)], seconds, ready_line=True)
        runs.append(
            {
                "mode": "cpu-only-baseline (recorded readings, no NVML calls)",
                "rate_hz": rate_hz,
                "duration_s": seconds,
                **result,
            }
        )
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each run samples")
    parser.add_argument("--baseline", action="store_true", help="CPU-only baseline, no GPU")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.baseline:
            runs = run_baseline(args.seconds, Path(scratch))
        else:
            real = run_real(args.seconds, Path(scratch))
            if real is None:
                return 2
            runs = [real]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    kind = "baseline" if args.baseline else "nvml"
    payload = {
        "benchmark": "agent_overhead",
        "kind": kind,
        "when": stamp,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": "shared machine: other engineers' jobs ran on the same cores",
        },
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"agent_overhead-{kind}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    for run in runs:
        print(
            f"{run['mode']} @ {run['rate_hz']} Hz: steady {run['cpu_pct_steady_state']} % CPU, "
            f"total {run['cpu_pct_total_incl_startup']} % incl. start-up, "
            f"peak RSS {run['peak_rss_mib']} MiB (exit {run['exit_code']})"
        )
    print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
