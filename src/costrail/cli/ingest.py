"""`costrail ingest`: load billing exports (reconciled to the cent) and, through the routes of
`sources.routes`, GPU telemetry and LLM request logs into the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from costrail.cli.output import console, handled_errors, print_json
from costrail.errors import ConfigError
from costrail.sources import readers
from costrail.sources.routes import RouteReport, routes, split_paths
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import IngestReport, ingest


def ingest_command(
    paths: list[Path] = typer.Argument(..., help="Files, directories or export manifests."),
    warehouse: str | None = typer.Option(
        None,
        "--warehouse",
        "-w",
        help="Warehouse URL (default: $COSTRAIL_WAREHOUSE or .costrail/warehouse.duckdb).",
    ),
    format_name: str | None = typer.Option(
        None, "--format", "-f", help=f"Skip detection: one of {', '.join(readers.names())}."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON report."),
    url: str | None = typer.Option(
        None, "--url", help="`ingest prometheus` only: Prometheus base URL (http://host:9090)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="`ingest prometheus` only: window to pull, e.g. 7d (default), 6h."
    ),
    step: str | None = typer.Option(
        None, "--step", help="`ingest prometheus` only: resolution, e.g. 60s (default)."
    ),
    selector: str | None = typer.Option(
        None, "--selector", help='`ingest prometheus` only: label matchers, {namespace="ml"}.'
    ),
    host_map: Path | None = typer.Option(
        None, "--host-map", help="`ingest prometheus` only: CSV of host,instance_id rows."
    ),
) -> None:
    """Load billing exports, GPU telemetry and LLM request logs (detected from content).

    A billing period loaded again replaces the earlier load; telemetry and request logs loaded
    again replace what the same hosts / requests wrote before. `costrail ingest prometheus
    --url URL --since 7d` pulls dcgm-exporter counters from a Prometheus server instead.
    """
    pull = PullOptions(url, since, step, selector, host_map)
    with handled_errors():
        if pull.requested(paths):
            _pull_prometheus(paths, pull, warehouse, as_json)
            return
        pull.reject_options()
        store = connect(warehouse)
        split = split_paths(paths) if format_name is None else None
        billing_paths = paths if split is None else split.billing
        report = _run(store, billing_paths, format_name, quiet=as_json) if billing_paths else None
        routed: dict[str, RouteReport] = {}
        for name, files in ({} if split is None else split.routed).items():
            routed[name] = routes.get(name).load(store, files, None)
    if report is not None and split is not None:
        claimed = split.routed_files()
        report.skipped_files = [p for p in report.skipped_files if p.resolve() not in claimed]
    if as_json:
        payload: dict[str, object] = report_json(report) if report is not None else {}
        if routed:
            payload["routes"] = {name: result.to_json() for name, result in routed.items()}
        print_json(payload)
        return
    if report is not None:
        print_report(report)
    for name, result in routed.items():
        for line in result.lines():
            console.print(f"[green]{name}:[/] {line}", highlight=False)


def _run(store: Warehouse, paths: list[Path], format_name: str | None, quiet: bool) -> IngestReport:
    if quiet:
        return ingest(store, paths, format_name)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("discovering files", total=None)
        return ingest(
            store, paths, format_name, progress=lambda step: progress.update(task, description=step)
        )


def print_report(report: IngestReport) -> None:
    for line in report.warnings.lines():
        console.print(f"[yellow]warning:[/] {line}", highlight=False)
    for skipped in report.skipped_files:
        console.print(f"[yellow]skipped (format not recognised):[/] {skipped}", highlight=False)
    for partition in report.partitions:
        console.print(partition.line(), highlight=False)
    formats = ", ".join(f"{name} ({count} files)" for name, count in report.formats.items())
    console.print(
        f"[green]loaded[/] {report.rows:,} source rows in {len(report.partitions)} billing "
        f"period(s) from {formats} — ingest {report.ingest_id}",
        highlight=False,
    )


def report_json(report: IngestReport) -> dict[str, object]:
    return {
        "ingest_id": report.ingest_id,
        "formats": report.formats,
        "rows": report.rows,
        "partitions": [
            {
                "provider": p.provider,
                "billing_account_id": p.billing_account_id,
                "billing_period_start": p.billing_period_start,
                "source_rows": p.source_rows,
                "loaded_rows": p.loaded_rows,
                "source_total": p.source_total,
                "loaded_total": p.loaded_total,
                "currency": p.currency,
                "reconciled": p.reconciled,
            }
            for p in report.partitions
        ],
        "warnings": [{"message": m, "rows": c} for m, c in report.warnings.counts.items()],
        "skipped_files": [str(path) for path in report.skipped_files],
    }


@dataclass(frozen=True)
class PullOptions:
    """The options of `costrail ingest prometheus`; refused with file paths."""

    url: str | None
    since: str | None
    step: str | None
    selector: str | None
    host_map: Path | None

    def requested(self, paths: list[Path]) -> bool:
        """`prometheus` as first argument, unless it names a local path and no --url is given."""
        if not paths or paths[0] != Path("prometheus"):
            return False
        return self.url is not None or not paths[0].exists()

    def reject_options(self) -> None:
        given = [
            option
            for option, value in (
                ("--url", self.url),
                ("--since", self.since),
                ("--step", self.step),
                ("--selector", self.selector),
                ("--host-map", self.host_map),
            )
            if value is not None
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} only apply to `costrail ingest prometheus --url URL`"
            )


def _pull_prometheus(
    paths: list[Path], pull: PullOptions, warehouse: str | None, quiet: bool
) -> None:
    from costrail.telemetry import load_prometheus, read_host_map
    from costrail.telemetry.prometheus_api import parse_duration_s

    if len(paths) > 1:
        raise ConfigError("`costrail ingest prometheus` takes no file paths")
    if pull.url is None:
        raise ConfigError("`costrail ingest prometheus` needs --url, e.g. http://localhost:9090")
    since_s = parse_duration_s(pull.since or "7d", "--since")
    step_s = parse_duration_s(pull.step or "60s", "--step")
    mapping = read_host_map(pull.host_map) if pull.host_map is not None else None
    store = connect(warehouse)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task("querying Prometheus", total=None)
        report = load_prometheus(
            store,
            pull.url,
            since_s=since_s,
            step_s=step_s,
            selector=pull.selector,
            host_map=mapping,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if quiet:
        print_json({"routes": {"prometheus": report.to_json()}})
        return
    if not report.rows:
        console.print(f"[yellow]warning:[/] no DCGM samples at {pull.url} in the window")
    for line in report.lines():
        console.print(f"[green]prometheus:[/] {line}", highlight=False)
