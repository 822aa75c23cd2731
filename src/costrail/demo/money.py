"""Exact fixed-point money for the demo: integer units, half-up rounding, decimal text.

Every amount the demo writes is first an integer count of a small unit (1e-10 USD for AWS, which
quotes up to 10 decimals; 1e-6 USD for GCP; 1e-10 USD for Azure). Totals are sums of those
integers, so the ground truth is exact, and the text or DOUBLE written to a file is derived from
the same integer.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]

#: AWS CUR costs are rounded to 10 decimals.
E10 = 10**10
#: GCP billing export costs are in micro-dollars.
E6 = 10**6
_INT64_MAX = np.iinfo(np.int64).max


def to_units(value: Decimal | str | int, scale: int) -> int:
    """`value` as an integer count of 1/`scale`; raises if it has more decimals than the scale."""
    scaled = Decimal(value) * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more decimals than 1/{scale}")
    return int(scaled)


def units_to_decimal(units: int, scale: int) -> Decimal:
    """The exact decimal for `units` of 1/`scale` (scale must be a power of ten)."""
    digits = len(str(scale)) - 1
    return Decimal(units).scaleb(-digits) if units else Decimal(0)


def decimal_text(units: int, scale: int) -> str:
    """Plain decimal text without exponent or trailing zeros (e.g. '1234.5', '0', '-0.0001')."""
    value = units_to_decimal(units, scale)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def scaled_product(
    quantity: IntArray, rate_units: int | IntArray, divisor: int | IntArray
) -> IntArray:
    """round_half_up(quantity × rate / divisor) per element, in exact integer arithmetic.

    `quantity` and `rate_units` must be non-negative; the caller picks units so that the product
    fits in 63 bits (checked here, so an overflow is a loud error, never a wrong total).
    """
    quantity = np.asarray(quantity, dtype=np.int64)
    rate = np.asarray(rate_units, dtype=np.int64)
    if quantity.size == 0:
        return np.zeros(0, dtype=np.int64)
    if (quantity < 0).any() or (rate < 0).any():
        raise ValueError("scaled_product takes non-negative quantities and rates")
    largest = int(quantity.max()) * int(rate.max())
    if largest >= _INT64_MAX // 2:
        raise OverflowError(f"quantity × rate reaches {largest}; choose smaller units")
    product = quantity * rate
    divisor_array = np.asarray(divisor, dtype=np.int64)
    return np.asarray((product + divisor_array // 2) // divisor_array, dtype=np.int64)


def exact_sum(values: IntArray) -> int:
    """Sum of int64 units as a Python int, without int64 overflow however many rows there are."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return 0
    largest = max(int(np.abs(values).max()), 1)
    chunk = max(1, (_INT64_MAX // 2) // largest)
    return sum(int(values[i : i + chunk].sum()) for i in range(0, values.size, chunk))


def decimal_strings(units: IntArray, scale: int) -> pa.StringArray:
    """Vectorised `decimal_text` for a whole column (CSV cells and JSON numbers)."""
    digits = len(str(scale)) - 1
    values = np.asarray(units, dtype=np.int64)
    magnitude = np.abs(values)
    whole = pc.cast(pa.array(magnitude // scale), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % scale), pa.string()), digits, "0")
    fraction = pc.utf8_rtrim(fraction, "0")
    with_point = pc.binary_join_element_wise(whole, fraction, ".")
    text = pc.if_else(pc.equal(pc.utf8_length(fraction), 0), whole, with_point)
    signed = pc.binary_join_element_wise(pa.scalar("-"), text, "")
    return pc.if_else(pa.array(values < 0), signed, text)  # type: ignore[no-any-return]


def units_to_double(units: IntArray, scale: int) -> npt.NDArray[np.float64]:
    """Units → the nearest double, which prints back (shortest repr) as the exact decimal.

    Holds while a value has at most 15 significant digits; `check_double_exact` enforces it.
    """
    check_double_exact(units, scale)
    return np.asarray(units, dtype=np.int64) / float(scale)


def check_double_exact(units: IntArray, scale: int) -> None:
    """Raise if a value has more than 15 significant digits (a DOUBLE could not hold it exactly).

    Large values are fine when their trailing digits are zeros (a tax line rounded to cents).
    """
    magnitude = np.abs(np.asarray(units, dtype=np.int64))
    large = magnitude[magnitude >= 10**15]
    if large.size == 0:
        return
    digits = np.floor(np.log10(large.astype(np.float64))).astype(np.int64) + 1
    unit_of_last_digit = np.power(10, np.maximum(digits - 15, 0)).astype(np.int64)
    inexact = large % unit_of_last_digit != 0
    if inexact.any():
        raise OverflowError(
            f"amount {int(large[inexact][0])}/{scale} has more than 15 significant digits"
        )
