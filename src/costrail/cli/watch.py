"""`costrail watch`: ingest new exports, analyse, check budgets and anomalies, alert, act."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import typer

from costrail.cli.output import console, handled_errors
from costrail.config import ConfigError, load_config
from costrail.policy.engine import load_policy
from costrail.warehouse import connect
from costrail.watch.cycle import CycleReport, StopFlag, run_cycle, watch_loop
from costrail.watch.settings import WatchSection

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """`90s`, `15m`, `1h`, `1d` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"--every {text!r}: use a number and a unit, e.g. 90s, 15m, 1h, 1d")
    return float(match.group(1)) * _UNITS_S[match.group(2)]


def watch_command(
    every: str | None = typer.Option(None, "--every", help="Cycle interval (default 1h)."),
    once: bool = typer.Option(False, "--once", help="Run one cycle and exit (for cron)."),
    source: list[Path] | None = typer.Option(
        None, "--source", "-s", help="Directory or file with exports (repeatable)."
    ),
    apply: bool = typer.Option(
        False, "--apply", help="Execute actions whose config says `apply: true` (else dry-run)."
    ),
    config_path: Path | None = typer.Option(None, "--config", "-c", help="costrail.yaml to read."),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse URL."),
) -> None:
    """Watch spend continuously. Exit 0 after --once or on SIGINT/SIGTERM; 2 on bad config."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with handled_errors():
        config = load_config(config_path)
        policy = load_policy(config)
        settings = config.section("watch", WatchSection)
        sources = list(source or settings.sources)
        if not sources:
            raise ConfigError("nothing to watch: pass --source DIR or set watch.sources")
        every_s = parse_every(every or settings.every)
        store = connect(warehouse or config.warehouse)
    stop = StopFlag()
    stop.install()
    watch_loop(
        lambda: run_cycle(store, policy, sources, apply=apply, analyses=settings.analyses),
        every_s,
        once=once,
        stop=stop,
        on_report=print_cycle,
    )


def print_cycle(report: CycleReport) -> None:
    ingest = report.ingest
    console.print(
        f"ingested {len(ingest.ingested)} file(s), {len(ingest.failed)} failed, "
        f"{ingest.unchanged} unchanged",
        highlight=False,
    )
    for path, why in ingest.failed.items():
        console.print(f"  [yellow]skipped[/] {path}: {why}", highlight=False)
    for status in report.statuses:
        console.print(
            f"budget {status.budget.name}: {status.actual_pct} % of "
            f"${status.budget.amount:,.2f} ({status.period_label})",
            highlight=False,
        )
    delivery = report.delivery
    console.print(
        f"alerts: {len(delivery.sent)} sent, {len(delivery.skipped)} already sent, "
        f"{len(delivery.failed)} failed",
        highlight=False,
    )
    for record in report.actions:
        console.print(
            f"action {record.action} [{record.mode}] {record.call} "
            f"{json.dumps(record.parameters, sort_keys=True)} → "
            f"{record.outcome} {record.detail}",
            highlight=False,
            markup=False,
        )
    for stage, why in report.errors.items():
        console.print(f"  [red]{stage} failed[/]: {why}", highlight=False)
