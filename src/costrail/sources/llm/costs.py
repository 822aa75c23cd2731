"""Provider cost exports (`llm_provider_costs`) and their reconciliation with computed costs.

A provider's cost export is the bill; costrail's catalog cost is an estimate from token counts.
Both are kept: the export goes to its own table (never overwriting `llm_requests.cost_usd`), and
`reconcile` reports the difference per (provider, day, model) — or per (provider, day) where the
export is not broken out by model — so a wrong price or a missed discount shows up as a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as idt
import pyarrow as pa

from costrail.llm.store import TABLE as REQUESTS_TABLE
from costrail.llm.store import money_as_text
from costrail.schema.costs import MONEY, TIMESTAMP
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.warehouse.store import Warehouse

TABLE = "llm_provider_costs"
KEY_COLUMNS = ("source", "row_id")
PROVIDER_COSTS_SCHEMA = ibis.schema(
    {
        "time": TIMESTAMP,
        "provider": idt.string,
        "model": idt.string,
        "line_item": idt.string,
        "project_id": idt.string,
        "cost_usd": MONEY,
        "row_id": idt.string,
        "source": idt.string,
        "source_file": idt.string,
        "ingest_id": idt.string,
    }
)
#: a difference below this is rounding, not a discrepancy
TOLERANCE_USD = Decimal("0.01")


def write_provider_costs(warehouse: Warehouse, rows: Sequence[Mapping[str, Any]]) -> int:
    """Replace the cost rows keyed by (source, row_id); returns rows written."""
    if not rows:
        return 0
    table = pa.Table.from_pylist(list(rows), schema=PROVIDER_COSTS_SCHEMA.to_pyarrow())
    return warehouse.replace(TABLE, money_as_text(table), PROVIDER_COSTS_SCHEMA, KEY_COLUMNS)


@dataclass(frozen=True)
class ReconciliationLine:
    """Computed (catalog) vs reported (provider export) cost for one provider, day and model."""

    provider: str
    day: dt.date
    model: str | None
    computed_usd: Decimal
    reported_usd: Decimal
    unpriced_requests: int

    @property
    def difference_usd(self) -> Decimal:
        return self.computed_usd - self.reported_usd

    @property
    def difference_pct(self) -> Decimal | None:
        if self.reported_usd == 0:
            return None
        return (self.difference_usd / self.reported_usd * 100).quantize(Decimal("0.01"))

    @property
    def matches(self) -> bool:
        return abs(self.difference_usd) < TOLERANCE_USD

    def to_json(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "day": self.day.isoformat(),
            "model": self.model,
            "computed_usd": str(self.computed_usd),
            "reported_usd": str(self.reported_usd),
            "difference_usd": str(self.difference_usd),
            "difference_pct": None if self.difference_pct is None else str(self.difference_pct),
            "unpriced_requests": self.unpriced_requests,
            "matches": self.matches,
        }


def reconcile(warehouse: Warehouse) -> list[ReconciliationLine]:
    """Per (provider, day, model) where a cost export exists: computed vs reported cost.

    Computed cost comes from the provider's usage-report rows (`<provider>-usage`) when loaded,
    else from all of that provider's requests, so spans and usage buckets of the same traffic
    are never added together.
    """
    reported = _reported(warehouse)
    if not reported:
        return []
    computed = _computed(warehouse, {provider for provider, _, _ in reported})
    lines: list[ReconciliationLine] = []
    by_model = {key for key in reported if key[2] is not None}
    for key, reported_usd in sorted(reported.items(), key=lambda item: str(item[0])):
        provider, day, model = key
        if model is None:
            matching = [
                value
                for (p, d, m), value in computed.items()
                if p == provider and d == day and (p, d, m) not in by_model
            ]
        else:
            matching = [computed.get((provider, day, model), (Decimal(0), 0))]
        lines.append(
            ReconciliationLine(
                provider=provider,
                day=day,
                model=model,
                computed_usd=sum((value for value, _ in matching), Decimal(0)),
                reported_usd=reported_usd,
                unpriced_requests=sum(count for _, count in matching),
            )
        )
    return lines


def _reported(warehouse: Warehouse) -> dict[tuple[str, dt.date, str | None], Decimal]:
    costs = warehouse.read(TABLE, PROVIDER_COSTS_SCHEMA)
    grouped = costs.group_by(
        provider=costs.provider, day=costs.time.date(), model=costs.model.lower()
    ).aggregate(reported_usd=costs.cost_usd.sum())
    result: dict[tuple[str, dt.date, str | None], Decimal] = {}
    for row in grouped.to_pyarrow().to_pylist():
        key = (row["provider"], row["day"], row["model"])
        result[key] = result.get(key, Decimal(0)) + Decimal(row["reported_usd"] or 0)
    return result


def _computed(
    warehouse: Warehouse, providers: set[str]
) -> dict[tuple[str, dt.date, str], tuple[Decimal, int]]:
    requests = warehouse.read(REQUESTS_TABLE, LLM_REQUESTS_SCHEMA)
    requests = requests.filter(requests.provider.isin(sorted(providers)))
    usage_sources = (
        requests.filter(requests.source == requests.provider.concat("-usage"))
        .select("provider")
        .distinct()
        .to_pyarrow()
        .column("provider")
        .to_pylist()
    )
    if usage_sources:
        from_usage = requests.provider.isin(usage_sources)
        requests = requests.filter(
            ~from_usage | (requests.source == requests.provider.concat("-usage"))
        )
    grouped = requests.group_by(
        provider=requests.provider, day=requests.time.date(), model=requests.model.lower()
    ).aggregate(
        computed_usd=requests.cost_usd.sum(),
        unpriced=(requests.cost_source == "unpriced").cast("int64").sum(),
    )
    return {
        (row["provider"], row["day"], row["model"]): (
            Decimal(row["computed_usd"] or 0),
            int(row["unpriced"] or 0),
        )
        for row in grouped.to_pyarrow().to_pylist()
    }
