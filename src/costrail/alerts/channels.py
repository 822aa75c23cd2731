"""Channel registry: a channel type → `send(config, alert, timeout_s)`, raising on failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from costrail.alerts.model import Alert
from costrail.registry import Registry

Sender = Callable[[Any, Alert, float], None]
senders: Registry[Sender] = Registry("alert channel")


class DeliveryError(Exception):
    """One attempt to send failed (HTTP status, connection, SMTP refusal); it may be retried."""


def sender_for(channel_type: str) -> Sender:
    import costrail.alerts.email
    import costrail.alerts.pagerduty
    import costrail.alerts.slack
    import costrail.alerts.webhook  # noqa: F401  (register the senders)

    return senders.get(channel_type)
