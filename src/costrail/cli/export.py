"""`costrail export focus`: write the warehouse's costs as a FOCUS 1.2 file."""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir
import typer

from costrail.cli.output import console, handled_errors, money, print_json
from costrail.explore import parse_where
from costrail.warehouse import connect

export_app = typer.Typer(no_args_is_help=True, help="Export the warehouse in standard formats.")


@export_app.command("focus")
def export_focus_command(
    out: Path = typer.Option(..., "--out", "-o", help="FILE.parquet or FILE.csv"),
    where: str | None = typer.Option(None, "--where", help="Same filter syntax as explore."),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse URL."),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON summary."),
) -> None:
    """Write FOCUS 1.2 CostAndUsage (all FOCUS columns, then costrail's x_ columns)."""
    from costrail.export import export_focus

    with handled_errors():
        store = connect(warehouse)

        def _filter(costs: ir.Table) -> ir.BooleanValue:
            predicates = parse_where(costs, where or "")
            combined = predicates[0]
            for predicate in predicates[1:]:
                combined = combined & predicate
            return combined

        result = export_focus(store, out, where=_filter if where else None)
    if as_json:
        print_json(
            {
                "path": str(result.path),
                "format": result.file_format,
                "rows": result.rows,
                "billed_cost": result.billed_cost_total,
                "effective_cost": result.effective_cost_total,
            }
        )
        return
    console.print(
        f"wrote {result.rows:,} rows to {result.path} (FOCUS 1.2 {result.file_format}); "
        f"BilledCost {money(result.billed_cost_total)}, "
        f"EffectiveCost {money(result.effective_cost_total)}",
        highlight=False,
    )
