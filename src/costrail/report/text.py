"""Display formatting for the HTML and Markdown renderers (money is rounded to cents only here)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def usd(amount: Decimal) -> str:
    """`$1,234.57` (half-up to the cent); negative amounts as `-$12.00`."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def cents(amount: Decimal) -> str:
    """The amount rounded to the cent as plain decimal text (what charts plot)."""
    return format(amount.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def pct(value: Decimal | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f} %" if signed else f"{value:.1f} %"


def day(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d")


def plain(value: Any) -> str:
    """A scalar as text; containers as compact JSON (Decimals as exact strings)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=_default, sort_keys=True)
    return str(value)


def _default(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
