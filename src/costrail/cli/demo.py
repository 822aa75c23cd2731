"""`costrail demo`: generate Acme AI in native export formats, ingest it, show where money goes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import ibis
import ibis.expr.types as ir
import typer
from rich.table import Table

from costrail.cli.ingest import print_report
from costrail.cli.output import console, handled_errors, money, print_json
from costrail.cli.report import findings_table, write_report
from costrail.report import report_for
from costrail.report.model import team_expression
from costrail.schema.costs import MONEY
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest

PROVIDER_DIRECTORIES = ("aws", "gcp", "azure")
#: non-billing folders, loaded by the ingest route that claims each file (LLM spans, …)
ROUTED_DIRECTORIES = ("llm", "telemetry")


def demo_command(
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the files (default .costrail/demo)."
    ),
    rows: int | None = typer.Option(
        None, "--rows", help="Scale the AWS CUR to about this many rows."
    ),
    seed: int = typer.Option(7, "--seed", help="Same seed, same company, byte for byte."),
    clean: bool = typer.Option(
        False, "--clean", help="The same company with every planted waste removed."
    ),
    no_ingest: bool = typer.Option(False, "--no-ingest", help="Only write the files."),
    warehouse: str | None = typer.Option(
        None,
        "--warehouse",
        "-w",
        help="Warehouse URL (default DIR/warehouse.duckdb, or .costrail/demo.duckdb).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON summary."),
) -> None:
    """Generate the Acme AI demo company and show where its money goes."""
    from costrail.demo import generate

    directory = out or Path(".costrail/demo")
    with handled_errors():
        if not as_json:
            console.print(
                f"generating Acme AI (seed {seed}{', clean' if clean else ''}) in {directory} …"
            )
        generate(directory, rows=rows, seed=seed, clean=clean)
        truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
        if no_ingest:
            if as_json:
                print_json({"out": str(directory), "truth": truth})
            else:
                console.print(f"wrote {directory} (not ingested)")
            return
        url = warehouse or (str(directory / "warehouse.duckdb") if out else ".costrail/demo.duckdb")
        store = connect(url)
        paths = [directory / name for name in PROVIDER_DIRECTORIES if (directory / name).exists()]
        if as_json:
            report = ingest(store, paths)
        else:
            with console.status("ingesting the native exports …"):
                report = ingest(store, paths)
            print_report(report)
        ingest_routed(store, [directory / name for name in ROUTED_DIRECTORIES], quiet=as_json)
        summary = summarise(store)
        cost_report = report_for(store)
        report_path = directory / "report.html"
        write_report(cost_report, report_path, None)
    if as_json:
        print_json(
            {
                "out": str(directory),
                "warehouse": url,
                "summary": summary,
                "report": str(report_path),
                "top_findings": [finding.to_dict() for finding in cost_report.top_findings],
            }
        )
        return
    _print_summary(summary, truth)
    console.print(findings_table(cost_report.top_findings, title="Top findings"))
    console.print(
        f"savings potential {money(cost_report.monthly_savings_usd)} USD/month across "
        f"{len(cost_report.findings)} findings · report written to {report_path}",
        highlight=False,
    )


def ingest_routed(store: Warehouse, folders: list[Path], quiet: bool) -> None:
    """Load the demo's non-billing files through the routes `costrail ingest` uses."""
    from costrail.sources.routes import routes, split_paths

    split = split_paths([folder for folder in folders if folder.exists()])
    for name, files in split.routed.items():
        result = routes.get(name).load(store, files, None)
        if not quiet:
            for line in result.lines():
                console.print(f"[green]{name}:[/] {line}", highlight=False)


def summarise(store: Warehouse) -> dict[str, list[dict[str, object]]]:
    """Spend by provider, service category, team and month (BilledCost and EffectiveCost)."""
    costs = store.costs()
    dimensions: dict[str, ir.Value] = {
        "provider": costs.x_Provider,
        "service_category": costs.ServiceCategory,
        "team": team_expression(costs),
        "month": costs.BillingPeriodStart.strftime("%Y-%m"),
    }
    summary: dict[str, list[dict[str, object]]] = {}
    for name, expression in dimensions.items():
        grouped = costs.group_by(**{name: expression}).aggregate(
            billed_cost=costs.BilledCost.sum().cast(MONEY),
            effective_cost=costs.EffectiveCost.sum().cast(MONEY),
        )
        order = [name] if name == "month" else [ibis.desc("billed_cost"), name]
        records = grouped.order_by(order).to_pyarrow().to_pylist()
        summary[name] = [
            {
                **record,
                "billed_cost": Decimal(record["billed_cost"] or 0),
                "effective_cost": Decimal(record["effective_cost"] or 0),
            }
            for record in records
        ]
    _add_month_over_month(summary["month"])
    return summary


def _add_month_over_month(months: list[dict[str, object]]) -> None:
    previous: Decimal | None = None
    for record in months:
        current = record["billed_cost"]
        assert isinstance(current, Decimal)
        record["change_pct"] = (
            None if previous in (None, Decimal(0)) else (current - previous) / previous * 100  # type: ignore[operator]
        )
        previous = current


def _print_summary(summary: dict[str, list[dict[str, object]]], truth: dict[str, object]) -> None:
    titles = {
        "provider": "Spend by provider",
        "service_category": "Spend by service category",
        "team": "Spend by team (tags team / Team / owner-team)",
        "month": "Spend by month",
    }
    for name, records in summary.items():
        table = Table(title=titles[name], title_justify="left")
        table.add_column(name.replace("_", " "))
        table.add_column("billed USD", justify="right")
        table.add_column("effective USD", justify="right")
        if name == "month":
            table.add_column("vs previous month", justify="right")
        for record in records:
            cells = [
                str(record[name] or "(none)"),
                money(record["billed_cost"]),  # type: ignore[arg-type]
                money(record["effective_cost"]),  # type: ignore[arg-type]
            ]
            if name == "month":
                change = record["change_pct"]
                cells.append("—" if change is None else f"{change:+.1f} %")
            table.add_row(*cells)
        console.print(table)
    _print_truth_check(summary, truth)


def _print_truth_check(
    summary: dict[str, list[dict[str, object]]], truth: dict[str, object]
) -> None:
    totals = truth.get("totals", {})
    billed = totals.get("billed_cost", {}) if isinstance(totals, dict) else {}
    expected = billed.get("by_provider", {}) if isinstance(billed, dict) else {}
    loaded = {str(r["provider"]): r["billed_cost"] for r in summary["provider"]}
    mismatches = [
        provider
        for provider, amount in expected.items()
        if abs(Decimal(str(amount)) - Decimal(str(loaded.get(provider, 0)))) >= Decimal("0.01")
    ]
    if mismatches:
        console.print(f"[red]loaded totals differ from truth.json for {', '.join(mismatches)}[/]")
    else:
        console.print("[green]loaded totals equal truth.json to the cent for every provider[/]")
    planted = truth.get("planted", [])
    if isinstance(planted, list) and planted:
        console.print(
            f"{len(planted)} planted wastes/anomalies are listed in truth.json "
            "for the findings to catch."
        )
