"""`costrail ingest`: load billing exports into the warehouse, reconciled to the cent."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from costrail.cli.output import console, handled_errors, print_json
from costrail.sources import readers
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
    """Load billing exports. A billing period loaded again replaces the earlier load."""
    with handled_errors():
        store = connect(warehouse)
        report = _run(store, paths, format_name, quiet=as_json)
    if as_json:
        print_json(report_json(report))
        return
    print_report(report)


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
