"""Independent readers of the demo's files, used to check the truth against what was written.

They parse every amount as an exact decimal (Parquet DOUBLEs through their shortest repr, JSON
numbers and CSV cells as text), never summing floats.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyarrow.parquet as pq


def cur2_files(root: Path) -> list[Path]:
    return sorted((root / "aws" / "acme-cur2" / "data").rglob("*.parquet"))


def aws_billed_by_period(root: Path) -> dict[str, Decimal]:
    """Sum of line_item_net_unblended_cost per BILLING_PERIOD partition."""
    totals: dict[str, Decimal] = {}
    for path in cur2_files(root):
        period = path.parent.name.removeprefix("BILLING_PERIOD=")
        values = pq.read_table(path, columns=["line_item_net_unblended_cost"]).column(0).to_pylist()
        totals[period] = sum((Decimal(repr(v)) for v in values), Decimal(0))
    return totals


@cache
def gcp_rows(root: Path) -> tuple[dict[str, object], ...]:
    """Every row of the GCP export under `root` (parsed once per root: the files are large)."""
    rows = []
    for path in sorted((root / "gcp" / "billing_export").rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows.extend(json.loads(line, parse_float=Decimal) for line in handle if line.strip())
    return tuple(rows)


def gcp_billed_by_month(root: Path) -> dict[str, Decimal]:
    """cost + credits per invoice.month, as the invoice shows it."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in gcp_rows(root):
        month = str(row["invoice"]["month"])  # type: ignore[index]
        credits = sum((Decimal(c["amount"]) for c in row["credits"]), Decimal(0))  # type: ignore[attr-defined]
        totals[f"{month[:4]}-{month[4:]}"] += Decimal(row["cost"]) + credits  # type: ignore[arg-type]
    return dict(totals)


def azure_files(root: Path) -> list[Path]:
    return sorted((root / "azure").rglob("*.csv"))


def azure_rows(root: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in azure_files(root):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def azure_billed_by_period(root: Path) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in azure_rows(root):
        month, _, year = row["BillingPeriodStartDate"].split("/")
        totals[f"{year}-{month}"] += Decimal(row["CostInBillingCurrency"])
    return dict(totals)
