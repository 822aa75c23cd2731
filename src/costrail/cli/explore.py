"""`costrail explore`: group-by over the FOCUS costs table."""

from __future__ import annotations

from datetime import date, datetime

import typer

from costrail.cli.output import console, handled_errors, print_json, records_table
from costrail.errors import ConfigError
from costrail.explore import ExploreQuery, explore
from costrail.warehouse import connect


def explore_command(
    by: str = typer.Option("", "--by", help="Comma-separated columns, tag:KEY, month or day."),
    metric: str = typer.Option(
        "BilledCost", "--metric", help="BilledCost, EffectiveCost, ListCost or ContractedCost."
    ),
    where: str | None = typer.Option(None, "--where", help='e.g. "x_Provider=aws and tag:team=ml"'),
    since: str | None = typer.Option(
        None, "--since", help="First charge day (YYYY-MM-DD), inclusive."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Last charge day (YYYY-MM-DD), exclusive."
    ),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse URL."),
    as_json: bool = typer.Option(False, "--json", help="Print only JSON: one object per group."),
) -> None:
    """Spend grouped by any FOCUS / x_ column or tag, exact to the cent."""
    with handled_errors():
        query = ExploreQuery(
            by=tuple(part.strip() for part in by.split(",") if part.strip()),
            metric=metric,
            where=where,
            since=_day(since, "--since"),
            until=_day(until, "--until"),
        )
        records = explore(connect(warehouse).costs(), query)
    if as_json:
        print_json(records)
        return
    console.print(records_table(f"{metric} by {by or 'total'}", records, {metric}))


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as error:
        raise ConfigError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from error
