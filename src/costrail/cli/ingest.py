"""`costrail ingest`: load billing exports (reconciled to the cent) and, through the routes of
`sources.routes`, GPU telemetry and LLM request logs into the warehouse."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from costrail.cli.output import console, handled_errors, print_json
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
) -> None:
    """Load billing exports, GPU telemetry and LLM request logs (detected from content).

    A billing period loaded again replaces the earlier load; telemetry and request logs loaded
    again replace what the same hosts / requests wrote before.
    """
    with handled_errors():
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
