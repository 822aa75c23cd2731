"""Exact fixed-point helpers: half-up rounding, big sums, decimal text and DOUBLE safety."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from costrail.demo.money import (
    E10,
    check_double_exact,
    decimal_strings,
    exact_sum,
    scaled_product,
    to_units,
    units_to_double,
)


def test_scaled_product_rounds_half_up_to_the_unit() -> None:
    # 1 second of a $21.957642/h instance is 0.00609934500 → 0.0060993450 at 1e-10.
    rate = to_units(Decimal("21.957642"), E10)
    assert scaled_product(np.array([1, 1800, 3600]), rate, 3600).tolist() == [
        60993450,
        109788210000,
        219576420000,
    ]
    assert scaled_product(np.array([1]), 5, 10).tolist() == [1]  # 0.5 rounds up


def test_scaled_product_refuses_an_overflowing_product() -> None:
    with pytest.raises(OverflowError):
        scaled_product(np.array([10**12]), 10**12, 1)


def test_exact_sum_does_not_overflow_int64() -> None:
    values = np.full(4, 4 * 10**18, dtype=np.int64)
    assert exact_sum(values) == 16 * 10**18


def test_decimal_strings_are_plain_exact_decimals() -> None:
    texts = decimal_strings(np.array([0, 15, -15, 123456789, 10**10]), E10).to_pylist()
    assert texts == ["0", "0.0000000015", "-0.0000000015", "0.0123456789", "1"]


def test_doubles_print_back_as_the_exact_decimal() -> None:
    units = np.array([219576420000, 7, 999999999999999, -123456789012])
    assert [repr(float(v)) for v in units_to_double(units, E10)] == [
        "21.957642",
        "7e-10",
        "99999.9999999999",
        "-12.3456789012",
    ]


def test_more_than_15_significant_digits_cannot_be_a_double() -> None:
    check_double_exact(np.array([6764681500000000]), E10)  # 676468.15: trailing zeros are fine
    with pytest.raises(OverflowError):
        check_double_exact(np.array([1234567890123456]), E10)
