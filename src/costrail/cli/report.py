"""`costrail report` and `costrail findings`: the executive report and the list of findings."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from costrail.cli.output import console, handled_errors, usd_option
from costrail.config import load_config
from costrail.findings import Finding
from costrail.report import Report, render_html, render_json, render_markdown, report_for
from costrail.report.text import usd
from costrail.warehouse import Warehouse, connect

if TYPE_CHECKING:
    from costrail.analyses.base import Thresholds

WAREHOUSE_HELP = "Warehouse URL (default: $COSTRAIL_WAREHOUSE or .costrail/warehouse.duckdb)."
CONFIG_HELP = "costrail.yaml to read (default: $COSTRAIL_CONFIG or ./costrail.yaml)."
GPU_MODEL_HELP = (
    "GPU model of telemetry hosts whose labels name none, for catalog pricing "
    "(spec id such as H100-SXM, or a name such as 'NVIDIA L4'); overrides gpu.default_model."
)
GPU_PRICE_HELP = (
    "USD per GPU-hour for telemetry hosts no bill covers (replaces the catalog price); "
    "overrides gpu.default_usd_per_gpu_hour."
)


def report_command(
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help=WAREHOUSE_HELP),
    html_path: Path | None = typer.Option(
        None, "--html", help="Write the self-contained HTML report (charts work offline) here."
    ),
    md_path: Path | None = typer.Option(None, "--md", help="Write the Markdown report here."),
    as_json: bool = typer.Option(False, "--json", help="Print only the report as JSON."),
    config_path: Path | None = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    gpu_model: str | None = typer.Option(None, "--gpu-model", help=GPU_MODEL_HELP),
    gpu_price: str | None = typer.Option(None, "--gpu-price", help=GPU_PRICE_HELP),
) -> None:
    """Spend, trend, allocation, unit costs and every finding with its evidence and fix."""
    with handled_errors():
        store, thresholds = _warehouse_and_thresholds(warehouse, config_path, gpu_model, gpu_price)
        report = report_for(store, thresholds)
        written = write_report(report, html_path, md_path)
    if as_json:
        sys.stdout.write(render_json(report))
        return
    print_executive_summary(report)
    for path in written:
        console.print(f"wrote {path}")


def findings_command(
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help=WAREHOUSE_HELP),
    kind: list[str] | None = typer.Option(
        None, "--kind", "-k", help="Only findings of this kind (repeat for several)."
    ),
    min_savings: str | None = typer.Option(
        None, "--min-savings", help="Only findings saving at least this many USD per month."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON list of findings."),
    config_path: Path | None = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    gpu_model: str | None = typer.Option(None, "--gpu-model", help=GPU_MODEL_HELP),
    gpu_price: str | None = typer.Option(None, "--gpu-price", help=GPU_PRICE_HELP),
) -> None:
    """Findings, biggest monthly saving first; a resource's saving is counted once."""
    with handled_errors():
        minimum = usd_option(min_savings, "--min-savings")
        store, thresholds = _warehouse_and_thresholds(warehouse, config_path, gpu_model, gpu_price)
        report = report_for(store, thresholds)
        selected = select_findings(report.findings, kinds=kind or (), min_savings_usd=minimum)
    if as_json:
        sys.stdout.write(json.dumps([f.to_dict() for f in selected], indent=2) + "\n")
        return
    console.print(findings_table(selected))


def _warehouse_and_thresholds(
    warehouse: str | None, config_path: Path | None, gpu_model: str | None, gpu_price: str | None
) -> tuple[Warehouse, Thresholds]:
    """The warehouse (flag, else the config's `warehouse`) and thresholds with the config's
    `gpu:` section and the GPU flags applied."""
    from costrail.analyses.gpu_settings import gpu_thresholds

    config = load_config(config_path)
    price = usd_option(gpu_price, "--gpu-price")
    thresholds = gpu_thresholds(config, gpu_model, price)
    return connect(warehouse or config.warehouse), thresholds


def write_report(report: Report, html_path: Path | None, md_path: Path | None) -> list[Path]:
    """Write the HTML and/or Markdown report; returns the paths written."""
    written: list[Path] = []
    for path, render in ((html_path, render_html), (md_path, render_markdown)):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(report), encoding="utf-8")
        written.append(path)
    return written


def select_findings(
    findings: Sequence[Finding], kinds: Sequence[str] = (), min_savings_usd: Decimal | None = None
) -> list[Finding]:
    """Findings of the given kinds (all when none given) saving at least `min_savings_usd`."""
    return [
        finding
        for finding in findings
        if (not kinds or finding.kind in kinds)
        and (min_savings_usd is None or finding.monthly_savings_usd >= min_savings_usd)
    ]


def findings_table(findings: Sequence[Finding], title: str = "Findings") -> Table:
    table = Table(title=f"{title} ({len(findings)})", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("saves / month", justify="right", no_wrap=True)
    table.add_column("kind · provider · confidence", max_width=26, overflow="fold")
    table.add_column("finding", ratio=1)
    for index, finding in enumerate(findings, start=1):
        table.add_row(
            str(index),
            usd(finding.monthly_savings_usd),
            f"{finding.kind}\n{finding.provider} · {finding.confidence}",
            finding.title,
        )
    return table


def print_executive_summary(report: Report) -> None:
    latest = report.latest_month
    console.print(f"[bold]Total billed[/] {usd(report.total.billed_cost_usd)}", highlight=False)
    if latest is not None:
        change = "—" if latest.change_pct is None else f"{latest.change_pct:+.1f} %"
        console.print(
            f"[bold]Latest month[/] {latest.month}: {usd(latest.billed_cost_usd)} "
            f"({change} vs the month before)",
            highlight=False,
        )
    console.print(
        f"[bold]Savings potential[/] {usd(report.monthly_savings_usd)} per month "
        f"across {len(report.findings)} findings",
        highlight=False,
    )
    console.print(findings_table(report.top_findings, title="Top findings"))
