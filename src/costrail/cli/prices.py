"""`costrail prices`: show a model's token prices, and install a newer LLM price map."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import fields
from pathlib import Path

import typer
from rich.table import Table

from costrail.cli.output import console, handled_errors, print_json
from costrail.config import load_config
from costrail.pricing.llm import LlmPrices, installed_snapshot_path, parse_price_map

prices_app = typer.Typer(
    no_args_is_help=True, help="LLM token prices: show a model's prices, update the price map."
)


@prices_app.command("show")
def show_command(
    model: str = typer.Argument(..., help="Model name as your logs spell it (e.g. gpt-4o)."),
    provider: str | None = typer.Option(
        None, "--provider", "-p", help="Provider (openai, anthropic, aws.bedrock, …)."
    ),
    config_path: Path | None = typer.Option(None, "--config", help="costrail.yaml to use."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (USD per token)."),
) -> None:
    """Show the prices costrail uses for MODEL (after aliases and costrail.yaml overrides).

    Exits 3 when the model has no price.
    """
    with handled_errors():
        prices = LlmPrices.load(config=load_config(config_path))
        price = prices.lookup(provider, model)
    values = {item.name: getattr(price, item.name) for item in fields(price)}
    if as_json:
        print_json(values)
        return
    table = Table(title=f"{price.model} ({price.provider}) — {price.source}", title_justify="left")
    table.add_column("price")
    table.add_column("USD per 1M tokens", justify="right")
    for name, value in values.items():
        if name.endswith("_usd_per_token") and value is not None:
            label = name.removesuffix("_usd_per_token").replace("_", " ")
            table.add_row(label, f"{value * 1_000_000:,.4f}")
    if price.long_context_threshold_tokens is not None:
        table.caption = (
            f"long-context prices apply above {price.long_context_threshold_tokens:,} input tokens"
        )
    console.print(table)


@prices_app.command("update")
def update_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A LiteLLM model_prices_and_context_window.json."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Validate FILE and install it as the price map every later command uses.

    Installed to $COSTRAIL_DATA_DIR/llm_prices.json (default ~/.local/share/costrail/);
    a file that is not the price-map shape is rejected (exit 3) naming the entry and field,
    and the installed map is left unchanged.
    """
    with handled_errors():
        text = file.read_text(encoding="utf-8")
        entries = parse_price_map(text, file=file)
        target = installed_snapshot_path()
        _install(target, text)
        meta = {
            "source_name": file.name,
            "installed": dt.datetime.now(dt.UTC).date().isoformat(),
            "entries": len(entries),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
        _install(target.with_suffix(".meta.json"), json.dumps(meta, indent=2) + "\n")
    summary = {"installed": str(target), **meta}
    if as_json:
        print_json(summary)
        return
    console.print(f"installed {len(entries):,} price entries from {file} to {target}")


def _install(target: Path, text: str) -> None:
    """Write atomically (temp file + rename): a crash never leaves half a price map."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
