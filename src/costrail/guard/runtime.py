"""`Guard`: the engine, cache and recorder together, built from costrail.yaml or in code."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costrail.config import load_config
from costrail.guard.cache import ResponseCache
from costrail.guard.config import GuardSection
from costrail.guard.engine import Admission, GuardCall, GuardEngine, Identity, PriceBook, Settlement
from costrail.guard.protocol import Operation, cap_request, usage_from_response
from costrail.guard.recorder import (
    CallOutcome,
    Recorder,
    Sink,
    WriterProcess,
    build_row,
    warehouse_sink,
)
from costrail.guard.state import GuardStore


def open_store(settings: GuardSection, base_dir: Path | None = None) -> GuardStore:
    if settings.store.kind == "redis":
        from costrail.guard.store_redis import RedisStore

        return RedisStore(settings.store.url)
    from costrail.guard.store_sqlite import SqliteStore

    path = Path(settings.store.path)
    return SqliteStore(path if path.is_absolute() or base_dir is None else base_dir / path)


@dataclass
class Prepared:
    """A guarded call ready to send: the capped body and what the engine was told."""

    operation: Operation
    body: dict[str, Any]
    call: GuardCall
    started_s: float
    #: the caller's request bytes when the guard left the body unchanged (sent as they are)
    raw: bytes | None = None

    @property
    def content(self) -> bytes:
        """The body to send upstream: the caller's own bytes unless the guard edited it."""
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, separators=(",", ":")).encode()

    @property
    def streamed(self) -> bool:
        return self.body.get("stream") is True


class Guard:
    """Shared by `wrap()` and the gateway: same budgets, limits, cache and records."""

    def __init__(
        self,
        settings: GuardSection,
        *,
        store: GuardStore | None = None,
        prices: PriceBook | None = None,
        sink: Sink | None = None,
        source: str = "sdk",
        warehouse_url: str | None = None,
    ) -> None:
        if prices is None:
            from costrail.pricing.llm import LlmPrices

            prices = LlmPrices.load()
        self.settings = settings
        self.engine = GuardEngine(settings, store or open_store(settings), prices)
        self.cache = ResponseCache(settings.cache)
        self.source = source
        if sink is None:
            url = settings.warehouse or warehouse_url
            use_process = settings.recorder_process
            if use_process is None:
                use_process = source == "gateway"
            sink = WriterProcess(url, prices) if use_process else warehouse_sink(url, prices)
        self.recorder = Recorder(sink, settings.recorder_batch_size, settings.recorder_interval_s)

    @classmethod
    def from_config(cls, path: str | Path | None = None, **options: Any) -> Guard:
        """The guard of costrail.yaml, priced with its `llm_prices` section (catalog file,
        aliases and negotiated overrides) unless `prices` is given."""
        config = load_config(path)
        if "prices" not in options:
            from costrail.pricing.llm import LlmPrices

            options["prices"] = LlmPrices.load(config=config)
        return cls(config.section("guard", GuardSection), warehouse_url=config.warehouse, **options)

    def prepare(
        self,
        operation: Operation,
        body: dict[str, Any],
        identity: Identity,
        provider: str,
        model: str | None = None,
        *,
        raw: bytes | None = None,
    ) -> Prepared:
        """Bound and cap `body` (parsed from `raw`, the request bytes, when given)."""
        bounds = cap_request(operation, body, self.settings.default_max_tokens)
        call = GuardCall(
            provider=provider,
            model=model or str(body.get("model", "")),
            operation=operation.name,
            input_tokens_max=bounds.input_tokens_max,
            output_tokens_max=bounds.output_tokens_max,
            identity=identity,
        )
        kept = raw if raw is not None and not bounds.changed else None
        return Prepared(operation, body, call, time.perf_counter(), kept)

    def settle_json(self, admission: Admission, operation: Operation, payload: bytes) -> Settlement:
        """Settle a non-streamed response from its usage object (worst case if it has none)."""
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        usage = usage_from_response(operation, parsed) if isinstance(parsed, dict) else None
        return self.engine.settle(admission, usage)

    async def asettle_json(
        self, admission: Admission, operation: Operation, payload: bytes
    ) -> Settlement:
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        usage = usage_from_response(operation, parsed) if isinstance(parsed, dict) else None
        return await self.engine.asettle(admission, usage)

    def record(
        self,
        prepared: Prepared,
        *,
        status: str,
        http_status: int,
        settlement: Settlement | None,
        call: GuardCall | None = None,
    ) -> None:
        outcome = CallOutcome(
            status=status,
            http_status=http_status,
            streamed=prepared.streamed,
            latency_ms=(time.perf_counter() - prepared.started_s) * 1000.0,
            settlement=settlement,
        )
        # the row (prefix hashes included) is built on the recorder's thread
        self.recorder.record_later(
            functools.partial(
                build_row,
                call or prepared.call,
                prepared.body,
                outcome,
                source=self.source,
                store_prompts=self.settings.privacy.store_prompts,
                at=datetime.now(UTC),
            )
        )

    def close(self) -> None:
        self.recorder.close()
        self.engine.store.close()

    def identify(self, headers: Mapping[str, str]) -> Identity:
        return self.engine.identify(headers)
