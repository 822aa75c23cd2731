"""The Cloud Billing export's fields: what a file must have, and the typed JSON lines schema."""

from __future__ import annotations

import ibis.expr.datatypes as dt
import pyarrow as pa

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
