"""The model's check functions as Ibis row predicates, so one aggregate query evaluates every rule.

`violation(spec, data)` is true on the rows that break a requirement; `holds(spec, data)` is true
on the rows where a condition applies. Both are total (never null). A check that cannot be
expressed raises `NotEvaluable`, which the checker reports as a skipped rule with the reason —
never as a pass.

Values are judged by their physical type in typed files (Parquet, Ibis tables) and by their text
in text files (CSV): a CSV `BilledCost` is a decimal when its text parses as one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from costrail.conformance.model import Spec, national_currency_codes

SkipKind = Literal[
    "not_applicable",  # an applicability criterion is not declared (or an ancestor's)
    "permissive",  # a MAY rule: it permits, it never requires
    "dynamic",  # needs knowledge outside the data (the model has no check for it)
    "unsupported",  # a check function costrail does not implement
    "column_absent",  # the column it checks is not in the data
    "engine_error",  # the engine could not evaluate it (e.g. decimal overflow)
    "incomplete",  # a composite whose parts were not all evaluated
]

#: Check functions deliberately not implemented, with the reason shown on skipped rules.
UNSUPPORTED: dict[str, str] = {
    "FormatUnit": "UnitFormat's unit grammar and recommended-unit list are not implemented",
}

#: Exact decimal used to compare numbers (the costs table's MONEY type).
NUMBER = dt.Decimal(38, 12)
#: FOCUS NumericFormat: integer, decimal or E notation; no '+' sign, no thousands separators.
NUMERIC_TEXT = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE]-?[0-9]+)?$"
#: FOCUS DateTimeFormat: extended ISO 8601 in UTC.
DATETIME_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


class NotEvaluable(Exception):
    """A requirement or condition that cannot be turned into a predicate."""

    def __init__(self, kind: SkipKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: SkipKind = kind
        self.reason = reason


@dataclass(frozen=True)
class Dataset:
    """The rows under check and how their values are encoded.

    `columns` are the data's own columns (loader columns such as `__row` excluded).
    `text_encoded` is true for CSV, where every value is text and types are judged by parsing.
    """

    table: ir.Table
    columns: frozenset[str]
    text_encoded: bool

    def column(self, name: str) -> ir.Value:
        if name not in self.columns:
            raise NotEvaluable("column_absent", f"column {name} is not in the data")
        return self.table[name]

    def condition_column(self, name: str) -> ir.Value | None:
        """None for an absent column, which conditions read as null (the provider lacks it)."""
        if name not in self.columns:
            return None
        return self.table[name]


# --- helpers -----------------------------------------------------------------------------------


@ibis.udf.scalar.builtin(name="json_valid")
def _json_valid(value: str) -> bool:  # type: ignore[empty-body]
    """DuckDB: whether the text is valid JSON."""


@ibis.udf.scalar.builtin(name="json_type")
def _json_type(value: str) -> str:  # type: ignore[empty-body]
    """DuckDB: the JSON type of the document (OBJECT, ARRAY, VARCHAR, …)."""


@ibis.udf.scalar.builtin(name="json_type")
def _json_member_types(value: str, path: str) -> list[str]:  # type: ignore[empty-body]
    """DuckDB: the JSON types of the values matched by a wildcard path such as `$.*`."""


@ibis.udf.scalar.builtin(name="json_keys")
def _json_keys(value: str) -> list[str]:  # type: ignore[empty-body]
    """DuckDB: the keys of a JSON object, duplicates included."""


def _false() -> ir.BooleanValue:
    return ibis.literal(False)


def _any(predicates: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    return reduce(lambda left, right: left | right, predicates)


def _all(predicates: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    return reduce(lambda left, right: left & right, predicates)


def _total(predicate: ir.BooleanValue) -> ir.BooleanValue:
    return predicate.fill_null(False)


def _is_text(dtype: dt.DataType) -> bool:
    """Strings, including Parquet strings annotated as JSON."""
    return dtype.is_string() or dtype.is_json()


def _is_numeric(dtype: dt.DataType) -> bool:
    return dtype.is_decimal() or dtype.is_floating() or dtype.is_integer()


def _number(value: ir.Value) -> ir.NumericValue:
    """Any column as an exact decimal; text that does not parse becomes null."""
    return value.try_cast(NUMBER)  # type: ignore[return-value]


def _literal_number(value: object) -> Decimal:
    return Decimal(str(value))


def _equals(value: ir.Value, expected: object) -> ir.BooleanValue:
    """`value == expected`, numerically when the model's value is a number (`BilledCost = 0`)."""
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return _number(value) == _literal_number(expected)
    return value.cast("string") == str(expected)


def _blank(value: ir.Value) -> ir.BooleanValue:
    text = value.cast("string")
    return text.notnull() & (text.strip() == "")  # type: ignore[attr-defined,no-any-return]


def _unparsable_decimal(value: ir.Value) -> ir.BooleanValue:
    dtype = value.type()
    if dtype.is_floating():
        return value.isnan() | value.isinf()  # type: ignore[attr-defined,no-any-return]
    if _is_numeric(dtype):
        return _false()
    return value.notnull() & _number(value).isnull()


def _wrong_type(value: ir.Value) -> ir.BooleanValue:
    """Every non-null value of a column whose physical type is wrong is a violation."""
    return value.notnull()


def _column_name(spec: Spec, key: str = "ColumnName") -> str:
    if key not in spec:
        raise NotEvaluable("unsupported", f"malformed {spec.get('CheckFunction')} (no {key})")
    return str(spec[key])


# --- requirement violations ----------------------------------------------------------------------

Violation = Callable[[Spec, Dataset], ir.BooleanValue]


def _check_value(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec))
    expected = spec.get("Value")
    if expected is None:
        return value.notnull()
    return value.notnull() & ~_total(_equals(value, expected))


def _check_not_value(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec))
    expected = spec.get("Value")
    if expected is None:
        return value.isnull()
    return _equals(value, expected)


def _pair(spec: Spec, data: Dataset) -> tuple[ir.Value, ir.Value]:
    left = data.column(_column_name(spec, "ColumnAName"))
    right = data.column(_column_name(spec, "ColumnBName"))
    if left.type() != right.type():
        return left.cast("string"), right.cast("string")
    return left, right


def _check_same_value(spec: Spec, data: Dataset) -> ir.BooleanValue:
    left, right = _pair(spec, data)
    return left.notnull() & right.notnull() & (left != right)


def _check_not_same_value(spec: Spec, data: Dataset) -> ir.BooleanValue:
    left, right = _pair(spec, data)
    return left.notnull() & right.notnull() & (left == right)


def _check_greater_or_equal(spec: Spec, data: Dataset) -> ir.BooleanValue:
    number = _number(data.column(_column_name(spec)))
    return number.notnull() & (number < _literal_number(spec["Value"]))


def _column_by_column(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """`A × B` must equal `Result` exactly (rounded to the 12 decimals costrail keeps)."""
    left = _number(data.column(_column_name(spec, "ColumnAName")))
    right = _number(data.column(_column_name(spec, "ColumnBName")))
    result = _number(data.column(_column_name(spec, "ResultColumnName")))
    product = (left * right).round(12)  # type: ignore[operator]
    present = left.notnull() & right.notnull() & result.notnull()
    return present & (product != result)


def _check_decimal_value(spec: Spec, data: Dataset) -> ir.BooleanValue:
    return _unparsable_decimal(data.column(_column_name(spec)))


def _check_national_currency(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec)).cast("string")
    return value.notnull() & ~value.isin(sorted(national_currency_codes()))


def _type_string(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec))
    return _false() if _is_text(value.type()) else _wrong_type(value)


def _type_decimal(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec))
    if _is_numeric(value.type()):
        return _false()
    if data.text_encoded and _is_text(value.type()):
        return value.notnull() & _number(value).isnull()
    return _wrong_type(value)


def _type_datetime(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec))
    if value.type().is_timestamp():
        return _false()
    if data.text_encoded and _is_text(value.type()):
        return value.notnull() & value.try_cast(dt.Timestamp(timezone="UTC")).isnull()
    return _wrong_type(value)


def _format_datetime(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """Text must be `YYYY-MM-DDTHH:MM:SSZ`; a typed timestamp must carry a time zone (UTC)."""
    value = data.column(_column_name(spec))
    dtype = value.type()
    if dtype.is_timestamp():
        return _false() if dtype.timezone is not None else _wrong_type(value)  # type: ignore[attr-defined]
    if not _is_text(dtype):
        return _wrong_type(value)
    value = value.cast("string")
    parsed = value.try_cast(dt.Timestamp(timezone="UTC"))
    well_formed = value.re_search(DATETIME_TEXT) & parsed.notnull()  # type: ignore[attr-defined]
    return value.notnull() & ~_total(well_formed)


def _format_numeric(spec: Spec, data: Dataset) -> ir.BooleanValue:
    value = data.column(_column_name(spec))
    if _is_numeric(value.type()):
        return _unparsable_decimal(value)
    if not _is_text(value.type()):
        return _wrong_type(value)
    text = value.cast("string")
    return text.notnull() & ~_total(text.re_search(NUMERIC_TEXT))  # type: ignore[attr-defined]


def _format_string(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """StringHandling: valid Unicode (the loader refuses non-UTF-8 files) and no empty or
    whitespace-only placeholder for a missing value (NullHandling-A-002, StringHandling-A-007)."""
    return _blank(data.column(_column_name(spec)))


def _format_currency(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """CurrencyFormat allows ISO 4217 codes *and* virtual currencies (any proper string), so only
    blank values can be told apart as wrong; `CheckNationalCurrency` checks the ISO list."""
    return _blank(data.column(_column_name(spec)))


def _format_key_value(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """KeyValueFormat: a JSON object with unique keys whose values are not objects or arrays.

    A typed map column satisfies the same requirements by construction and is accepted.
    """
    value = data.column(_column_name(spec))
    if value.type().is_map():
        return _false()
    if not _is_text(value.type()):
        return _wrong_type(value)
    text = value.cast("string")
    valid = _total(_json_valid(text))
    is_object = _total(ibis.ifelse(valid, _json_type(text), ibis.null("string")) == "OBJECT")
    keys = ibis.ifelse(is_object, _json_keys(text), ibis.null(dt.Array(dt.string)))
    unique_keys = _total(keys.unique().length() == keys.length())  # type: ignore[attr-defined]
    members = ibis.ifelse(
        is_object, _json_member_types(text, "$.*"), ibis.null(dt.Array(dt.string))
    )
    nested = _total(members.contains("OBJECT") | members.contains("ARRAY"))  # type: ignore[attr-defined]
    return text.notnull() & ~(is_object & unique_keys & ~nested)


VIOLATIONS: dict[str, Violation] = {
    "CheckValue": _check_value,
    "CheckNotValue": _check_not_value,
    "CheckSameValue": _check_same_value,
    "CheckNotSameValue": _check_not_same_value,
    "CheckGreaterOrEqualThanValue": _check_greater_or_equal,
    "ColumnByColumnEqualsColumnValue": _column_by_column,
    "CheckDecimalValue": _check_decimal_value,
    "CheckNationalCurrency": _check_national_currency,
    "TypeString": _type_string,
    "TypeDecimal": _type_decimal,
    "TypeDateTime": _type_datetime,
    "FormatDateTime": _format_datetime,
    "FormatNumeric": _format_numeric,
    "FormatString": _format_string,
    "FormatCurrency": _format_currency,
    "FormatKeyValue": _format_key_value,
}


def violation(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """Rows that break `spec` (an AND breaks when any part breaks, an OR when every part does)."""
    name = str(spec.get("CheckFunction"))
    if name == "AND":
        return _any(violation(item, data) for item in spec["Items"])
    if name == "OR":
        return _all(violation(item, data) for item in spec["Items"])
    if name in UNSUPPORTED:
        raise NotEvaluable("unsupported", f"{name}: {UNSUPPORTED[name]}")
    handler = VIOLATIONS.get(name)
    if handler is None:
        raise NotEvaluable("unsupported", f"check function {name} is not implemented")
    return _total(handler(spec, data))


# --- conditions ----------------------------------------------------------------------------------


def holds(spec: Spec, data: Dataset) -> ir.BooleanValue:
    """Rows where a condition applies. `CheckNotValue(c, v)` holds when c is null or differs."""
    name = str(spec.get("CheckFunction"))
    if name == "AND":
        return _all(holds(item, data) for item in spec["Items"])
    if name == "OR":
        return _any(holds(item, data) for item in spec["Items"])
    if name in ("CheckValue", "CheckNotValue"):
        value = data.condition_column(_column_name(spec))
        expected = spec.get("Value")
        if value is None:
            matches: ir.BooleanValue = ibis.literal(expected is None)
        else:
            matches = value.isnull() if expected is None else _total(_equals(value, expected))
        return matches if name == "CheckValue" else ~matches
    if name in ("CheckSameValue", "CheckNotSameValue"):
        left = data.condition_column(_column_name(spec, "ColumnAName"))
        right = data.condition_column(_column_name(spec, "ColumnBName"))
        if left is None or right is None:
            return _false()
        left, right = left.cast("string"), right.cast("string")
        same = left == right if name == "CheckSameValue" else left != right
        return _total(left.notnull() & right.notnull() & same)
    if name == "CheckGreaterOrEqualThanValue":
        column = data.condition_column(_column_name(spec))
        if column is None:
            return _false()
        return _total(_number(column) >= _literal_number(spec["Value"]))
    raise NotEvaluable("unsupported", f"condition function {name} is not implemented")


def referenced_columns(spec: Spec) -> list[str]:
    """Column names a check-function tree reads, in order of appearance, without repeats."""
    names: list[str] = []
    for key in ("ColumnName", "ColumnAName", "ColumnBName", "ResultColumnName"):
        if key in spec and str(spec[key]) not in names:
            names.append(str(spec[key]))
    for item in spec.get("Items", ()):
        for name in referenced_columns(item):
            if name not in names:
                names.append(name)
    return names
