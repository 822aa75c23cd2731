"""Bill-level CUR lines that depend on everything else: the last promotional credits, and tax.

Both are computed from the exact integer costs of the usage batches, per (usage account,
product code), so they stay exact however many rows the demo is scaled to.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np

from costrail.demo.aws_lines import CurBatch, Template
from costrail.demo.company import AWS_ACCOUNT_NAMES
from costrail.demo.money import E10, to_units
from costrail.demo.timeline import IntArray, Timeline

#: A flat sales-tax rate on every product (the real rate depends on the billing address).
TAX_RATE = Decimal("0.06")
#: AWS Activate credit left on the first day of the first period; it runs out within days.
CREDIT_BALANCE = Decimal("18500")
_CENT_E10 = E10 // 100


def _keys(batches: list[CurBatch]) -> tuple[list[tuple[str, str]], IntArray]:
    """Distinct (account, product code) pairs and the key index of every batch."""
    keys: dict[tuple[str, str], int] = {}
    index = []
    for batch in batches:
        key = (
            batch.template["line_item_usage_account_id"],
            batch.template["line_item_product_code"],
        )
        index.append(keys.setdefault(key, len(keys)))
    return list(keys), np.asarray(index, dtype=np.int64)


def _grouped_costs(
    batches: list[CurBatch],
    key_index: IntArray,
    buckets: int,
    bucket_of: Callable[[IntArray], IntArray],
) -> IntArray:
    """Exact int64 sums of cost per (key, bucket) where bucket_of(start_hours) names the bucket."""
    totals = np.zeros((int(key_index.max()) + 1 if key_index.size else 1, buckets), dtype=np.int64)
    for batch, key in zip(batches, key_index, strict=True):
        if len(batch) == 0:
            continue
        np.add.at(totals[key], bucket_of(batch.start_hour), batch.cost_e10)
    return totals


def _bill_line(account: str, product_code: str, line_type: str, description: str) -> Template:
    return {
        "line_item_usage_account_id": account,
        "line_item_usage_account_name": AWS_ACCOUNT_NAMES[account],
        "line_item_product_code": product_code,
        "line_item_line_item_type": line_type,
        "line_item_line_item_description": description,
        "product_servicecode": product_code,
        "resource_tags": (),
        "product": (),
    }


def activate_credits(timeline: Timeline, usage: list[CurBatch]) -> list[CurBatch]:
    """Daily `Credit` lines that absorb Usage cost until the remaining credit balance is spent."""
    eligible = [b for b in usage if b.template["line_item_line_item_type"] == "Usage"]
    keys, key_index = _keys(eligible)
    daily = _grouped_costs(eligible, key_index, timeline.days, lambda hours: hours // 24)
    remaining = to_units(CREDIT_BALANCE, E10)
    batches: list[CurBatch] = []
    for day in range(timeline.days):
        for key_number, (account, product_code) in enumerate(keys):
            if remaining <= 0:
                return batches
            amount = min(remaining, int(daily[key_number, day]))
            if amount <= 0:
                continue
            remaining -= amount
            template = _bill_line(account, product_code, "Credit", "AWS Activate Credits")
            batches.append(_single_row(template, day * 24, 24, -amount))
    return batches


def sales_tax(timeline: Timeline, lines: list[CurBatch]) -> list[CurBatch]:
    """Monthly `Tax` lines: TAX_RATE of each (account, product)'s net cost, rounded to cents."""
    keys, key_index = _keys(lines)
    monthly = _grouped_costs(lines, key_index, len(timeline.periods), timeline.period_of_hours)
    rate_percent = int(TAX_RATE * 100)
    batches: list[CurBatch] = []
    for period_index in range(len(timeline.periods)):
        start = int(timeline.period_start_hours[period_index])
        span = timeline.hours_in_period(period_index)
        for key_number, (account, product_code) in enumerate(keys):
            base = int(monthly[key_number, period_index])
            if base <= 0:
                continue
            cents = (base * rate_percent + 50 * _CENT_E10) // (100 * _CENT_E10)
            template = _bill_line(
                account, product_code, "Tax", f"Tax for product code {product_code}"
            )
            template["line_item_tax_type"] = "Sales Tax"
            batches.append(_single_row(template, start, span, cents * _CENT_E10))
    return batches


def _single_row(template: Template, start_hour: int, span_hours: int, cost_e10: int) -> CurBatch:
    return CurBatch(
        template=template,
        start_hour=np.array([start_hour], dtype=np.int64),
        span_hours=np.array([span_hours], dtype=np.int64),
        usage_amount=np.zeros(1),
        cost_e10=np.array([cost_e10], dtype=np.int64),
    )
