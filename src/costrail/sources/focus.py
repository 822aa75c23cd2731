"""FOCUS files (1.0–1.3, CSV or Parquet, any provider) → the canonical costs table.

Real-world FOCUS files are not always clean: the text `NULL` for missing values, timestamps
without `T`/`Z`, enumerated values in other casings (`Usage-based`). Each is accepted and
reported as a counted warning, never silently.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import FOCUS_COLUMNS, MONEY, QUANTITY, TAGS, TIMESTAMP
from costrail.sources.base import (
    FILE_COLUMN,
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
from costrail.sources.expr import SOURCE_MONEY, json_tags, parse_money, parse_timestamp
from costrail.sources.providers import provider_key

#: Columns without which rows cannot be keyed or totalled.
REQUIRED = ("BilledCost", "BillingPeriodStart", "ChargePeriodStart")

#: Canonical spellings of FOCUS enumerations; other casings are normalised with a warning.
ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CapacityReservationStatus": ("Used", "Unused"),
    "ServiceCategory": (
        "AI and Machine Learning",
        "Analytics",
        "Business Applications",
        "Compute",
        "Databases",
        "Developer Tools",
        "Multicloud",
        "Identity",
        "Integration",
        "Internet of Things",
        "Management and Governance",
        "Media",
        "Migration",
        "Mobile",
        "Networking",
        "Security",
        "Storage",
        "Web",
        "Other",
    ),
}

#: Renamed or replaced columns across FOCUS versions: canonical ← candidates, first present wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "ProviderName": ("ProviderName", "ServiceProviderName"),
    "PublisherName": ("PublisherName", "ServiceProviderName"),
    "SkuPriceId": ("SkuPriceId", "SkuPriceid"),
    "EffectiveCost": ("EffectiveCost", "AmortizedCost"),
    "ConsumedQuantity": ("ConsumedQuantity", "UsageQuantity"),
    "ConsumedUnit": ("ConsumedUnit", "UsageUnit"),
}

NULL_TEXT = "NULL"


@register_reader(
    "focus",
    description="FOCUS 1.0–1.3 cost and usage (CSV or Parquet, any provider)",
    file_kinds=("csv", "parquet"),
)
class FocusReader(Reader):
    """Any FOCUS-conformant CostAndUsage file."""

    def detect(self, peek: FilePeek) -> bool:
        return peek.has("BilledCost", "ChargePeriodStart") and (
            peek.has("BillingPeriodStart") or peek.has("ChargeCategory")
        )

    def validate_peek(self, peek: FilePeek) -> None:
        require_columns(peek, REQUIRED, "a FOCUS file")

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        cleaned = _without_null_text(native)
        money = {
            name: parse_money
            for name, dtype in FOCUS_COLUMNS.items()
            if dtype in (MONEY, QUANTITY) and name in native.columns
        }
        require_parsable(cleaned, money, "a decimal number")
        times = {
            name: parse_timestamp
            for name, dtype in FOCUS_COLUMNS.items()
            if dtype == TIMESTAMP and name in native.columns
        }
        require_parsable(cleaned, times, "a date-time (ISO 8601)")
        _count_quirks(native, warnings)

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        table = _without_null_text(native)
        columns: dict[str, ir.Value] = {}
        for name, dtype in FOCUS_COLUMNS.items():
            source = _source_column(table, name)
            if source is None:
                continue
            value = table[source]
            if dtype in (MONEY, QUANTITY):
                columns[name] = parse_money(value, dtype)
            elif dtype == TIMESTAMP:
                columns[name] = parse_timestamp(value)
            elif dtype == TAGS:
                columns[name] = _tags(value, context.engine)
            elif name in ALLOWED_VALUES:
                columns[name] = _canonical_case(value.cast("string"), ALLOWED_VALUES[name])
            else:
                columns[name] = value.cast("string")
        if "EffectiveCost" not in columns:
            columns["EffectiveCost"] = columns["BilledCost"]
        provider = columns.get("ProviderName")
        columns["x_Provider"] = (
            provider_key(provider) if provider is not None else ibis.literal("unknown")
        )
        return table.select(**columns, **source_position(table))

    def source_totals(self, native: ir.Table) -> ir.Table:
        table = _without_null_text(native)
        provider_source = _source_column(table, "ProviderName")
        provider = (
            provider_key(table[provider_source].cast("string"))
            if provider_source
            else ibis.literal("unknown")
        )
        account = (
            table.BillingAccountId.cast("string")
            if "BillingAccountId" in table.columns
            else ibis.null("string")
        )
        keyed = table.mutate(
            x_Provider=provider,
            BillingAccountId=account,
            BillingPeriodStart=parse_timestamp(table.BillingPeriodStart),
            _amount=parse_money(table.BilledCost, SOURCE_MONEY),
        )
        return totals_per_load_key(keyed, keyed._amount)


def _source_column(table: ir.Table, name: str) -> str | None:
    for candidate in ALIASES.get(name, (name,)):
        if candidate in table.columns:
            return candidate
    return None


def _without_null_text(native: ir.Table) -> ir.Table:
    """The text `NULL` (written by some exporters for missing values) becomes a real null."""
    replacements = {
        name: ibis.ifelse(
            native[name].strip().upper() == NULL_TEXT, ibis.null("string"), native[name]
        )
        for name, dtype in native.schema().items()
        if dtype.is_string() and name not in (FILE_COLUMN,)
    }
    return native.mutate(**replacements) if replacements else native


def _tags(value: ir.Value, engine: str) -> ir.Value:
    if value.type().is_map():
        return value.cast(TAGS)
    return json_tags(value.cast("string"), engine)  # type: ignore[arg-type]


def _canonical_case(value: ir.StringValue, allowed: tuple[str, ...]) -> ir.StringValue:
    cases = [(value.upper() == choice.upper(), ibis.literal(choice)) for choice in allowed]
    result = ibis.cases(*cases, else_=value)
    return result  # type: ignore[no-any-return]


def _count_quirks(native: ir.Table, warnings: LoadWarnings) -> None:
    """One aggregate query counts every quirk; each becomes one warning line with its count."""
    measures: dict[str, ir.Value] = {}
    string_columns = [
        name
        for name, dtype in native.schema().items()
        if dtype.is_string() and name in FOCUS_COLUMNS
    ]
    for name in string_columns:
        measures[f"null_text:{name}"] = (native[name].strip().upper() == NULL_TEXT).sum()
    for name in ALLOWED_VALUES:
        if name in string_columns:
            value = native[name]
            canonical = value.isin(list(ALLOWED_VALUES[name]))
            recased = value.upper().isin([choice.upper() for choice in ALLOWED_VALUES[name]])
            measures[f"casing:{name}"] = (~canonical & recased).sum()
            unknown = value.notnull() & ~recased & (value.strip().upper() != NULL_TEXT)
            measures[f"unknown:{name}"] = unknown.sum()
    for name, dtype in FOCUS_COLUMNS.items():
        if dtype == TIMESTAMP and name in string_columns:
            text = native[name]
            measures[f"naive_time:{name}"] = (
                text.notnull()
                & (text.strip().upper() != NULL_TEXT)
                & ~text.re_search(r"T.*(Z|[+-]\d\d:?\d\d)$")
            ).sum()
    if not measures:
        return
    counts = native.aggregate(**{key: value.cast("int64") for key, value in measures.items()})
    row = counts.to_pyarrow().to_pylist()[0]
    messages = {
        "null_text": "the text 'NULL' read as a missing value in {column}",
        "casing": "{column} values in non-standard casing normalised to the FOCUS spelling",
        "unknown": "{column} values outside the FOCUS allowed values kept as they are",
        "naive_time": "{column} without 'T' or time zone read as UTC",
    }
    for key, count in row.items():
        kind, column = key.split(":", 1)
        warnings.add(messages[kind].format(column=column), int(count or 0))
