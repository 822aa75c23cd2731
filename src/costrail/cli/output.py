"""Shared CLI output: Rich tables for people, plain JSON for machines, errors without tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from costrail.config import ConfigError
from costrail.errors import CostrailError

console = Console()
error_console = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Money stays exact: Decimals become strings; dates become ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2) + "\n")


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def usd_option(text: str | None, option: str) -> Decimal | None:
    """A dollar amount given on the command line (exact), or None when the option is absent."""
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ConfigError(f"{option} {text!r} is not an amount in USD (e.g. 100 or 99.50)")
    return value


def records_table(title: str, records: list[dict[str, object]], money_columns: set[str]) -> Table:
    table = Table(title=title, title_justify="left")
    if not records:
        table.add_column("no rows")
        return table
    for column in records[0]:
        table.add_column(column, justify="right" if column in money_columns | {"rows"} else "left")
    for record in records:
        table.add_row(
            *[
                money(value)
                if key in money_columns and isinstance(value, Decimal)
                else f"{value:,}"
                if isinstance(value, int)
                else "(none)"
                if value is None
                else str(value)
                for key, value in record.items()
            ]
        )
    return table


@contextmanager
def handled_errors() -> Iterator[None]:
    """Turn costrail's typed errors into a one-line message and the error's exit code."""
    try:
        yield
    except CostrailError as error:
        error_console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=error.exit_code) from error
