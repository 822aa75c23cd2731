"""Azure Cost Management exports (EA and MCA, actual or amortized cost CSV) → FOCUS.

EA files say `Cost`, `BillingCurrency`, `Date` as `MM/DD/YYYY`; MCA files say
`costInBillingCurrency`, `billingCurrency`, ISO dates — column names are matched without regard
to case, and each field accepts the spellings listed in `azure.fields.ALIASES`.

Actual and amortized exports share one header, so the reader does not try to tell them apart:
the cost view is a property of the data. Every row's cost is taken as the file states it, as both
BilledCost and EffectiveCost, so each file reconciles to its own total. In an amortized file that
makes EffectiveCost the amortized cost (commitment purchases spread over the usage they covered,
plus `UnusedReservation`/`UnusedSavingsPlan` rows); in an actual file it is the invoiced cost.
"""

from __future__ import annotations

import ibis.expr.types as ir

from costrail.sources.azure.attributes import resource_columns
from costrail.sources.azure.fields import ALIASES, DATE_FIELDS, MONEY_FIELDS, prepare, resolve
from costrail.sources.azure.lookups import with_lookups
from costrail.sources.azure.mapping import (
    CHARGE_TYPES,
    account_columns,
    charge_columns,
    commitment_columns,
    cost_columns,
    load_key,
)
from costrail.sources.azure.tags import tags_readable
from costrail.sources.base import (
    FilePeek,
    LoadWarnings,
    MappingContext,
    Reader,
    SourceFile,
    register_reader,
    source_position,
    totals_per_load_key,
)
from costrail.sources.checks import require_columns, require_parsable
from costrail.sources.expr import SOURCE_MONEY, parse_money, parse_timestamp


@register_reader(
    "azure-cost",
    description="Azure Cost Management export, EA or MCA, actual or amortized (CSV)",
    file_kinds=("csv",),
)
class AzureCostReader(Reader):
    """Azure Cost Management cost details (EA or MCA; actual or amortized) as CSV."""

    def detect(self, peek: FilePeek) -> bool:
        found = resolve(peek.columns)
        return all(name in found for name in ("cost", "date", "subscription_id", "meter_category"))

    def validate_peek(self, peek: FilePeek) -> None:
        found = resolve(peek.columns)
        missing = [ALIASES[name][0] for name in ("cost", "date") if name not in found]
        require_columns(peek, missing, "an Azure cost export")

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        found = resolve(native.columns)
        require_parsable(
            native,
            {column: parse_money for name in MONEY_FIELDS for column in found.get(name, [])},
            "a decimal number",
        )
        require_parsable(
            native,
            {column: parse_timestamp for name in DATE_FIELDS for column in found.get(name, [])},
            "a date (MM/DD/YYYY or ISO 8601)",
        )
        _count_quirks(native, native.get_backend().name, warnings)

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        rows = with_lookups(prepare(native))
        columns = {
            **account_columns(rows),
            **charge_columns(rows),
            **cost_columns(rows),
            **commitment_columns(rows),
            **resource_columns(rows, context.engine),
            **source_position(rows),
        }
        return rows.select(**columns)

    def source_totals(self, native: ir.Table) -> ir.Table:
        rows = prepare(native)
        keyed = rows.select(**load_key(rows), _amount=parse_money(rows.cost, SOURCE_MONEY))
        return totals_per_load_key(keyed, keyed._amount)


def _count_quirks(native: ir.Table, engine: str, warnings: LoadWarnings) -> None:
    """One aggregate query counts unreadable tags and unknown ChargeType values."""
    rows = prepare(native)
    measures = {
        "tags": (rows.tags.notnull() & ~tags_readable(rows.tags, engine)).cast("int64").sum(),
        "charge_type": (rows._charge_type.notnull() & ~rows._charge_type.isin(list(CHARGE_TYPES)))
        .cast("int64")
        .sum(),
    }
    counts = rows.aggregate(**measures).to_pyarrow().to_pylist()[0]
    messages = {
        "tags": "Tags that are not JSON left empty",
        "charge_type": "ChargeType values outside the known list read as Adjustment",
    }
    for key, count in counts.items():
        warnings.add(messages[key], int(count or 0))
