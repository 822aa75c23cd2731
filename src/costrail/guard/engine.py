"""The guard's one engine, shared by the SDK wrapper and the gateway: identify the caller,
reserve the worst-case cost and rate units atomically, then settle the real usage.

The order is the whole point. A check-then-record guard lets a hundred concurrent calls all
pass the check before any records its spend; here the check and the reservation are one
atomic store operation, so the sum of what is reserved and spent never passes a limit.
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

import anyio.to_thread

from costrail.errors import CostrailError
from costrail.guard.config import Budget, GuardSection
from costrail.guard.state import (
    BudgetBucket,
    GuardStore,
    RateCharge,
    nano_to_usd,
    new_id,
    usd_to_nano,
)
from costrail.llm.usage import TokenUsage

#: how long a finished period's counters are kept after its end (for inspection)
_FORGET_MARGIN = timedelta(days=7)


class PriceBook(Protocol):
    """What the engine needs from `costrail.pricing.llm.LlmPrices`."""

    def cost_usd(
        self, provider: str | None, model: str, usage: TokenUsage, *, batch: bool = False
    ) -> Decimal: ...

    def worst_case_usd(
        self, provider: str | None, model: str, *, input_tokens: int, max_output_tokens: int
    ) -> Decimal: ...


class _ModelPrice(Protocol):
    def cost_usd(self, usage: TokenUsage, *, batch: bool = False) -> Decimal: ...

    def worst_case_usd(self, *, input_tokens: int, max_output_tokens: int) -> Decimal: ...


class _Catalog(Protocol):
    def lookup(self, provider: str | None, model: str) -> _ModelPrice: ...


class _MemoisedPrices:
    """A catalog's per-model price looked up once per (provider, model), not twice per call:
    the lookup (aliases, name variants, overrides) cost more than the pricing arithmetic.
    The catalog is loaded once per process, so a memo cannot go stale within it."""

    def __init__(self, catalog: _Catalog) -> None:
        self._catalog = catalog
        self._prices: dict[tuple[str | None, str], _ModelPrice] = {}

    def _price(self, provider: str | None, model: str) -> _ModelPrice:
        key = (provider, model)
        price = self._prices.get(key)
        if price is None:  # an unknown model raises here each time, as it should
            price = self._catalog.lookup(provider, model)
            self._prices[key] = price
        return price

    def cost_usd(
        self, provider: str | None, model: str, usage: TokenUsage, *, batch: bool = False
    ) -> Decimal:
        return self._price(provider, model).cost_usd(usage, batch=batch)

    def worst_case_usd(
        self, provider: str | None, model: str, *, input_tokens: int, max_output_tokens: int
    ) -> Decimal:
        return self._price(provider, model).worst_case_usd(
            input_tokens=input_tokens, max_output_tokens=max_output_tokens
        )


class Refused(CostrailError):
    """A budget or rate limit said no; the wire layers turn this into the provider's error."""

    def __init__(
        self,
        reason: Literal["budget", "rate", "unpriced", "auth"],
        message: str,
        retry_after_s: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Identity:
    """Who is calling: a key alias (or a hash of an unlisted key, never the secret) and tags."""

    api_key: str = ""
    user: str = ""
    team: str = ""
    feature: str = ""

    def value(self, scope: str) -> str:
        return (
            "*" if scope == "global" else str(getattr(self, scope if scope != "key" else "api_key"))
        )


@dataclass(frozen=True)
class GuardCall:
    """One upstream call as the engine sees it: bounded tokens, nothing of the prompt."""

    provider: str
    model: str
    operation: str
    input_tokens_max: int
    output_tokens_max: int
    identity: Identity
    #: fallback (provider, model) targets: the reservation covers the dearest of them all
    alternatives: tuple[tuple[str, str], ...] = ()


@dataclass
class Admission:
    call: GuardCall
    reservation_id: str
    buckets: list[BudgetBucket]
    tpm_charges: list[RateCharge]
    worst_case_usd: Decimal | None
    reserve_nano: int
    started_s: float = field(default_factory=time.perf_counter)
    done: bool = False


@dataclass(frozen=True)
class Settlement:
    cost_usd: Decimal | None
    #: "catalog", "worst_case" (no usage came back) or "unpriced"
    cost_source: str
    usage: TokenUsage | None


class GuardEngine:
    """Budgets, rate limits and pricing over one state store."""

    def __init__(
        self,
        settings: GuardSection,
        store: GuardStore,
        prices: PriceBook,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.prices: PriceBook = (
            _MemoisedPrices(prices) if hasattr(prices, "lookup") else prices  # type: ignore[arg-type]
        )
        self.clock = clock
        #: counted events for /metrics and warnings (refusals, unpriced models, …)
        self.counters: Counter[str] = Counter()
        self._keys = {key.resolved_key(): key for key in settings.keys if key.resolved_key()}

    def identify(self, headers: Mapping[str, str]) -> Identity:
        """The caller from its API key (`Authorization: Bearer` or `x-api-key`) and the
        `x-costrail-user/-team/-feature` headers (headers override the key's defaults)."""
        secret = _bearer(headers)
        listed = self._keys.get(secret) if secret else None
        if listed is None and self.settings.require_key:
            raise Refused("auth", "costrail: this API key is not allowed through the gateway")
        if listed is not None:
            alias, user, team, feature = listed.alias, listed.user, listed.team, listed.feature
        else:
            alias = "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else ""
            user = team = feature = None
        return Identity(
            api_key=alias,
            user=headers.get("x-costrail-user") or user or "",
            team=headers.get("x-costrail-team") or team or "",
            feature=headers.get("x-costrail-feature") or feature or "",
        )

    def admit(self, call: GuardCall) -> Admission:
        """Reserve the call's worst case in every budget that applies, and charge its rate
        limits, atomically; raise `Refused` (and change nothing) if any would be exceeded."""
        now_s = self.clock()
        buckets = self._buckets(call.identity, now_s)
        worst_usd = self._worst_case(call, priced_required=bool(buckets))
        reserve_nano = usd_to_nano(worst_usd) if worst_usd is not None else 0
        rpm, tpm = self._rate_charges(call)
        admission = Admission(call, new_id(), buckets, tpm, worst_usd, reserve_nano)
        if not buckets and not rpm and not tpm:
            self.counters["admitted"] += 1
            return admission
        decision = self.store.admit(
            admission.reservation_id,
            buckets,
            reserve_nano,
            rpm + tpm,
            now_s,
            self.settings.reservation_lease_s,
        )
        if not decision.admitted:
            self.counters[f"refused_{decision.reason}"] += 1
            raise _refusal(decision.reason, decision.refused_by, decision.retry_after_s)
        self.counters["admitted"] += 1
        return admission

    def settle(self, admission: Admission, usage: TokenUsage | None) -> Settlement:
        """Charge the real cost (or the worst case when usage never came) and release the rest."""
        if admission.done:
            raise RuntimeError("admission settled twice")
        admission.done = True
        call = admission.call
        if usage is None:
            self.counters["settled_without_usage"] += 1
            settlement = Settlement(admission.worst_case_usd, "worst_case", None)
            actual_nano = admission.reserve_nano
            used_tokens = call.input_tokens_max + call.output_tokens_max
        else:
            settlement = self._price(call, usage)
            actual_nano = usd_to_nano(settlement.cost_usd) if settlement.cost_usd else 0
            used_tokens = usage.input_tokens + usage.output_tokens
            if actual_nano > admission.reserve_nano and admission.buckets:
                self.counters["bound_exceeded"] += 1
        self._finish(admission, actual_nano, used_tokens)
        return settlement

    def release(self, admission: Admission) -> None:
        """The call failed before any tokens were produced: give the whole reservation back."""
        if admission.done:
            return
        admission.done = True
        self.counters["released"] += 1
        self._finish(admission, 0, 0)

    # A store whose operations are short local transactions (`inline = True`: SQLite) runs
    # them on the event loop: a worker-thread hop costs more than the transaction itself.
    # A networked store (Redis) runs them in a worker thread so a slow round trip cannot
    # stall other requests.

    async def aadmit(self, call: GuardCall) -> Admission:
        if getattr(self.store, "inline", False):
            return self.admit(call)
        return await anyio.to_thread.run_sync(self.admit, call)

    async def asettle(self, admission: Admission, usage: TokenUsage | None) -> Settlement:
        if getattr(self.store, "inline", False):
            return self.settle(admission, usage)
        return await anyio.to_thread.run_sync(self.settle, admission, usage)

    async def arelease(self, admission: Admission) -> None:
        if getattr(self.store, "inline", False):
            self.release(admission)
            return
        await anyio.to_thread.run_sync(self.release, admission)

    def spent_usd(self, bucket_key: str) -> tuple[Decimal, Decimal]:
        """(spent, reserved) of one budget bucket, for tests, metrics and `/healthz`."""
        state = self.store.bucket(bucket_key, self.clock())
        return nano_to_usd(state.spent_nano), nano_to_usd(state.reserved_nano)

    def bucket_keys(self, identity: Identity) -> list[str]:
        return [bucket.key for bucket in self._buckets(identity, self.clock())]

    def _finish(self, admission: Admission, actual_nano: int, used_tokens: int) -> None:
        if not admission.buckets and not admission.tpm_charges:
            return
        refunds = [
            RateCharge(c.key, c.limit_per_min, max(0, c.amount - used_tokens))
            for c in admission.tpm_charges
        ]
        self.store.settle(
            admission.reservation_id, admission.buckets, actual_nano, refunds, self.clock()
        )

    def _price(self, call: GuardCall, usage: TokenUsage) -> Settlement:
        try:
            cost = self.prices.cost_usd(call.provider, call.model, usage)
        except CostrailError:
            self.counters["unpriced"] += 1
            return Settlement(None, "unpriced", usage)
        return Settlement(cost, "catalog", usage)

    def _worst_case(self, call: GuardCall, priced_required: bool) -> Decimal | None:
        try:
            return max(
                self.prices.worst_case_usd(
                    provider,
                    model,
                    input_tokens=call.input_tokens_max,
                    max_output_tokens=call.output_tokens_max,
                )
                for provider, model in ((call.provider, call.model), *call.alternatives)
            )
        except CostrailError as error:
            self.counters["unpriced"] += 1
            if priced_required:
                self.counters["refused_unpriced"] += 1
                raise Refused(
                    "unpriced",
                    f"costrail: no price for {call.provider}/{call.model}, so its cost cannot be "
                    f"bounded under the budget ({error}); add it under prices overrides",
                ) from None
            return None

    def _buckets(self, identity: Identity, now_s: float) -> list[BudgetBucket]:
        now = datetime.fromtimestamp(now_s, UTC)
        buckets: list[BudgetBucket] = []
        for index, budget in enumerate(self.settings.budgets):
            value = identity.value(budget.scope)
            if budget.match not in ("*", value):
                continue
            window = _period(budget, now)
            if window is None:
                continue
            start, end = window
            key = f"{index}:{budget.scope}={value}@{start.strftime('%Y-%m-%dT%H:%M')}"
            forget_at_s = (end + _FORGET_MARGIN).timestamp()
            buckets.append(BudgetBucket(key, usd_to_nano(budget.amount_usd), forget_at_s))
        return buckets

    def _rate_charges(self, call: GuardCall) -> tuple[list[RateCharge], list[RateCharge]]:
        rpm: list[RateCharge] = []
        tpm: list[RateCharge] = []
        tokens_max = call.input_tokens_max + call.output_tokens_max
        for index, limit in enumerate(self.settings.rate_limits):
            value = call.identity.value(limit.scope)
            if limit.match not in ("*", value):
                continue
            if limit.rpm:
                rpm.append(RateCharge(f"{index}:rpm:{limit.scope}={value}", limit.rpm, 1))
            if limit.tpm:
                tpm.append(RateCharge(f"{index}:tpm:{limit.scope}={value}", limit.tpm, tokens_max))
        return rpm, tpm


def _period(budget: Budget, now: datetime) -> tuple[datetime, datetime] | None:
    """The UTC window of `budget` containing `now` (None: a custom window not open now)."""
    if budget.period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    if budget.period == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        days = calendar.monthrange(start.year, start.month)[1]
        return start, start + timedelta(days=days)
    assert budget.starts_at is not None and budget.ends_at is not None
    start, end = _utc(budget.starts_at), _utc(budget.ends_at)
    return (start, end) if start <= now < end else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _bearer(headers: Mapping[str, str]) -> str:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return headers.get("x-api-key", "").strip()


def _refusal(reason: str, refused_by: str, retry_after_s: float) -> Refused:
    if reason == "budget":
        return Refused(
            "budget",
            f"costrail: budget {refused_by} would be exceeded by this request's worst case",
        )
    return Refused(
        "rate",
        f"costrail: rate limit {refused_by} reached; retry in {retry_after_s:.1f} s",
        retry_after_s,
    )


def row_identity(identity: Identity) -> dict[str, Any]:
    return {
        "api_key": identity.api_key or None,
        "user": identity.user or None,
        "team": identity.team or None,
        "feature": identity.feature or None,
    }
