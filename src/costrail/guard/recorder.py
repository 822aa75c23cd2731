"""One `llm_requests` row per guarded call, written in batches by a background thread so the
request path only appends to a queue; `close()` flushes what is left (gateway shutdown)."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.queues
import os
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from costrail.guard.engine import GuardCall, Settlement, row_identity
from costrail.guard.state import new_id
from costrail.llm.prefix import prefix_hashes

Row = dict[str, Any]
Sink = Callable[[Sequence[Mapping[str, Any]]], object]
log = logging.getLogger(__name__)
#: how often the writer process checks that the gateway is still there
_PARENT_CHECK_S = 5.0


@dataclass(frozen=True)
class CallOutcome:
    """What happened to one call, in the terms of an `llm_requests` row."""

    status: str
    http_status: int
    streamed: bool
    latency_ms: float
    settlement: Settlement | None


def build_row(
    call: GuardCall,
    body: Mapping[str, Any],
    outcome: CallOutcome,
    *,
    source: str,
    store_prompts: bool,
    request_id: str | None = None,
    at: datetime | None = None,
) -> Row:
    """The row for one call: tokens and cost from the settlement, prefix hashes of the prompt
    (never its text unless `store_prompts`), identity from the engine; `at` is when the call
    ended (default: now)."""
    settlement = outcome.settlement
    usage = settlement.usage if settlement else None
    try:
        hashes, prefix_tokens = prefix_hashes(dict(body), provider=call.provider, model=call.model)
    except (TypeError, ValueError, AttributeError):
        hashes, prefix_tokens = [], []
    cost: Decimal | None = settlement.cost_usd if settlement else None
    cost_source = settlement.cost_source if settlement else "catalog"
    row: Row = {
        "time": at or datetime.now(UTC),
        "request_id": request_id or new_id(),
        "provider": call.provider,
        "model": call.model,
        "operation": call.operation,
        "input_tokens": usage.input_tokens if usage else 0,
        "cached_input_tokens": usage.cached_input_tokens if usage else 0,
        "cache_write_tokens": usage.cache_write_tokens if usage else 0,
        "cache_write_1h_tokens": usage.cache_write_1h_tokens if usage else 0,
        "output_tokens": usage.output_tokens if usage else 0,
        "reasoning_tokens": usage.reasoning_tokens if usage else 0,
        "batch": False,
        "streamed": outcome.streamed,
        "latency_ms": outcome.latency_ms,
        "status": outcome.status,
        "http_status": outcome.http_status,
        # a refused or failed call costs nothing; "worst_case" is a guard-only label
        "cost_usd": cost if cost is not None else (Decimal(0) if settlement is None else None),
        "cost_source": "catalog" if cost_source == "worst_case" else cost_source,
        "prefix_hashes": hashes,
        "prefix_tokens": prefix_tokens,
        "prompt_text": _prompt_text(body) if store_prompts else None,
        "source": source,
        **row_identity(call.identity),
    }
    if cost_source == "unpriced":
        row["cost_usd"] = None
    return row


def _prompt_text(body: Mapping[str, Any]) -> str:
    import json

    prompt = {k: body[k] for k in ("system", "messages", "input", "instructions") if k in body}
    return json.dumps(prompt, ensure_ascii=False)


class Recorder:
    """Rows pile up in a deque; a daemon thread hands them to `sink` every `interval_s` (or
    as soon as `batch_size` are waiting).

    Why not a `queue.Queue`: its `put` notifies the waiting thread on every row, and that
    wake-up (and the GIL hand-over it asks for) lands on the request path of every call. A
    deque append takes no lock, and the thread wakes once per batch. Rows given as a
    zero-argument callable (`record_later`) are built on the thread, so prefix hashing and
    row assembly stay off the request path too.
    """

    def __init__(self, sink: Sink, batch_size: int = 200, interval_s: float = 1.0) -> None:
        self._sink = sink
        self._batch_size = batch_size
        self._interval_s = interval_s
        self._pending: deque[Row | Callable[[], Row]] = deque()
        self._wake = threading.Event()
        self._closing = False
        self.rows_written = 0
        self.write_errors = 0
        self._thread = threading.Thread(target=self._run, name="costrail-recorder", daemon=True)
        self._thread.start()

    def record(self, row: Row) -> None:
        self._enqueue(row)

    def record_later(self, build: Callable[[], Row]) -> None:
        """Queue a row that the recorder thread builds by calling `build()`."""
        self._enqueue(build)

    def _enqueue(self, item: Row | Callable[[], Row]) -> None:
        self._pending.append(item)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def close(self) -> None:
        """Flush every queued row and stop the thread (idempotent)."""
        if self._thread.is_alive():
            self._closing = True
            self._wake.set()
            self._thread.join()
            close_sink = getattr(self._sink, "close", None)
            if callable(close_sink):
                close_sink()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval_s)
            self._wake.clear()
            closing = self._closing
            self._drain()
            if closing:
                return

    def _drain(self) -> None:
        while self._pending:
            batch: list[Row] = []
            while self._pending and len(batch) < self._batch_size:
                row = self._build(self._pending.popleft())
                if row is not None:
                    batch.append(row)
            if batch:
                self._write(batch)

    def _build(self, item: Row | Callable[[], Row]) -> Row | None:
        if not callable(item):
            return item
        try:
            return item()
        except Exception:  # one bad row must not lose the batch
            self.write_errors += 1
            log.exception("costrail guard: could not build an llm_requests row")
            return None

    def _write(self, batch: list[Row]) -> None:
        try:
            self._sink(batch)
            self.rows_written += len(batch)
        except Exception:  # the request path must not fail because the warehouse did
            self.write_errors += 1
            log.exception("costrail guard: could not write %d llm_requests rows", len(batch))


def warehouse_sink(url: str | None, prices: Any = None) -> Sink:
    """Rows into the warehouse's `llm_requests` (keyed replace on source + request_id); the
    guard's already-loaded price map is reused rather than re-read for every batch."""
    from costrail.llm.store import write_requests
    from costrail.warehouse import connect

    warehouse = connect(url)

    def write(rows: Sequence[Mapping[str, Any]]) -> object:
        return write_requests(warehouse, rows, prices=prices)

    return write


class WriterProcess:
    """A sink that hands each batch to a child process which writes it into the warehouse.

    Why a process: one warehouse write (pyarrow conversion, pricing checks, the Ibis query)
    costs about 100 ms of CPU per batch, nearly all of it holding the GIL; in the gateway's
    own process that stalls the event loop, and every request waiting on it, for that long.
    In a child it costs the gateway only pickling the rows. The child is started with
    `spawn` (the gateway has threads and open SQLite connections a fork would copy).
    """

    def __init__(self, url: str | None, prices: Any = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._batches: multiprocessing.queues.Queue[list[Row] | None] = context.Queue()
        self.rows_written = context.Value("q", 0)
        self._process = context.Process(
            target=_write_batches,
            args=(url, prices, self._batches, self.rows_written),
            name="costrail-guard-writer",
            daemon=True,
        )
        self._process.start()

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> object:
        if not self._process.is_alive():
            raise RuntimeError("the costrail guard writer process has exited")
        self._batches.put([dict(row) for row in rows])
        return len(rows)

    def close(self, timeout_s: float = 120.0) -> None:
        """Let the child write what it was given, then stop it."""
        if self._process.is_alive():
            self._batches.put(None)
            self._process.join(timeout_s)
        if self._process.is_alive():
            log.error("costrail guard: the writer process did not finish; stopping it")
            self._process.kill()
            self._process.join()
        self._batches.close()


def _write_batches(url: str | None, prices: Any, batches: Any, written: Any) -> None:
    """The child's loop. It ignores SIGINT and SIGTERM: a Ctrl-C reaches the whole process
    group, and the child must outlive the parent's shutdown to write the last rows; the
    parent stops it with a `None`. It also stops if the parent disappears (killed)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent_pid = os.getppid()
    sink = warehouse_sink(url, prices)
    while True:
        try:
            batch = batches.get(timeout=_PARENT_CHECK_S)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return
            continue
        if batch is None:
            return
        try:
            sink(batch)
        except Exception:
            log.exception("costrail guard: could not write %d llm_requests rows", len(batch))
            continue
        with written.get_lock():
            written.value += len(batch)
