"""`costrail forecast`: month-end or quarter-end spend per scope with 80 % / 95 % intervals,
and `--backtest` errors of every model."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

import typer
from rich.table import Table

from costrail.cli.output import console, handled_errors, money, print_json
from costrail.errors import ConfigError
from costrail.timeseries import (
    DEFAULT_MODEL,
    MODELS,
    BacktestScore,
    PeriodProjection,
    backtest,
    month_bounds,
    project_period,
    quarter_bounds,
    scope_series,
)
from costrail.warehouse import connect


def forecast_command(
    by: str = typer.Option("", "--by", help="Comma-separated columns or tag:KEY (scopes)."),
    where: str | None = typer.Option(None, "--where", help='e.g. "x_Provider=aws and tag:team=ml"'),
    period: str = typer.Option("month", "--period", help="month or quarter."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Last day counted as actual (YYYY-MM-DD); default: newest data."
    ),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help=f"One of {', '.join(MODELS)}."),
    metric: str = typer.Option("EffectiveCost", "--metric", help="Cost column to project."),
    run_backtest: bool = typer.Option(
        False, "--backtest", help="Rolling-origin errors (MAPE, sMAPE, MASE, coverage) per model."
    ),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse URL."),
    as_json: bool = typer.Option(False, "--json", help="Print only JSON."),
) -> None:
    """Projected spend at the end of the month (or quarter) for every scope."""
    with handled_errors():
        if model not in MODELS:
            raise ConfigError(f"unknown --model {model!r}; choose from {', '.join(MODELS)}")
        names = [part.strip() for part in by.split(",") if part.strip()]
        series = scope_series(connect(warehouse).costs(), by=names, where=where, metric=metric)
        if series.empty:
            raise ConfigError("no costs match: ingest bills first, or loosen --where")
        if run_backtest:
            scores = backtest(series)
            if as_json:
                print_json([asdict(score) for score in scores])
            else:
                console.print(_backtest_table(scores))
            return
        day = parse_day(as_of, "--as-of") or series["ds"].max().date()
        start, end = _bounds(period, day)
        if (end - day).days == 1:  # the period is complete: project the next one
            start, end = _bounds(period, end)
        projections = project_period(series, start, end, as_of=day, model=model)
    projections.sort(key=lambda p: p.expected_total_usd, reverse=True)
    if as_json:
        print_json([asdict(projection) for projection in projections])
        return
    console.print(_projection_table(projections, period))


def parse_day(text: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value, or a ConfigError naming the option."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as error:
        raise ConfigError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from error


def _bounds(period: str, day: date) -> tuple[date, date]:
    if period == "month":
        return month_bounds(day)
    if period == "quarter":
        return quarter_bounds(day)
    raise ConfigError(f"unknown --period {period!r}; choose month or quarter")


def _projection_table(projections: list[PeriodProjection], period: str) -> Table:
    first = projections[0] if projections else None
    title = f"{period}-end projection" + (
        f" {first.period_start} → {first.period_end} (as of {first.as_of}, {first.model})"
        if first
        else ""
    )
    table = Table(title=title, title_justify="left")
    for column in ("scope", "actual to date", "expected", "80 % range", "95 % range"):
        table.add_column(column, justify="left" if column == "scope" else "right")
    for p in projections:
        table.add_row(
            p.scope,
            money(p.actual_to_date_usd),
            money(p.expected_total_usd),
            f"{money(p.lo80_usd)} – {money(p.hi80_usd)}",
            f"{money(p.lo95_usd)} – {money(p.hi95_usd)}",
        )
    return table


def _backtest_table(scores: list[BacktestScore]) -> Table:
    table = Table(title="rolling-origin backtest (daily points)", title_justify="left")
    columns = ("model", "origins", "points", "MAPE %", "sMAPE %", "MASE", "80 % cov", "95 % cov")
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    for s in scores:
        table.add_row(
            s.model,
            str(s.origins),
            f"{s.points:,}",
            f"{s.mape_pct:.1f}",
            f"{s.smape_pct:.1f}",
            f"{s.mase:.3f}",
            f"{s.coverage80_pct:.1f}",
            f"{s.coverage95_pct:.1f}",
        )
    return table
