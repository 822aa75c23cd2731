"""`costrail gateway`: serve the LLM guard as an OpenAI-compatible HTTP gateway (uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer

from costrail.cli.output import console, handled_errors


def gateway_command(
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="costrail.yaml with a `guard` section (default: ./costrail.yaml)",
    ),
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(4000, help="TCP port"),
    log_level: str = typer.Option("warning", help="uvicorn log level"),
) -> None:
    """Run the gateway: budgets, rate limits, streaming usage capture and one row per call."""
    import uvicorn

    from costrail.guard.gateway import create_app
    from costrail.guard.runtime import Guard

    with handled_errors():
        guard = Guard.from_config(config, source="gateway")
    settings = guard.settings
    console.print(
        f"costrail gateway on http://{host}:{port} — {len(settings.upstreams)} upstream(s), "
        f"{len(settings.budgets)} budget(s), store: {settings.store.kind}"
    )
    uvicorn.run(create_app(guard), host=host, port=port, log_level=log_level)
