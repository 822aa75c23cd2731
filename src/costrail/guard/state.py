"""What the engine asks of a state store, so SQLite and Redis are interchangeable.

Money is held as whole nano-dollars (1e-9 USD) in integers, rounded up when charged, because
both stores do exact integer arithmetic and a float budget would drift. Rate limits use GCRA
(a "theoretical arrival time" per key): one number per key, atomic to update, and a request's
token charge can be refunded once the real usage is known.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Literal, Protocol

NANO_PER_USD = 1_000_000_000
_PROCESS_TAG = secrets.token_hex(8)
_sequence = itertools.count()


def new_id() -> str:
    """A unique id without a system call per request (`uuid4` reads the OS entropy pool each
    time, which costs a measurable share of the gateway's budget): a random per-process tag
    and a counter."""
    return f"{_PROCESS_TAG}{next(_sequence):012x}"


RATE_WINDOW_S = 60.0


def usd_to_nano(amount_usd: Decimal) -> int:
    """Whole nano-dollars, rounded up: a charge is never under-counted."""
    return int((amount_usd * NANO_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def nano_to_usd(amount_nano: int) -> Decimal:
    return Decimal(amount_nano) / NANO_PER_USD


@dataclass(frozen=True)
class BudgetBucket:
    """One budget for one scope value in one period: `key` names all three."""

    key: str
    limit_nano: int
    #: when the store may forget the bucket (the period's end, plus a margin), epoch seconds
    forget_at_s: float


@dataclass(frozen=True)
class RateCharge:
    """`amount` units (1 request, or n tokens) against `limit_per_min` on `key`."""

    key: str
    limit_per_min: int
    amount: int


@dataclass(frozen=True)
class Decision:
    admitted: bool
    reason: Literal["ok", "budget", "rate"] = "ok"
    #: the budget bucket or rate key that refused
    refused_by: str = ""
    retry_after_s: float = 0.0


@dataclass(frozen=True)
class BucketState:
    spent_nano: int
    reserved_nano: int


class GuardStore(Protocol):
    """Atomic budget reservations and rate limits; each method is one transaction or script."""

    def admit(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        reserve_nano: int,
        rates: list[RateCharge],
        now_s: float,
        lease_s: float,
    ) -> Decision:
        """Reserve `reserve_nano` in every bucket and charge every rate, or change nothing:
        admitted only if each bucket keeps `spent + reserved + reserve <= limit` (reservations
        past their lease no longer count) and each rate stays within its minute."""
        ...

    def settle(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        actual_nano: int,
        refunds: list[RateCharge],
        now_s: float,
    ) -> None:
        """Drop the reservation, add the actual cost to `spent` (even when the lease has run
        out: the call happened), and give back unused rate units."""
        ...

    def bucket(self, key: str, now_s: float) -> BucketState: ...

    def close(self) -> None: ...


def gcra_next(tat_s: float | None, now_s: float, charge: RateCharge) -> tuple[bool, float, float]:
    """(allowed, new theoretical arrival time, retry-after seconds) for one GCRA step."""
    interval_s = RATE_WINDOW_S / charge.limit_per_min
    start_s = now_s if tat_s is None or tat_s < now_s else tat_s
    new_tat_s = start_s + charge.amount * interval_s
    excess_s = new_tat_s - now_s - RATE_WINDOW_S
    if excess_s > 1e-3:
        return False, tat_s if tat_s is not None else now_s, excess_s
    return True, new_tat_s, 0.0
