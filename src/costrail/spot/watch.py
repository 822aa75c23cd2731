"""Poll a preemption watcher in a background thread and call back once per notice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Self

from costrail.spot.errors import SpotError
from costrail.spot.notice import PreemptionNotice, PreemptionWatcher

logger = logging.getLogger("costrail.spot")

DEFAULT_INTERVAL_S = 5.0  # AWS's recommendation; Azure suggests 1 s


class WatchHandle:
    """A running watch: read `notice`/`final` from the training loop, `stop()` when done.

    The callback runs at most twice: once for advice (an AWS rebalance recommendation), and once
    for the first final notice, after which the thread ends. Errors from the metadata service are
    logged (the first of a run at WARNING, repeats at DEBUG) and counted in `errors`; errors
    raised by the callback are logged with their traceback. Nothing here raises into the loop.
    """

    def __init__(
        self,
        watcher: PreemptionWatcher,
        on_notice: Callable[[PreemptionNotice], object] | None,
        *,
        interval_s: float,
    ) -> None:
        if interval_s < 0:
            raise ValueError(f"interval_s must be >= 0, got {interval_s}")
        self.watcher = watcher
        self.on_notice = on_notice
        self.interval_s = interval_s
        self.notice: PreemptionNotice | None = None
        self.noticed = threading.Event()  # any notice, advice included
        self.final = threading.Event()  # a notice that the machine will go away
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"costrail-spot-{watcher.provider}", daemon=True
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout_s: float | None = 5.0) -> None:
        """Stop polling; waits up to `timeout_s` for a check in flight to return."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        advice_delivered = False
        failing = False
        while not self._stop.is_set():
            notice, answered = self._check_once(failing)
            failing = not answered
            if notice is not None:
                if notice.kind.is_final:
                    self._deliver(notice)
                    return
                if not advice_delivered:
                    self._deliver(notice)
                    advice_delivered = True
            self._stop.wait(self.interval_s)

    def _check_once(self, failing: bool) -> tuple[PreemptionNotice | None, bool]:
        """The notice (or None) and whether the watcher answered at all."""
        try:
            notice = self.watcher.check()
        except SpotError as error:
            self.errors += 1
            level = logging.DEBUG if failing else logging.WARNING
            logger.log(level, "%s watcher: %s (will retry)", self.watcher.provider, error)
            return None, False
        except Exception:  # a watcher bug must not end the watch, nor reach the training loop
            self.errors += 1
            level = logging.DEBUG if failing else logging.ERROR
            logger.log(
                level, "%s watcher failed (will retry)", self.watcher.provider, exc_info=True
            )
            return None, False
        if failing:
            logger.info("%s watcher: metadata service answers again", self.watcher.provider)
        return notice, True

    def _deliver(self, notice: PreemptionNotice) -> None:
        self.notice = notice
        self.noticed.set()
        if notice.kind.is_final:
            self.final.set()
        logger.warning(
            "%s notice: %s, deadline %s", notice.provider, notice.kind.value, notice.deadline
        )
        if self.on_notice is None:
            return
        try:
            self.on_notice(notice)
        except Exception:
            logger.exception("preemption callback failed for %s notice", notice.provider)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def watch(
    watcher: PreemptionWatcher,
    on_notice: Callable[[PreemptionNotice], object] | None = None,
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> WatchHandle:
    """Start polling `watcher` every `interval_s` seconds in a daemon thread.

    The first check runs at once. `on_notice` runs on the watch thread: keep it short (set a
    flag, or save a checkpoint if the loop cannot be interrupted). Use the returned handle as a
    context manager, or call `stop()`.
    """
    return WatchHandle(watcher, on_notice, interval_s=interval_s).start()
