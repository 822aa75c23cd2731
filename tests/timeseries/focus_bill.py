"""A small FOCUS 1.2 CSV bill over eight weeks: a web server with a weekday/weekend pattern, a
database, a bucket in a second account, and optionally a GPU burst — for anomaly, root cause
and forecast tests through the real FOCUS reader."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest

COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ProviderName",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "RegionId",
    "ResourceId",
    "Tags",
]
FIRST_DAY = date(2026, 9, 1)
DAYS = 56  # 2026-09-01 … 2026-10-26
GPU_DAYS = (date(2026, 10, 20), date(2026, 10, 21))
GPU_INSTANCES = ("i-gpu-1", "i-gpu-2", "i-gpu-3")
GPU_USD_PER_DAY = 200


@dataclass(frozen=True)
class Line:
    usd: int
    service_category: str
    service: str
    account: str
    region: str
    resource: str
    tags: dict[str, str]


def _lines(day: date, with_burst: bool) -> list[Line]:
    weekend = day.weekday() >= 5
    lines = [
        Line(40 if weekend else 100, "Compute", "Amazon EC2", "111", "us-east-1", "i-web",
             {"team": "web"}),
        Line(50, "Databases", "Amazon RDS", "111", "us-east-1", "db-main", {"team": "web"}),
        Line(20, "Storage", "Amazon S3", "222", "us-east-1", "bucket-logs", {"team": "data"}),
    ]  # fmt: skip
    if with_burst and day in GPU_DAYS:
        lines += [
            Line(GPU_USD_PER_DAY, "Compute", "Amazon EC2", "222", "us-west-2", name,
                 {"team": "research"})
            for name in GPU_INSTANCES
        ]  # fmt: skip
    return lines


def _period(day: date) -> tuple[str, str]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start}T00:00:00Z", f"{end}T00:00:00Z"


def write_bill(path: Path, with_burst: bool, days: int = DAYS) -> Path:
    """One row per line and day, as a FOCUS CSV export writes it."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for offset in range(days):
            day = FIRST_DAY + timedelta(days=offset)
            for line in _lines(day, with_burst):
                usd = str(line.usd)
                charge = [f"{day}T00:00:00Z", f"{day + timedelta(days=1)}T00:00:00Z"]
                writer.writerow(
                    [usd, usd, "999", "USD", *_period(day), *charge, "Usage", "AWS",
                     line.service_category, line.service, line.account, line.region,
                     line.resource, json.dumps(line.tags)]
                )  # fmt: skip
    return path


def bill_warehouse(directory: Path, with_burst: bool, days: int = DAYS) -> Warehouse:
    """The bill loaded into a fresh DuckDB warehouse through the FOCUS reader."""
    directory.mkdir(parents=True, exist_ok=True)
    warehouse = connect(str(directory / "w.duckdb"))
    ingest(warehouse, [write_bill(directory / "focus.csv", with_burst, days)])
    return warehouse
