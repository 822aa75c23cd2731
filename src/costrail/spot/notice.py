"""What a preemption watcher reports: the typed notice and the one watcher protocol."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


class NoticeKind(enum.StrEnum):
    """What the platform is about to do to this machine."""

    TERMINATE = "terminate"  # AWS spot terminate, Azure Terminate
    STOP = "stop"  # AWS spot stop
    HIBERNATE = "hibernate"  # AWS spot hibernate (no two-minute warning: it starts at once)
    PREEMPT = "preempt"  # GCP preemption, Azure spot eviction (Preempt)
    SIGNAL = "signal"  # SIGTERM: Kubernetes pod deletion, node drain, systemd shutdown
    REBALANCE = "rebalance"  # AWS rebalance recommendation: elevated risk, not yet a notice

    @property
    def is_final(self) -> bool:
        """True when the machine will go away; False for advice (a rebalance recommendation)."""
        return self is not NoticeKind.REBALANCE


@dataclass(frozen=True)
class PreemptionNotice:
    """One notice from a platform.

    `deadline` is when the platform says the machine stops (UTC), or our estimate of it from the
    platform's documented notice period where the platform gives no time (GCP: received + 30 s;
    SIGTERM: received + the configured grace period); None for advice without a deadline.
    `raw` is the response body (or signal name) exactly as received, for logs and audits.
    `event_id` is the Azure Scheduled Events id, needed to acknowledge the event.
    """

    provider: str
    kind: NoticeKind
    deadline: datetime | None
    raw: str
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str | None = None

    def seconds_left(self, now: datetime | None = None) -> float | None:
        """Seconds from `now` (default: the current UTC time) to the deadline, never negative."""
        if self.deadline is None:
            return None
        current = now if now is not None else datetime.now(UTC)
        return max(0.0, (self.deadline - current).total_seconds())


@runtime_checkable
class PreemptionWatcher(Protocol):
    """Asks one source whether this machine is about to be taken away.

    `check()` returns a notice or None and is cheap enough to call every few seconds. It raises
    `MetadataUnreachableError` / `MetadataResponseError` when the source cannot be asked; the
    `watch()` helper turns those into log lines so a training loop never dies of them.
    """

    @property
    def provider(self) -> str:
        """Short name of the source: aws, gcp, azure, sigterm or any."""
        ...

    def check(self) -> PreemptionNotice | None:
        """Ask once; a notice when one is pending, otherwise None."""
        ...
