"""Small FOCUS 1.2 CSV exports (real column layout) of daily spend, for watch and budget tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ProviderName,BillingCurrency,ServiceName,"
    "SubAccountId,RegionId,Tags\n"
)


def _month_bounds(day: date) -> tuple[str, str]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start.isoformat()}T00:00:00Z", f"{end.isoformat()}T00:00:00Z"


def day_rows(
    day: date, cost_usd: Decimal, service: str = "Amazon SageMaker", team: str = "ml"
) -> str:
    period_start, period_end = _month_bounds(day)
    charge_start = f"{day.isoformat()}T00:00:00Z"
    charge_end = f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"
    tags = '"{""team"": ""' + team + '""}"'
    return (
        f"111122223333,{period_start},{period_end},{charge_start},{charge_end},Usage,"
        f"{cost_usd},{cost_usd},AWS,USD,{service},444455556666,us-east-1,{tags}\n"
    )


def write_month(directory: Path, first: date, spend_usd: list[Decimal]) -> Path:
    """The month-to-date export `directory/<YYYY-MM>/focus.csv`, rewritten in place the way
    billing exports are: one row per day from `first`, with that day's spend."""
    folder = directory / first.strftime("%Y-%m")
    folder.mkdir(parents=True, exist_ok=True)
    rows = [day_rows(first + timedelta(days=i), cost) for i, cost in enumerate(spend_usd)]
    path = folder / "focus.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def write_days(directory: Path, first: date, days: int, cost_usd: Decimal) -> list[Path]:
    """One file per day, `directory/<YYYY-MM>/focus-<YYYY-MM-DD>.csv` (a month's days together)."""
    written: list[Path] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        folder = directory / day.strftime("%Y-%m")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"focus-{day.isoformat()}.csv"
        path.write_text(HEADER + day_rows(day, cost_usd), encoding="utf-8")
        written.append(path)
    return written
