"""Entry point of the `costrail` command: one verb per job."""

from __future__ import annotations

import typer

from costrail.cli.demo import demo_command
from costrail.cli.explore import explore_command
from costrail.cli.export import export_app
from costrail.cli.ingest import ingest_command
from costrail.cli.plan import plan_command
from costrail.cli.report import findings_command, report_command

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
app.add_typer(export_app, name="export")


def main() -> None:
    app()
