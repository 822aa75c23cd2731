"""Google Cloud Billing export (detailed, resource-level) → FOCUS: one row per cost, one per credit.

The export arrives from BigQuery as JSON lines or Parquet (nested records: `service.description`,
repeated `credits`, `labels`) or as a flattened CSV (dotted column names, repeated fields as JSON
text). All three are first brought to one flat shape; the mapping then never cares which it was.

Each export row's `cost` is one FOCUS row. Each element of its `credits` array (sustained-use and
committed-use discounts, free tier, promotions, …) becomes a FOCUS row of its own with
ChargeCategory `Credit`, so the invoice total is sum(cost) + sum(credits) and reconciles as such.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from costrail.errors import InputError
from costrail.pricing.gpu_instances import gpu_case
from costrail.schema.costs import MONEY, QUANTITY, TAGS, TIMESTAMP, conform_costs
from costrail.sources.base import (
    FILE_COLUMN,
    ROW_COLUMN,
    FileKind,
    FilePeek,
    LoadWarnings,
    MappingContext,
    Reader,
    SourceFile,
    literal_string,
    readers,
)
from costrail.sources.checks import require_parsable
from costrail.sources.expr import (
    SOURCE_MONEY,
    add_months,
    blank_to_null,
    parse_money,
    parse_timestamp,
)

PROVIDER = "gcp"
PROVIDER_NAME = "Google Cloud"

LABEL = dt.Struct({"key": dt.string, "value": dt.string})
CREDIT = dt.Struct(
    {
        "name": dt.string,
        "amount": dt.string,
        "full_name": dt.string,
        "id": dt.string,
        "type": dt.string,
    }
)

#: Repeated fields, by their export name, with the element type a CSV's JSON text is read as.
REPEATED: dict[str, dt.Struct] = {
    "credits": CREDIT,
    "labels": LABEL,
    "project.labels": LABEL,
    "system_labels": LABEL,
}

#: Fields a file must have; in nested files the part before the dot is the top-level column.
REQUIRED = ("billing_account_id", "cost", "currency", "usage_start_time", "invoice.month")

MACHINE_SPEC_LABEL = "compute.googleapis.com/machine_spec"

#: cost_type → ChargeCategory. `rounding error` is how the export spells it; both are accepted.
COST_TYPES = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding error": "Adjustment",
    "rounding_error": "Adjustment",
}

CUD_CREDIT_TYPES = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")

#: GPU names in SKU descriptions ("Nvidia Tesla A100 80GB GPU running in Americas") → our names.
GPU_SKU_PATTERN = r"(?i)\b(A100 80GB|A100|H100|H200|B200|GB200|L4|T4|V100|P100|P4|K80)\b"
GPU_SKU_NAMES = {"A100 80GB": "A100-80GB"}
#: Machine families with bundled GPUs, named in SKUs ("A2 Instance Core running in Americas").
GPU_FAMILY_PATTERN = r"(?i)\b(A2|A3|A4|G2)( Ultra)? Instance\b"
GPU_FAMILIES = {
    "A2": "A100",
    "A2 Ultra": "A100-80GB",
    "A3": "H100",
    "A3 Ultra": "H200",
    "A4": "B200",
    "G2": "L4",
}


def _kv() -> pa.DataType:
    return pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))


def _record(*fields: tuple[str, pa.DataType]) -> pa.DataType:
    return pa.struct(list(fields))


S, F = pa.string(), pa.float64()

#: The detailed usage cost export schema, for reading JSON lines with stable types. Money and
#: quantities are FLOAT64 in BigQuery and read as float64 (never parsed as text with loss):
#: `parse_money` turns them into exact decimals through their shortest representation.
JSON_SCHEMA = pa.schema(
    [
        ("billing_account_id", S),
        ("service", _record(("id", S), ("description", S))),
        ("sku", _record(("id", S), ("description", S))),
        ("usage_start_time", S),
        ("usage_end_time", S),
        (
            "project",
            _record(
                ("id", S),
                ("number", S),
                ("name", S),
                ("labels", _kv()),
                ("ancestry_numbers", S),
                ("ancestors", pa.list_(_record(("resource_name", S), ("display_name", S)))),
            ),
        ),
        ("labels", _kv()),
        ("system_labels", _kv()),
        ("location", _record(("location", S), ("country", S), ("region", S), ("zone", S))),
        ("resource", _record(("name", S), ("global_name", S))),
        ("export_time", S),
        ("cost", F),
        ("currency", S),
        ("currency_conversion_rate", F),
        (
            "usage",
            _record(
                ("amount", F), ("unit", S), ("amount_in_pricing_units", F), ("pricing_unit", S)
            ),
        ),
        (
            "credits",
            pa.list_(_record(("name", S), ("amount", F), ("full_name", S), ("id", S), ("type", S))),
        ),
        ("invoice", _record(("month", S), ("publisher_type", S))),
        ("cost_type", S),
        ("adjustment_info", _record(("id", S), ("description", S), ("mode", S), ("type", S))),
        (
            "price",
            _record(
                ("effective_price", F),
                ("tier_start_amount", F),
                ("unit", S),
                ("pricing_unit_quantity", F),
            ),
        ),
        ("cost_at_list", F),
        ("transaction_type", S),
        ("seller_name", S),
        (
            "tags",
            pa.list_(
                _record(("key", S), ("value", S), ("inherited", pa.bool_()), ("namespace", S))
            ),
        ),
        ("subscription", _record(("instance_id", S))),
        ("consumption_model", _record(("id", S), ("description", S))),
    ]
)


@readers.register("gcp-billing")
class GcpBillingReader(Reader):
    """Cloud Billing standard or detailed usage cost export (JSON lines, Parquet, flat CSV)."""

    name: ClassVar[str] = "gcp-billing"
    description: ClassVar[str] = (
        "Google Cloud Billing export (BigQuery → JSON lines, Parquet, or flattened CSV)"
    )
    file_kinds: ClassVar[tuple[FileKind, ...]] = ("jsonl", "parquet", "csv")

    def detect(self, peek: FilePeek) -> bool:
        return all(
            _present(peek.columns, path)
            for path in (
                "billing_account_id",
                "cost",
                "usage_start_time",
                "service.description",
                "sku.description",
            )
        )

    def validate_peek(self, peek: FilePeek) -> None:
        for path in REQUIRED:
            if _present(peek.columns, path):
                continue
            raise InputError(
                f"missing mandatory column for a GCP billing export: {path}",
                file=peek.path,
                column=path,
                hint="export every column of the billing table (SELECT *)",
            )

    def arrow_read_options(self, kind: FileKind) -> dict[str, object]:
        return {"json_schema": JSON_SCHEMA} if kind == "jsonl" else {}

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        engine = native.get_backend().name
        _require_struct_fields(native, files)
        flat = _flatten(native, engine)
        text_columns = {path: _flat_column(native.columns, path) for path in REPEATED}
        text_parsers = {
            column: _json_parser(REPEATED[path], engine)
            for path, column in text_columns.items()
            if column is not None and native[column].type().is_string()
        }
        require_parsable(native, text_parsers, "a JSON array")
        require_parsable(
            flat,
            {"cost": parse_money, "cost_at_list": parse_money},
            "a decimal number",
        )
        require_parsable(
            flat,
            {"usage_start_time": _timestamp, "usage_end_time": _timestamp},
            "a date-time (ISO 8601)",
        )
        require_parsable(flat, {"invoice.month": _invoice_month}, "a month as YYYYMM")
        credits = flat.unnest("credits")
        credits = credits.mutate(**{"credits.amount": credits.credits["amount"]})
        require_parsable(credits, {"credits.amount": parse_money}, "a decimal number")
        _count_unknown_cost_types(flat, warnings)

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        rows = _prepare(_flatten(native, context.engine))
        cost_rows = rows.select(**_shared_columns(rows), **_cost_columns(rows))
        credits = rows.unnest("credits")
        credit_rows = credits.select(**_shared_columns(credits), **_credit_columns(credits))
        return conform_costs(cost_rows).union(conform_costs(credit_rows))

    def source_totals(self, native: ir.Table) -> ir.Table:
        flat = _flatten(native, native.get_backend().name)
        key = {
            "x_Provider": literal_string(PROVIDER),
            "BillingAccountId": _text(flat.billing_account_id),
            "BillingPeriodStart": _invoice_month(flat["invoice.month"]),
        }
        costs = flat.select(
            **key,
            _amount=parse_money(flat.cost, SOURCE_MONEY),
            _row=ibis.literal(1, type="int64"),
        )
        exploded = flat.unnest("credits")
        credits = exploded.select(
            x_Provider=literal_string(PROVIDER),
            BillingAccountId=_text(exploded.billing_account_id),
            BillingPeriodStart=_invoice_month(exploded["invoice.month"]),
            _amount=parse_money(exploded.credits["amount"], SOURCE_MONEY),
            _row=ibis.literal(0, type="int64"),
        )
        amounts = costs.union(credits)
        return amounts.group_by(["x_Provider", "BillingAccountId", "BillingPeriodStart"]).aggregate(
            source_rows=amounts._row.sum(), source_total=amounts._amount.sum()
        )


# -- one flat shape for nested and CSV exports ---------------------------------------------------

#: Fields the mapping reads, by dotted path: a nested field in JSON/Parquet, a column in CSV.
FIELDS = (
    "billing_account_id",
    "service.id",
    "service.description",
    "sku.id",
    "sku.description",
    "usage_start_time",
    "usage_end_time",
    "project.id",
    "project.name",
    "location.location",
    "location.region",
    "location.zone",
    "resource.name",
    "resource.global_name",
    "cost",
    "currency",
    "usage.amount",
    "usage.unit",
    "usage.amount_in_pricing_units",
    "usage.pricing_unit",
    "invoice.month",
    "cost_type",
    "price.effective_price",
    "cost_at_list",
    "seller_name",
)
#: Fields parsed as decimals (kept in their source type until then).
MONEY_FIELDS = (
    "cost",
    "cost_at_list",
    "price.effective_price",
    "usage.amount",
    "usage.amount_in_pricing_units",
)


def _flatten(native: ir.Table, engine: str) -> ir.Table:
    """Every field the mapping uses as a top-level column named by its dotted path."""
    columns: dict[str, ir.Value] = {path: _field(native, path, dt.string) for path in FIELDS}
    for path, element in REPEATED.items():
        columns[path] = _repeated(native, path, element, engine)
    columns[FILE_COLUMN] = native[FILE_COLUMN]
    columns[ROW_COLUMN] = native[ROW_COLUMN]
    return native.select(**columns)


def _flat_column(columns: tuple[str, ...] | list[str], path: str) -> str | None:
    """The CSV column holding `path`: dotted (`service.description`) or `service_description`."""
    for name in (path, path.replace(".", "_")):
        if name in columns:
            return name
    return None


def _present(columns: tuple[str, ...] | list[str], path: str) -> bool:
    """Whether a file's columns hold `path`, flat or as the top of a nested record."""
    return _flat_column(columns, path) is not None or path.split(".", 1)[0] in columns


def _field(native: ir.Table, path: str, dtype: dt.DataType) -> ir.Value:
    """A nested field (`service` → `description`), a flat CSV column, or a typed null."""
    column = _flat_column(native.columns, path)
    if column is not None:
        return native[column]
    head, _, rest = path.partition(".")
    if not rest or head not in native.columns:
        return ibis.null(dtype)
    value: ir.Value = native[head]
    for part in rest.split("."):
        value_type = value.type()
        if not value_type.is_struct() or part not in value_type.names:
            return ibis.null(dtype)
        value = value[part]
    return value


def _repeated(native: ir.Table, path: str, element: dt.Struct, engine: str) -> ir.ArrayValue:
    """A repeated record as an array of structs, whichever way the file stores it.

    Older exports lack some credit fields (`full_name`, `id`, `type`); those read as null.
    """
    value = _field(native, path, dt.Array(element))
    if value.type().is_string():
        return _json_parser(element, engine)(value)
    if value.type().is_null():
        return ibis.null(dt.Array(element))
    present = value.type().value_type.names
    if all(name in present for name in element.names):
        return value
    return value.map(
        lambda item: ibis.struct(
            {
                name: item[name] if name in present else ibis.null(element[name])
                for name in element.names
            }
        )
    )


@cache
def _json_udfs(element: dt.Struct) -> tuple[Any, Any, Any, Any]:
    """Engine builtins that read JSON text as an array of `element` (one set per element type)."""
    array = dt.Array(element)

    @ibis.udf.scalar.builtin(name="json_transform", signature=((dt.string, dt.string), array))
    def duckdb_transform(text: str, spec: str) -> object:
        """DuckDB: JSON text → LIST(STRUCT(...)); numbers read as VARCHAR keep their digits."""

    @ibis.udf.scalar.builtin(name="json_valid", signature=((dt.string,), dt.boolean))
    def duckdb_valid(text: str) -> bool:  # type: ignore[empty-body]
        """DuckDB: whether the text is JSON at all (json_transform raises on malformed text)."""

    @ibis.udf.scalar.builtin(name="json_type", signature=((dt.string,), dt.string))
    def duckdb_type(text: str) -> str:  # type: ignore[empty-body]
        """DuckDB: the JSON type of the text's root (ARRAY, OBJECT, …)."""

    @ibis.udf.scalar.builtin(name="from_json", signature=((dt.string, dt.string), array))
    def spark_from_json(text: str, spec: str) -> object:
        """Spark: JSON text → array<struct<...>>; malformed text → null."""

    return duckdb_transform, duckdb_valid, duckdb_type, spark_from_json


def _json_parser(element: dt.Struct, engine: str) -> Callable[[ir.Value], ir.Value]:
    """A parser: JSON array text → array of `element` structs; bad or blank text → null."""
    duckdb_transform, duckdb_valid, duckdb_type, spark_from_json = _json_udfs(element)
    array = dt.Array(element)

    def parse(value: ir.Value) -> ir.Value:
        text = blank_to_null(value.cast("string"))
        if engine == "duckdb":
            spec = json.dumps([{name: "VARCHAR" for name in element.names}])
            is_array = duckdb_type(text) == "ARRAY"
            parsed = ibis.cases((is_array, duckdb_transform(text, spec)), else_=ibis.null(array))
            return ibis.cases((duckdb_valid(text), parsed), else_=ibis.null(array))
        if engine == "pyspark":
            fields = ",".join(f"{name}:string" for name in element.names)
            return spark_from_json(text, f"array<struct<{fields}>>")
        return text.cast("json").cast(array)

    return parse


def _require_struct_fields(native: ir.Table, files: list[SourceFile]) -> None:
    """A nested file must carry the fields its keys come from (Parquet has no fixed schema)."""
    for path in REQUIRED:
        if _field(native, path, dt.null).type().is_null():
            raise InputError(
                f"missing mandatory field for a GCP billing export: {path}",
                file=files[0].path if files else None,
                column=path,
                hint="export every column of the billing table (SELECT *)",
            )


def _count_unknown_cost_types(flat: ir.Table, warnings: LoadWarnings) -> None:
    cost_type = flat.cost_type.cast("string").strip().lower()
    unknown = cost_type.notnull() & ~cost_type.isin(list(COST_TYPES))
    count = flat.aggregate(n=unknown.cast("int64").sum()).to_pyarrow().to_pylist()[0]["n"]
    warnings.add(
        "cost_type values outside regular/tax/adjustment/rounding error read as Adjustment",
        int(count or 0),
    )


# -- parsing helpers -----------------------------------------------------------------------------


def _timestamp(value: ir.Value) -> ir.Value:
    """BigQuery writes `2024-01-01 07:00:00 UTC`; both engines read it once ` UTC` is `Z`."""
    if not value.type().is_string():
        return parse_timestamp(value)
    return parse_timestamp(value.replace(" UTC", "Z"))


def _invoice_month(value: ir.Value) -> ir.Value:
    """`202401` → 2024-01-01T00:00:00Z (the UTC start of the invoice month); other text → null."""
    text = value.cast("string").strip()
    iso = text.substr(0, 4) + "-" + text.substr(4, 2) + "-01"
    return ibis.ifelse(text.re_search(r"^\d{6}$"), iso.try_cast(TIMESTAMP), ibis.null(TIMESTAMP))


def _text(value: ir.Value) -> ir.StringValue:
    return blank_to_null(value.cast("string"))


# -- FOCUS columns --------------------------------------------------------------------------------


def _prepare(flat: ir.Table) -> ir.Table:
    """Clean each field once, then derive the dimensions from the clean columns.

    Two steps (each a subquery) keep the generated SQL small: every derived expression refers
    to a clean column instead of repeating its parsing.
    """
    clean = flat.mutate(
        **{path: _text(flat[path]) for path in FIELDS if path not in MONEY_FIELDS},
        _start=_timestamp(flat.usage_start_time),
        _end=_timestamp(flat.usage_end_time),
        _period=_invoice_month(flat["invoice.month"]),
        _machine_type=blank_to_null(_label_value(flat.system_labels, MACHINE_SPEC_LABEL)),
        _tags=_tags(flat),
    )
    sku = clean["sku.description"]
    cost_type = clean.cost_type.lower()
    model, count = gpu_case(clean._machine_type)
    commitment_fee = sku.re_search(r"(?i)^commitment\b")
    category = ibis.cases(
        *[(cost_type == name, literal_string(value)) for name, value in COST_TYPES.items()],
        (cost_type.isnull(), literal_string("Usage")),
        else_=literal_string("Adjustment"),
    )
    return clean.mutate(
        _category=ibis.ifelse((category == "Usage") & commitment_fee, "Purchase", category),
        _commitment_fee=commitment_fee,
        _spot=sku.re_search(r"(?i)\b(spot|preemptible)\b"),
        _gpu_model=ibis.coalesce(model, _sku_gpu_model(sku)),
        _gpu_count=count,
        _storage_class=_storage_class(clean["service.description"], sku),
        _transfer_kind=_transfer_kind(sku),
        _service_category=_service_category(clean["service.description"]),
    )


def _shared_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """Columns a credit row shares with the cost row it belongs to."""
    return {
        "x_Provider": literal_string(PROVIDER),
        "ProviderName": literal_string(PROVIDER_NAME),
        "PublisherName": ibis.coalesce(rows.seller_name, literal_string(PROVIDER_NAME)),
        "InvoiceIssuerName": literal_string(PROVIDER_NAME),
        "BillingAccountId": rows.billing_account_id,
        "BillingPeriodStart": rows._period,
        "BillingPeriodEnd": add_months(rows._period, 1),
        "BillingCurrency": rows.currency,
        "ChargePeriodStart": rows._start,
        "ChargePeriodEnd": rows._end,
        "ServiceName": rows["service.description"],
        "ServiceCategory": rows._service_category,
        "x_ServiceCode": rows["service.id"],
        "SkuId": rows["sku.id"],
        "SkuMeter": rows["sku.description"],
        "SubAccountId": rows["project.id"],
        "SubAccountName": rows["project.name"],
        "SubAccountType": ibis.ifelse(
            rows["project.id"].isnull(), ibis.null("string"), literal_string("Project")
        ),
        "RegionId": ibis.coalesce(rows["location.region"], rows["location.location"]),
        "AvailabilityZone": rows["location.zone"],
        "ResourceId": ibis.coalesce(rows["resource.global_name"], rows["resource.name"]),
        "ResourceName": rows["resource.name"],
        "Tags": rows._tags,
        "x_InstanceType": rows._machine_type,
        "x_GpuModel": rows._gpu_model,
        "x_GpuCount": rows._gpu_count,
        "x_StorageClass": rows._storage_class,
        "x_TransferKind": rows._transfer_kind,
        "x_SourceFile": rows[FILE_COLUMN],
        "x_SourceRow": rows[ROW_COLUMN],
    }


def _cost_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """The export row's own cost: Usage, Tax, Adjustment — or Purchase for commitment fees."""
    category = rows._category
    usage_like = category.isin(["Usage", "Purchase"])
    corrects_prior_period = (category == "Adjustment") & (rows._start < rows._period)
    cost = parse_money(rows.cost, MONEY)
    return {
        "ChargeCategory": category,
        "ChargeClass": ibis.ifelse(corrects_prior_period, "Correction", ibis.null("string")),
        "ChargeDescription": rows["sku.description"],
        "ChargeFrequency": ibis.cases(
            (category == "Usage", literal_string("Usage-Based")),
            (category == "Purchase", literal_string("Recurring")),
            else_=ibis.null("string"),
        ),
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ContractedCost": cost,
        "ListCost": parse_money(rows.cost_at_list, MONEY),
        "ContractedUnitPrice": parse_money(rows["price.effective_price"], MONEY),
        "ConsumedQuantity": parse_money(rows["usage.amount"], QUANTITY),
        "ConsumedUnit": rows["usage.unit"],
        "PricingQuantity": parse_money(rows["usage.amount_in_pricing_units"], QUANTITY),
        "PricingUnit": rows["usage.pricing_unit"],
        "PricingCategory": ibis.cases(
            (~usage_like, ibis.null("string")),
            (rows._commitment_fee, literal_string("Committed")),
            (rows._spot, literal_string("Dynamic")),
            else_=literal_string("Standard"),
        ),
        "x_PurchaseOption": ibis.cases(
            (~usage_like, ibis.null("string")),
            (rows._commitment_fee, literal_string("CommittedUse")),
            (rows._spot, literal_string("Spot")),
            else_=literal_string("OnDemand"),
        ),
        "CommitmentDiscountCategory": ibis.cases(
            (~rows._commitment_fee, ibis.null("string")),
            (rows["sku.description"].re_search(r"(?i)dollar|spend"), literal_string("Spend")),
            else_=literal_string("Usage"),
        ),
        "CommitmentDiscountType": ibis.ifelse(
            rows._commitment_fee, "Committed Use Discount", ibis.null("string")
        ),
    }


def _credit_columns(rows: ir.Table) -> dict[str, ir.Value]:
    """One credit of an export row (`rows.credits` is a single credit after the unnest)."""
    credit = rows.credits
    credit_type = ibis.coalesce(_text(credit["type"]).upper(), literal_string("CREDIT"))
    name = ibis.coalesce(_text(credit["full_name"]), _text(credit["name"]))
    is_cud = credit_type.isin(list(CUD_CREDIT_TYPES))
    amount = parse_money(credit["amount"], MONEY)
    return {
        "ChargeCategory": literal_string("Credit"),
        "ChargeClass": ibis.null("string"),
        "ChargeDescription": ibis.ifelse(name.isnull(), credit_type, credit_type + ": " + name),
        "ChargeFrequency": ibis.null("string"),
        "BilledCost": amount,
        "EffectiveCost": amount,
        "ContractedCost": amount,
        "ListCost": ibis.literal(0, type=MONEY),
        "ContractedUnitPrice": ibis.null(MONEY),
        "ConsumedQuantity": ibis.null(QUANTITY),
        "ConsumedUnit": ibis.null("string"),
        "PricingQuantity": ibis.null(QUANTITY),
        "PricingUnit": ibis.null("string"),
        "PricingCategory": ibis.ifelse(is_cud, "Committed", ibis.null("string")),
        "x_PurchaseOption": ibis.cases(
            (is_cud, literal_string("CommittedUse")),
            (rows._spot, literal_string("Spot")),
            else_=literal_string("OnDemand"),
        ),
        "CommitmentDiscountCategory": ibis.cases(
            (credit_type == "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE", literal_string("Spend")),
            (credit_type == "COMMITTED_USAGE_DISCOUNT", literal_string("Usage")),
            else_=ibis.null("string"),
        ),
        "CommitmentDiscountType": ibis.ifelse(
            is_cud, "Committed Use Discount", ibis.null("string")
        ),
        "CommitmentDiscountId": ibis.ifelse(is_cud, _text(credit["id"]), ibis.null("string")),
        "CommitmentDiscountName": ibis.ifelse(is_cud, name, ibis.null("string")),
        "CommitmentDiscountStatus": ibis.ifelse(is_cud, "Used", ibis.null("string")),
    }


# -- derived dimensions ---------------------------------------------------------------------------


def _label_value(labels: ir.ArrayValue, key: str) -> ir.StringValue:
    values = labels.filter(lambda label: label["key"] == key).map(lambda label: label["value"])
    return ibis.ifelse(values.length() > 0, values[0], ibis.null("string"))


def _tags(flat: ir.Table) -> ir.Value:
    """Resource labels, plus the project's labels for keys the resource does not set itself."""
    empty = ibis.literal([], type=dt.Array(LABEL))
    own = ibis.coalesce(flat.labels, empty)
    own_keys = own.map(lambda label: label["key"])
    inherited = ibis.coalesce(flat["project.labels"], empty).filter(
        lambda label: ~own_keys.contains(label["key"])
    )
    merged = own.concat(inherited)
    tags = ibis.map(
        merged.map(lambda label: label["key"]), merged.map(lambda label: label["value"])
    )
    return ibis.ifelse(merged.length() > 0, tags, ibis.null(TAGS))


def _sku_gpu_model(sku: ir.StringValue) -> ir.StringValue:
    """GPU model named by a GPU SKU, or implied by a GPU machine family's core/RAM SKU."""
    gpu = blank_to_null(sku.re_extract(GPU_SKU_PATTERN, 1)).upper()
    gpu = gpu.substitute({raw.upper(): name for raw, name in GPU_SKU_NAMES.items()})
    family = blank_to_null(sku.re_extract(GPU_FAMILY_PATTERN, 1)).upper() + ibis.ifelse(
        sku.re_search(r"(?i)\bUltra Instance\b"), " Ultra", ""
    )
    family_model = family.substitute(GPU_FAMILIES, else_=ibis.null("string"))
    return ibis.cases(
        (sku.re_search(r"(?i)\bGPU\b") & gpu.notnull(), gpu),
        else_=family_model,
    )


def _storage_class(service: ir.StringValue, sku: ir.StringValue) -> ir.StringValue:
    """Cloud Storage class named by the SKU: `Nearline Storage Iowa`, `Standard Storage US`."""
    cases = [
        (sku.re_search(r"(?i)\bnearline\b"), literal_string("Nearline")),
        (sku.re_search(r"(?i)\bcoldline\b"), literal_string("Coldline")),
        (sku.re_search(r"(?i)\barchive\b"), literal_string("Archive")),
        (
            sku.re_search(r"(?i)\b(standard|regional storage|multi-regional storage|dual-region)"),
            literal_string("Standard"),
        ),
    ]
    return ibis.ifelse(
        service == "Cloud Storage",
        ibis.cases(*cases, else_=ibis.null("string")),
        ibis.null("string"),
    )


def _transfer_kind(sku: ir.StringValue) -> ir.StringValue:
    """Network SKUs: `… Inter Region Data Transfer Out …`, `… Internet Data Transfer Out …`."""
    is_transfer = sku.re_search(r"(?i)(network|egress|ingress|data transfer|download)")
    kind = ibis.cases(
        (sku.re_search(r"(?i)\binter[- ]?region\b"), literal_string("InterRegion")),
        (
            sku.re_search(r"(?i)(\binternet\b|\bdownload (worldwide|apac|china|australia))"),
            literal_string("Internet"),
        ),
        (
            sku.re_search(r"(?i)\b(inter[- ]?zone|intra[- ]?zone|intra[- ]?region)\b"),
            literal_string("IntraRegion"),
        ),
        else_=ibis.null("string"),
    )
    return ibis.ifelse(is_transfer, kind, ibis.null("string"))


@cache
def service_categories() -> dict[str, str]:
    """`service.description` → FOCUS ServiceCategory (focus_converters' GCP mapping)."""
    path = resources.files("costrail.sources").joinpath("data", "gcp_service_categories.csv")
    with path.open(encoding="utf-8-sig") as handle:
        return {row["ConsumedService"]: row["ServiceCategory"] for row in csv.DictReader(handle)}


def _service_category(service: ir.StringValue) -> ir.StringValue:
    return ibis.coalesce(
        service.substitute(service_categories(), else_=ibis.null("string")),
        literal_string("Other"),
    )
