"""Entry point of the `costrail` command."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="costrail: where every dollar of your AI bill goes.")


def main() -> None:
    app()
