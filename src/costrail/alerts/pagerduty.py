"""PagerDuty Events API v2: `POST /v2/enqueue`, `event_action: trigger`, a stable `dedup_key`."""

from __future__ import annotations

from typing import Any

from costrail.alerts.channels import senders
from costrail.alerts.http import post_json
from costrail.alerts.model import Alert
from costrail.alerts.render import json_payload
from costrail.alerts.settings import PagerDutyChannel, expand_env


def pagerduty_event(config: PagerDutyChannel, alert: Alert) -> dict[str, Any]:
    """The event body; the dedup key lets PagerDuty fold repeats into one incident too."""
    details = json_payload(alert)
    return {
        "routing_key": expand_env(config.routing_key),
        "event_action": "trigger",
        "dedup_key": alert.dedup_key,
        "payload": {
            "summary": alert.title[:1024],
            "severity": alert.severity,
            "source": config.source,
            "component": alert.subject,
            "group": alert.kind,
            "class": alert.threshold,
            "custom_details": details,
        },
    }


@senders.register("pagerduty")
def send_pagerduty(config: PagerDutyChannel, alert: Alert, timeout_s: float) -> None:
    post_json(expand_env(config.url), pagerduty_event(config, alert), timeout_s)
