"""`costrail anomalies`: cost anomalies with root causes on the warehouse, or scores for any
`timestamp,value` CSV series (`--series`, for evaluation on labelled data)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from costrail.cli.forecast import parse_day
from costrail.cli.output import console, handled_errors, money, print_json, usd_option
from costrail.errors import ConfigError
from costrail.timeseries import Anomaly, AnomalyReport, AnomalySettings, detect_anomalies
from costrail.timeseries.anomaly import score_series
from costrail.timeseries.files import read_series_csv
from costrail.warehouse import connect

#: exit code of --fail-on-anomaly when anomalies were found (errors use 1–6)
ANOMALY_EXIT_CODE = 10


def anomalies_command(
    files: list[Path] = typer.Argument(None, help="With --series: timestamp,value CSV files."),
    series_mode: bool = typer.Option(
        False, "--series", help="Score the given CSV files instead of the warehouse."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only anomalies still active on or after this day (YYYY-MM-DD)."
    ),
    by: str = typer.Option(
        "", "--by", help="Scope dimensions (columns or tag:KEY, comma-separated)."
    ),
    where: str | None = typer.Option(None, "--where", help='e.g. "x_Provider=aws"'),
    min_impact: str | None = typer.Option(
        None, "--min-impact", help="Minimum dollar impact (default 100; --series: none)."
    ),
    min_change: float = typer.Option(0.2, "--min-change", help="Minimum relative change."),
    min_score: float = typer.Option(4.0, "--min-score", help="Minimum seasonal score."),
    detector: str = typer.Option("seasonal", "--detector", help="seasonal or trailing7."),
    both_directions: bool = typer.Option(
        False, "--both-directions", help="Flag drops as well as rises (default with --series)."
    ),
    fail_on_anomaly: bool = typer.Option(
        False, "--fail-on-anomaly", help=f"Exit {ANOMALY_EXIT_CODE} when anything is flagged."
    ),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse URL."),
    as_json: bool = typer.Option(False, "--json", help="Print only JSON."),
) -> None:
    """Days whose spend is anomalous for their scope, with what caused them."""
    with handled_errors():
        impact = usd_option(min_impact, "--min-impact")
        if series_mode or files:
            if not files:
                raise ConfigError("--series needs one or more timestamp,value CSV files")
            settings = AnomalySettings(
                min_impact_usd=impact if impact is not None else Decimal("-Infinity"),
                min_relative_change=min_change,
                min_score=min_score,
                detector=detector,
                direction="both",
            )
            results = [_score_file(path, settings) for path in files]
            flagged = sum(result["flagged_points"] for result in results)
            if as_json:
                print_json({"settings": _settings_json(settings), "series": results})
            else:
                console.print(_series_table(results))
        else:
            settings = AnomalySettings(
                min_impact_usd=impact if impact is not None else Decimal(100),
                min_relative_change=min_change,
                min_score=min_score,
                detector=detector,
                direction="both" if both_directions else "up",
            )
            names = [part.strip() for part in by.split(",") if part.strip()]
            report = detect_anomalies(
                connect(warehouse).costs(),
                settings,
                by=names or None,
                where=where,
                since=parse_day(since, "--since"),
            )
            flagged = len(report.anomalies)
            if as_json:
                print_json(report_json(report))
            else:
                _print_report(report)
    if fail_on_anomaly and flagged:
        raise typer.Exit(code=ANOMALY_EXIT_CODE)


def _settings_json(settings: AnomalySettings) -> dict[str, Any]:
    return {
        "detector": settings.detector,
        "min_impact": None if settings.min_impact_usd.is_infinite() else settings.min_impact_usd,
        "min_relative_change": settings.min_relative_change,
        "min_score": settings.min_score if settings.detector == "seasonal" else None,
        "min_history_days": settings.min_history_days,
        "direction": settings.direction,
        "novelty_days": settings.novelty_days,
    }


def _score_file(path: Path, settings: AnomalySettings) -> dict[str, Any]:
    scored = score_series(read_series_csv(path), settings)
    points = [
        {
            "timestamp": stamp.isoformat(),
            "value": value,
            "expected": None if expected != expected else round(float(expected), 6),
            "score": None if score != score else round(float(score), 4),
            "flagged": bool(flag),
        }
        for stamp, value, expected, score, flag in zip(
            scored["ds"],
            scored["y"],
            scored["expected"],
            scored["score"],
            scored["flagged"],
            strict=True,
        )
    ]
    return {
        "file": str(path),
        "points": len(points),
        "scored_points": sum(point["score"] is not None for point in points),
        "flagged_points": sum(point["flagged"] for point in points),
        "timestamps": points,
    }


def anomaly_json(anomaly: Anomaly) -> dict[str, Any]:
    """One anomaly as JSON-able values (money stays a Decimal for `print_json`)."""
    return {
        "scope": anomaly.scope,
        "first_seen": anomaly.first_seen,
        "ds": anomaly.ds,
        "days": anomaly.days,
        "actual_usd": anomaly.actual_usd,
        "expected_usd": anomaly.expected_usd,
        "impact_usd": anomaly.impact_usd,
        "relative_change": anomaly.relative_change,
        "score": anomaly.score,
        "detector": anomaly.detector,
        "also_in": list(anomaly.also_in),
        "root_causes": [c.as_json() for c in anomaly.root_causes],
    }


def report_json(report: AnomalyReport) -> dict[str, Any]:
    return {
        "settings": _settings_json(report.settings),
        "series_scored": report.series_scored,
        "series_waiting": report.series_waiting,
        "anomalies": [anomaly_json(anomaly) for anomaly in report.anomalies],
    }


def _print_report(report: AnomalyReport) -> None:
    """One block per anomaly, so scopes, days and root causes stay whole in 80 columns."""
    console.print(
        f"[bold]cost anomalies[/] ({report.settings.detector}; "
        f"{report.series_scored} series scored)",
        highlight=False,
    )
    if not report.anomalies:
        console.print("[green]no anomalies[/]")
    for number, a in enumerate(report.anomalies, start=1):
        days = str(a.first_seen) if a.first_seen == a.ds else f"{a.first_seen} → {a.ds}"
        console.print(f"\n[bold]{number}. {days}[/]  {a.scope}", highlight=False)
        console.print(
            f"   actual {money(a.actual_usd)} vs expected {money(a.expected_usd)} USD: "
            f"+{money(a.impact_usd)} (+{a.relative_change:.0%}), score {a.score:.1f}",
            highlight=False,
        )
        for cause in a.root_causes[:3]:
            console.print(
                f"   cause: {cause.dimension}={cause.value} (+{money(cause.impact_usd)}, "
                f"{cause.share:.0%} of the impact)",
                highlight=False,
            )
    for scope, why in sorted(report.series_waiting.items()):
        console.print(f"[yellow]waiting:[/] {scope}: {why}")


def _series_table(results: list[dict[str, Any]]) -> Table:
    table = Table(title="series scores", title_justify="left")
    for column in ("file", "points", "scored", "flagged", "flagged timestamps"):
        table.add_column(column)
    for result in results:
        stamps = [p["timestamp"] for p in result["timestamps"] if p["flagged"]]
        shown = ", ".join(stamps[:5]) + (" …" if len(stamps) > 5 else "")
        table.add_row(
            result["file"],
            str(result["points"]),
            str(result["scored_points"]),
            str(result["flagged_points"]),
            shown or "—",
        )
    return table
