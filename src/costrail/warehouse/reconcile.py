"""Compare the source's own totals with what was staged, per load key, to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import MONEY

TOLERANCE_USD = Decimal("0.01")


@dataclass(frozen=True)
class PartitionTotal:
    """One (provider, billing account, billing period) of one load, source vs loaded."""

    provider: str
    billing_account_id: str | None
    billing_period_start: datetime
    currency: str | None
    source_rows: int
    loaded_rows: int
    source_total: Decimal
    loaded_total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.loaded_total - self.source_total

    @property
    def reconciled(self) -> bool:
        return abs(self.difference) < TOLERANCE_USD and self.source_rows == self.loaded_rows

    def line(self) -> str:
        mark = "reconciled" if self.reconciled else "MISMATCH"
        period = self.billing_period_start.strftime("%Y-%m")
        currency = self.currency or ""
        return (
            f"{self.provider} {self.billing_account_id} {period}: {self.loaded_rows:,} rows, "
            f"source {self.source_total:,.2f} {currency} = loaded {self.loaded_total:,.2f} "
            f"{currency} — {mark}"
            if self.reconciled
            else f"{self.provider} {self.billing_account_id} {period}: source "
            f"{self.source_total:,.2f} ({self.source_rows:,} rows) vs loaded "
            f"{self.loaded_total:,.2f} ({self.loaded_rows:,} rows) — {mark}"
        )


def partition_totals(source_totals: ir.Table, staged: ir.Table) -> list[PartitionTotal]:
    """Join source totals (from the native rows) with loaded totals (from the staged FOCUS rows)."""
    keys = ["x_Provider", "BillingAccountId", "BillingPeriodStart"]
    # Several FOCUS rows may come from one source row (GCP credits): count distinct origins by
    # grouping on (key, file, row) first, which avoids building a string per row.
    per_source_row = staged.group_by([*keys, "x_SourceFile", "x_SourceRow"]).aggregate(
        billed=staged.BilledCost.sum(), currency=staged.BillingCurrency.max()
    )
    loaded = per_source_row.group_by(keys).aggregate(
        loaded_rows=per_source_row.count(),
        loaded_total=per_source_row.billed.sum().cast(MONEY),
        currency=per_source_row.currency.max(),
    )
    source = source_totals.group_by(keys).aggregate(
        source_rows=source_totals.source_rows.sum(),
        source_total=source_totals.source_total.sum(),
    )
    joined = source.outer_join(
        loaded,
        [source[key].identical_to(loaded[key]) for key in keys],
    )
    rows = (
        joined.select(
            provider=ibis.coalesce(joined.x_Provider, joined.x_Provider_right),
            billing_account_id=ibis.coalesce(
                joined.BillingAccountId, joined.BillingAccountId_right
            ),
            billing_period_start=ibis.coalesce(
                joined.BillingPeriodStart, joined.BillingPeriodStart_right
            ),
            currency=joined.currency,
            source_rows=joined.source_rows.fill_null(0),
            loaded_rows=joined.loaded_rows.fill_null(0),
            source_total=joined.source_total,
            loaded_total=joined.loaded_total,
        )
        .to_pyarrow()
        .to_pylist()
    )
    return [
        PartitionTotal(
            provider=str(row["provider"]),
            billing_account_id=row["billing_account_id"],
            billing_period_start=row["billing_period_start"],
            currency=row["currency"],
            source_rows=int(row["source_rows"]),
            loaded_rows=int(row["loaded_rows"]),
            source_total=Decimal(row["source_total"] or 0),
            loaded_total=Decimal(row["loaded_total"] or 0),
        )
        for row in sorted(rows, key=_sort_key)
    ]


def _sort_key(row: dict[str, object]) -> tuple[str, str, str]:
    return (str(row["provider"]), str(row["billing_account_id"]), str(row["billing_period_start"]))
