"""Small FOCUS 1.2 CostAndUsage files built in the test, in the real column names and formats."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: Three rows with every FOCUS 1.2 mandatory column: two GPU usage hours and a sales tax.
#: Empty text is a null (FOCUS CSV), and the Tax row leaves the pricing columns null as FOCUS
#: requires.
MANDATORY_ROWS: dict[str, list[str]] = {
    "BilledCost": ["4.00", "4.00", "0.80"],
    "BillingAccountId": ["acct-1", "acct-1", "acct-1"],
    "BillingAccountName": ["Acme AI", "Acme AI", "Acme AI"],
    "BillingCurrency": ["USD", "USD", "USD"],
    "BillingPeriodEnd": ["2024-10-01T00:00:00Z"] * 3,
    "BillingPeriodStart": ["2024-09-01T00:00:00Z"] * 3,
    "ChargeCategory": ["Usage", "Usage", "Tax"],
    "ChargeClass": ["", "", ""],
    "ChargeDescription": ["H100 GPU hour", "H100 GPU hour", "Sales tax"],
    "ChargePeriodEnd": ["2024-09-01T01:00:00Z", "2024-09-01T02:00:00Z", "2024-10-01T00:00:00Z"],
    "ChargePeriodStart": ["2024-09-01T00:00:00Z", "2024-09-01T01:00:00Z", "2024-09-01T00:00:00Z"],
    "ContractedCost": ["4.00", "4.00", "0.80"],
    "EffectiveCost": ["4.00", "4.00", "0.80"],
    "InvoiceIssuerName": ["Acme Cloud"] * 3,
    "ListCost": ["4.00", "4.00", "0.80"],
    "PricingCategory": ["Standard", "Standard", ""],
    "PricingQuantity": ["1", "1", ""],
    "PricingUnit": ["Hours", "Hours", ""],
    "ProviderName": ["Acme Cloud"] * 3,
    "PublisherName": ["Acme Cloud"] * 3,
    "ServiceCategory": ["Compute", "Compute", "Other"],
    "ServiceName": ["GPU Instances", "GPU Instances", "Tax"],
}


def focus_rows(**changes: list[str] | None) -> dict[str, list[str]]:
    """MANDATORY_ROWS with columns replaced, added, or (given None) removed."""
    rows = {name: list(values) for name, values in MANDATORY_ROWS.items()}
    for name, values in changes.items():
        if values is None:
            rows.pop(name)
        else:
            rows[name] = values
    return rows


def write_csv(path: Path, columns: dict[str, list[str]]) -> Path:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for index in range(len(next(iter(columns.values())))):
            writer.writerow([columns[name][index] for name in names])
    return path


def write_parquet(path: Path, arrays: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(arrays), path)
    return path
