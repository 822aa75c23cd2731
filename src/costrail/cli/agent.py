"""`costrail agent`: sample NVIDIA GPUs with NVML into `gpu_samples` segments and /metrics."""

from __future__ import annotations

import logging
import re
import socket
import sys
from pathlib import Path

import typer

from costrail.cli.output import console, error_console, handled_errors, print_json
from costrail.errors import ConfigError
from costrail.gpu.agent.cgroups import CgroupResolver, PodDirectory
from costrail.gpu.agent.metrics import parse_listen
from costrail.gpu.agent.nvml import NvmlUnavailable, open_nvml_reader
from costrail.gpu.agent.run import Agent, AgentOptions
from costrail.gpu.agent.segments import Rotation

_UNITS_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DEFAULT_OUT = Path(".costrail/gpu-samples")


def parse_duration_s(text: str, option: str) -> float:
    """`500ms`, `1s`, `15m`, `1h`, or bare seconds → seconds."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{option} {text!r} is not a positive duration like 500ms, 1s or 15m")
    return float(match.group(1)) * _UNITS_S[match.group(2) or "s"]


def _options(
    interval: str,
    out: Path | None,
    rotate: str,
    rotate_rows: int | None,
    serve: str | None,
    host: str | None,
    node: str | None,
    once: bool,
    duration_s: float | None,
    process_names: bool,
) -> AgentOptions:
    if serve is not None:
        try:
            parse_listen(serve)
        except ValueError as error:
            raise ConfigError(str(error)) from error
    if rotate_rows is not None and rotate_rows <= 0:
        raise ConfigError("--rotate-rows must be a positive number of rows")
    if out is None and serve is None and not once:
        out = DEFAULT_OUT
    host_name = host or socket.gethostname()
    return AgentOptions(
        host=host_name,
        node=node or host_name,
        interval_s=parse_duration_s(interval, "--interval"),
        out_dir=out,
        rotation=Rotation(
            every_s=None if rotate_rows is not None else parse_duration_s(rotate, "--rotate"),
            max_rows=rotate_rows,
        ),
        serve_address=serve,
        duration_s=duration_s,
        once=once,
        process_names=process_names,
    )


def agent_command(
    interval: str = typer.Option("1s", "--interval", help="Sampling interval: 500ms, 1s, 10s."),
    out: Path | None = typer.Option(
        None, "--out", help=f"Folder for Parquet segments (default {DEFAULT_OUT} unless --serve)."
    ),
    rotate: str = typer.Option("15m", "--rotate", help="Close a segment after this long."),
    rotate_rows: int | None = typer.Option(
        None, "--rotate-rows", help="Close a segment after N rows instead of by time."
    ),
    serve: str | None = typer.Option(
        None, "--serve", help="Serve Prometheus metrics on [HOST]:PORT, e.g. :9400."
    ),
    host: str | None = typer.Option(None, "--host", help="Host name written in every row."),
    node: str | None = typer.Option(
        None, "--node", envvar="NODE_NAME", help="Kubernetes node name (default: the host)."
    ),
    once: bool = typer.Option(False, "--once", help="Take one sample, print it, and stop."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after S seconds."),
    process_names: bool = typer.Option(
        False, "--process-names", help="Also expose process names (comm) on /metrics."
    ),
    proc_root: Path = typer.Option(
        Path("/proc"), "--proc-root", help="Where the host's /proc is mounted (in a pod)."
    ),
    kubelet_logs: Path = typer.Option(
        Path("/var/log"), "--kubelet-logs", help="Host /var/log, to name pods and containers."
    ),
    as_json: bool = typer.Option(False, "--json", help="With --once: print rows as JSON."),
) -> None:
    """Sample every NVIDIA GPU with NVML; write gpu_samples segments and/or serve /metrics.

    Exits 2 when there is no NVIDIA driver or GPU on this host.
    """
    logging.basicConfig(level=logging.WARNING, format="costrail agent: %(message)s")
    with handled_errors():
        options = _options(
            interval, out, rotate, rotate_rows, serve, host, node, once, duration, process_names
        )
        try:
            reader = open_nvml_reader()
        except NvmlUnavailable as error:
            # one unwrapped line, so log collectors and CI see the whole reason
            sys.stderr.write(f"costrail agent: {error}\n")
            raise typer.Exit(code=error.exit_code) from error
        resolver = CgroupResolver(proc_root, PodDirectory(kubelet_logs))
        agent = Agent(reader, options, resolver)
        agent.install_signal_handlers()
        stats = agent.run()
    if once:
        rows = stats.last_rows
        if as_json:
            print_json(rows)
        else:
            for row in rows:
                console.print(row)
    error_console.print(
        f"costrail agent: {stats.ticks} ticks, {stats.rows} rows, "
        f"{stats.read_failures} GPU read errors, {len(stats.segments)} segments written",
        highlight=False,
    )
