"""The alert every channel renders: what, how much, since when, why, and how to see more."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from costrail.policy.state import alert_key


@dataclass(frozen=True)
class Alert:
    """One alert, before it is sent to any channel.

    (`subject`, `threshold`, `period`) identify it for deduplication: a budget alert is
    `budget:<name>`, `actual:80`, `<period>`; an anomaly alert is `anomaly:<scope>`, `anomaly`,
    `<first day seen>`.
    """

    kind: str  # budget | anomaly
    subject: str
    threshold: str
    period: str
    title: str
    severity: str  # info | warning | error | critical (PagerDuty's levels)
    amount_usd: Decimal
    reference_usd: Decimal | None
    since: date
    root_causes: tuple[str, ...] = ()
    more_command: str = ""
    channels: tuple[str, ...] = ()
    details: dict[str, object] = field(default_factory=dict)

    def key_for(self, channel: str) -> str:
        return alert_key(self.subject, self.threshold, self.period, channel)

    @property
    def dedup_key(self) -> str:
        """Channel-independent id (PagerDuty's `dedup_key`)."""
        return "costrail|" + "|".join((self.subject, self.threshold, self.period))
