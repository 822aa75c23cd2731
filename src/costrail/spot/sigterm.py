"""SIGTERM as a preemption notice: Kubernetes pod deletion and node drains, systemd shutdowns."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Self

from costrail.spot.errors import SpotError
from costrail.spot.notice import NoticeKind, PreemptionNotice

KUBERNETES_DEFAULT_GRACE_S = 30.0  # terminationGracePeriodSeconds when the pod spec sets none

_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class SigtermWatcher:
    """Turns SIGTERM (or other signals) into a notice instead of an immediate exit.

    Kubernetes sends SIGTERM to the container's PID 1 when a pod is deleted (spot node
    reclaimed and drained, eviction, rollout) and SIGKILLs it `terminationGracePeriodSeconds`
    later; the notice's deadline is the signal time plus `grace_period_s` (set it to your pod's
    value). The handler only records the signal — the training loop (or `watch()`) reads it,
    writes the final checkpoint and exits. Python installs handlers only from the main thread;
    `uninstall()` (or leaving the `with` block) puts the previous handlers back.
    """

    provider = "sigterm"

    def __init__(
        self,
        *,
        grace_period_s: float = KUBERNETES_DEFAULT_GRACE_S,
        signals: Sequence[signal.Signals] = (signal.SIGTERM,),
        install: bool = True,
    ) -> None:
        self.grace_period_s = grace_period_s
        self.signals = tuple(signals)
        self.received = threading.Event()
        self._notice: PreemptionNotice | None = None
        self._previous: dict[signal.Signals, _Handler] = {}
        if install:
            self.install()

    def install(self) -> Self:
        if threading.current_thread() is not threading.main_thread():
            raise SpotError(
                "SigtermWatcher must be installed from the main thread (a Python rule for "
                "signal handlers) — create it before starting worker threads"
            )
        for signum in self.signals:
            if signum not in self._previous:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def check(self) -> PreemptionNotice | None:
        return self._notice

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._notice is not None:  # a second SIGTERM changes nothing: keep the first time
            return
        received_at = datetime.now(UTC)
        self._notice = PreemptionNotice(
            provider="sigterm",
            kind=NoticeKind.SIGNAL,
            deadline=received_at + timedelta(seconds=self.grace_period_s),
            raw=signal.Signals(signum).name,
            received_at=received_at,
        )
        self.received.set()

    def __enter__(self) -> Self:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()
