"""Entry point of the `costrail` command: one verb per job."""

from __future__ import annotations

import typer

from costrail.cli.agent import agent_command
from costrail.cli.anomalies import anomalies_command
from costrail.cli.budgets import budgets_app
from costrail.cli.demo import demo_command
from costrail.cli.explore import explore_command
from costrail.cli.export import export_app
from costrail.cli.forecast import forecast_command
from costrail.cli.gateway import gateway_command
from costrail.cli.ingest import ingest_command
from costrail.cli.init import init_command
from costrail.cli.plan import plan_command
from costrail.cli.prices import prices_app
from costrail.cli.report import findings_command, report_command
from costrail.cli.watch import watch_command

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="costrail: where every dollar of your AI cloud bill goes — exact, FOCUS-normalised.",
)
app.command("ingest")(ingest_command)
app.command("explore")(explore_command)
app.command("demo")(demo_command)
app.command("plan")(plan_command)
app.command("report")(report_command)
app.command("findings")(findings_command)
app.command("forecast")(forecast_command)
app.command("anomalies")(anomalies_command)
app.command("agent")(agent_command)
app.add_typer(export_app, name="export")
app.add_typer(budgets_app, name="budgets")
app.add_typer(prices_app, name="prices")
app.command("watch")(watch_command)
app.command("init")(init_command)
app.command("gateway")(gateway_command)


def main() -> None:
    app()
