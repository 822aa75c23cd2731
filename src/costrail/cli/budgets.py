"""`costrail budgets check`: spend, forecast and crossed thresholds per budget; CI exit codes.

Exit codes: 0 no budget breached; 1 at least one budget's actual spend reached 100 %;
3 none breached yet but at least one is forecast to reach 100 % by period end; 2 bad config.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from costrail.cli.output import console, handled_errors, money, print_json
from costrail.config import ConfigError, load_config
from costrail.policy.budgets import BudgetStatus, evaluate, newest_charge_day
from costrail.policy.engine import load_policy
from costrail.warehouse import connect

EXIT_OK = 0
EXIT_BREACHED = 1
EXIT_FORECAST_BREACH = 3

budgets_app = typer.Typer(no_args_is_help=True, help="Budgets from costrail.yaml.")

CONFIG_HELP = "costrail.yaml to read (default: $COSTRAIL_CONFIG or ./costrail.yaml)."
WAREHOUSE_HELP = (
    "Warehouse URL (default: the config's `warehouse`, $COSTRAIL_WAREHOUSE, "
    "or .costrail/warehouse.duckdb)."
)


def exit_code_for(statuses: list[BudgetStatus]) -> int:
    if any(status.breached for status in statuses):
        return EXIT_BREACHED
    if any(status.forecast_breached for status in statuses):
        return EXIT_FORECAST_BREACH
    return EXIT_OK


@budgets_app.command("check")
def check_command(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Evaluate as of this day (YYYY-MM-DD; default: newest charge day)."
    ),
    config_path: Path | None = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help=WAREHOUSE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print only JSON."),
) -> None:
    """Actual and forecast spend per budget. Exit 1: breached; 3: forecast to breach; 0: fine."""
    with handled_errors():
        config = load_config(config_path)
        policy = load_policy(config)
        if not policy.budgets:
            raise ConfigError("no budgets defined: add a `budgets:` list to costrail.yaml")
        store = connect(warehouse or config.warehouse)
        costs = store.costs()
        day = _parse_day(as_of) if as_of else newest_charge_day(costs)
        if day is None:
            raise ConfigError("the warehouse holds no costs yet: run `costrail ingest` first")
        statuses = [evaluate(costs, budget, day) for budget in policy.budgets]
    code = exit_code_for(statuses)
    if as_json:
        print_json({"as_of": day, "exit_code": code, "budgets": [s.to_dict() for s in statuses]})
    else:
        print_statuses(statuses, day)
    raise typer.Exit(code=code)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def print_statuses(statuses: list[BudgetStatus], day: date) -> None:
    """One block per budget (readable in 80 columns); the day each threshold was crossed is in
    the --json output."""
    console.print(f"[bold]Budgets as of {day.isoformat()}[/]", highlight=False)
    for status in statuses:
        console.print(
            f"\n[bold]{status.budget.name}[/]  {status.period_start.isoformat()} → "
            f"{status.period_end.isoformat()}",
            highlight=False,
        )
        console.print(
            f"   actual   {money(status.actual_usd)} of {money(status.budget.amount)} USD "
            f"({status.actual_pct} %)",
            highlight=False,
        )
        console.print(f"   forecast {_forecast_text(status)}", highlight=False)
        console.print(f"   crossed  {_crossed_text(status)}", highlight=False)


def _forecast_text(status: BudgetStatus) -> str:
    if status.forecast is None:
        return status.forecast_note or "—"
    forecast = status.forecast
    return (
        f"{money(forecast.expected_usd)} USD ({status.forecast_pct} %), 95 % range "
        f"{money(forecast.lo95_usd)}–{money(forecast.hi95_usd)}"
    )


def _crossed_text(status: BudgetStatus) -> str:
    lines = []
    if status.crossed_actual:
        lines.append(" ".join(str(pct) for pct in status.crossed_actual) + " %")
    if status.crossed_forecast:
        lines.append("forecast " + " ".join(str(pct) for pct in status.crossed_forecast) + " %")
    return "; ".join(lines) or "none"
