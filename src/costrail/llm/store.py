"""Writing LLM requests into `llm_requests`: defaults, catalog pricing, keyed idempotent replace.

Every source (readers, the gateway, the SDK wrapper) ends here, so the pricing rules are applied
once: a row that carries its own `cost_usd` keeps it (`cost_source` "provider" unless set); a
row without one is priced from the catalog ("catalog"); a row whose model has no price gets a
null cost and `cost_source` "unpriced" plus a counted warning — never $0. Pricing runs as one
vectorised in-process DuckDB query over Arrow (exact decimals), whatever the warehouse engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from costrail.errors import InputError
from costrail.pricing.llm import LlmPrices, ModelPrice, TierRates, UnknownModelError
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.sources.base import LoadWarnings
from costrail.warehouse.store import Warehouse

TABLE = "llm_requests"
KEY_COLUMNS = ("source", "request_id")
_TOKEN_COLUMNS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
_RATE_TYPE = pa.decimal128(38, 18)
_RATE_NAMES = ("input", "cached_input", "cache_write", "cache_write_1h", "output")


def requests_arrow_schema() -> pa.Schema:
    return LLM_REQUESTS_SCHEMA.to_pyarrow()


def to_requests_table(rows: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows (Arrow or dicts) as an Arrow table with exactly the `llm_requests` columns.

    Missing columns are null; an unknown column is a mistake and raises `InputError`.
    """
    schema = requests_arrow_schema()
    if isinstance(rows, pa.Table):
        unknown = [name for name in rows.column_names if name not in schema.names]
        if unknown:
            raise InputError(f"unknown llm_requests column {unknown[0]!r}", column=unknown[0])
        columns = []
        for column in schema:
            if column.name in rows.column_names:
                columns.append(rows[column.name].cast(column.type))
            else:
                columns.append(pa.nulls(rows.num_rows, column.type))
        return pa.Table.from_arrays(columns, schema=schema)
    for index, row in enumerate(rows, start=1):
        for name in row:
            if name not in schema.names:
                raise InputError(f"unknown llm_requests column {name!r}", row=index, column=name)
    return pa.Table.from_pylist(list(rows), schema=schema)


def write_requests(
    warehouse: Warehouse,
    rows: pa.Table | Sequence[Mapping[str, Any]],
    *,
    prices: LlmPrices | None = None,
    warnings: LoadWarnings | None = None,
) -> int:
    """Replace the rows keyed by (source, request_id) with `rows`; returns rows written.

    Unpriced models are counted into `warnings` — pass a `LoadWarnings` to report
    them. Re-writing the same requests replaces them, so a re-ingest never double counts.
    """
    table = prepare_requests(rows, prices=prices, warnings=warnings)
    if table.num_rows == 0:
        return 0
    return warehouse.replace(TABLE, money_as_text(table), LLM_REQUESTS_SCHEMA, KEY_COLUMNS)


def money_as_text(table: pa.Table) -> ir.Table:
    """A memtable whose decimal columns travel as text; `replace` casts them back exactly.

    Ibis' PySpark backend cannot register a decimal column holding nulls, and text keeps
    every digit on both engines.
    """
    columns = [
        column.cast(pa.string()) if pa.types.is_decimal(column.type) else column
        for column in table.columns
    ]
    return ibis.memtable(pa.Table.from_arrays(columns, names=table.column_names))


def prepare_requests(
    rows: pa.Table | Sequence[Mapping[str, Any]],
    *,
    prices: LlmPrices | None = None,
    warnings: LoadWarnings | None = None,
) -> pa.Table:
    """Defaults, key checks, de-duplication and pricing, without writing anything."""
    warnings = warnings if warnings is not None else LoadWarnings()
    table = to_requests_table(rows)
    _check_keys(table)
    rates = _rate_table(table, prices or LlmPrices.load(), warnings)
    priced = _price(table, rates)
    duplicates = table.num_rows - priced.num_rows
    warnings.add("duplicate (source, request_id) in one load: the last row was kept", duplicates)
    return priced


def _check_keys(table: pa.Table) -> None:
    """Keys present and token counts consistent (vectorised; the first bad row is named)."""
    for column in KEY_COLUMNS:
        if table[column].null_count:
            first = table[column].to_pylist().index(None) + 1
            raise InputError(f"{column} is missing", row=first, column=column)
    counts = {name: pc.fill_null(table[name], 0) for name in _TOKEN_COLUMNS}
    cached = pc.add(
        pc.add(counts["cached_input_tokens"], counts["cache_write_tokens"]),
        counts["cache_write_1h_tokens"],
    )
    bad = pc.or_(
        pc.greater(cached, counts["input_tokens"]),
        pc.less(pc.min_element_wise(*counts.values()), 0),
    )
    if pc.any(bad).as_py():
        first = bad.to_pylist().index(True) + 1
        raise InputError(
            "token counts are negative, or cached reads + cache writes exceed input_tokens",
            row=first,
            column="input_tokens",
            hint="input_tokens must include cached reads and cache writes (OTel convention)",
        )


def _rate_table(table: pa.Table, prices: LlmPrices, warnings: LoadWarnings) -> pa.Table:
    """One row per distinct (provider, model) lacking a cost: both tiers' rates, or unpriced."""
    needing = table.filter(table["cost_usd"].is_null()).select(["provider", "model", "batch"])
    needing = needing.set_column(2, "batch", pc.fill_null(needing["batch"], False))
    groups = needing.group_by(["provider", "model", "batch"]).aggregate([([], "count_all")])
    records: list[dict[str, Any]] = []
    for group in groups.to_pylist():
        provider, model, batch = group["provider"], group["model"], bool(group["batch"])
        record: dict[str, Any] = {"provider": provider, "model": model, "batch": group["batch"]}
        price = _lookup(prices, provider, model)
        if price is None:
            message = f"unpriced model {model!r} ({provider or 'unknown provider'}): cost left null"
            warnings.add(message, int(group["count_all"]))
        else:
            record["threshold"] = price.long_context_threshold_tokens
            _add_rates(record, "", price.rates(0, batch=batch))
            long_tokens = (price.long_context_threshold_tokens or 0) + 1
            _add_rates(record, "long_", price.rates(long_tokens, batch=batch))
        records.append(record)
    fields = [
        pa.field("provider", pa.string()),
        pa.field("model", pa.string()),
        pa.field("batch", pa.bool_()),
        pa.field("threshold", pa.int64()),
    ]
    for prefix in ("", "long_"):
        fields.extend(pa.field(f"{prefix}{name}", _RATE_TYPE) for name in _RATE_NAMES)
    return pa.Table.from_pylist(records, schema=pa.schema(fields))


def _lookup(prices: LlmPrices, provider: str | None, model: str | None) -> ModelPrice | None:
    if model is None:
        return None
    try:
        return prices.lookup(provider, model)
    except UnknownModelError:
        return None


def _add_rates(record: dict[str, Any], prefix: str, rates: TierRates) -> None:
    for name in _RATE_NAMES:
        value: Decimal = getattr(rates, name)
        record[f"{prefix}{name}"] = value.quantize(Decimal("1e-18"))


def _price(table: pa.Table, rates: pa.Table) -> pa.Table:
    """Fill defaults and costs in one DuckDB pass; keeps the last row of a duplicated key."""
    schema = requests_arrow_schema()
    con = duckdb.connect()
    try:
        ordered = table.append_column("__order", pa.array(range(table.num_rows), pa.int64()))
        con.register("incoming", ordered)
        con.register("rates", rates)
        keys = table.select(list(KEY_COLUMNS)).group_by(list(KEY_COLUMNS)).aggregate([])
        query = _pricing_sql(schema, deduplicate=keys.num_rows < table.num_rows)
        result = con.execute(query).fetch_arrow_table()
    finally:
        con.close()
    return result.cast(schema)


def _pricing_sql(schema: pa.Schema, *, deduplicate: bool) -> str:
    def tier(name: str) -> str:
        return (
            f"CASE WHEN p.threshold IS NOT NULL AND t.input_tokens > p.threshold "
            f"THEN p.long_{name} ELSE p.{name} END"
        )

    uncached = (
        "(t.input_tokens - t.cached_input_tokens - t.cache_write_tokens - t.cache_write_1h_tokens)"
    )
    computed = (
        f"{uncached} * {tier('input')} + t.cached_input_tokens * {tier('cached_input')}"
        f" + t.cache_write_tokens * {tier('cache_write')}"
        f" + t.cache_write_1h_tokens * {tier('cache_write_1h')}"
        f" + t.output_tokens * {tier('output')}"
    )
    defaults = ", ".join(f"coalesce({name}, 0) AS {name}" for name in _TOKEN_COLUMNS)
    keep_last = (
        "QUALIFY row_number() OVER (PARTITION BY source, request_id ORDER BY __order DESC) = 1"
    )
    select = []
    for column in schema.names:
        if column == "cost_usd":
            select.append(
                "CASE WHEN t.cost_usd IS NOT NULL THEN t.cost_usd "
                f"WHEN p.input IS NOT NULL THEN CAST(round({computed}, 12) AS DECIMAL(38, 12)) "
                "END AS cost_usd"
            )
        elif column == "cost_source":
            select.append(
                "CASE WHEN t.cost_usd IS NOT NULL THEN coalesce(t.cost_source, 'provider') "
                "WHEN p.input IS NOT NULL THEN 'catalog' ELSE 'unpriced' END AS cost_source"
            )
        else:
            select.append(f't."{column}"')
    return f"""
        WITH t AS (
            SELECT * REPLACE ({defaults}, coalesce(batch, false) AS batch,
                              coalesce(streamed, false) AS streamed)
            FROM incoming
        ),
        last AS (
            SELECT * FROM t
            {keep_last if deduplicate else ""}
        )
        SELECT {", ".join(select)}
        FROM last AS t
        LEFT JOIN rates AS p
          ON p.provider IS NOT DISTINCT FROM t.provider
         AND p.model IS NOT DISTINCT FROM t.model
         AND p.batch = t.batch
         AND t.cost_usd IS NULL
        ORDER BY t.__order
    """
