"""Send alerts to their channels once: skip what the warehouse says was sent, retry with backoff,
record every outcome; a failing channel never blocks the others."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from costrail.alerts.channels import DeliveryError, sender_for
from costrail.alerts.model import Alert
from costrail.alerts.render import render_text
from costrail.alerts.settings import AlertsSection, RetryPolicy
from costrail.config import ConfigError
from costrail.errors import CostrailError
from costrail.policy.state import AlertRecord, PolicyState

log = logging.getLogger("costrail.alerts")
Sleep = Callable[[float], None]


@dataclass
class DeliveryReport:
    """Counts by outcome, and the failure message of each channel that still failed."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)


def deliver(
    alerts: list[Alert],
    settings: AlertsSection,
    state: PolicyState,
    *,
    sleep: Sleep = time.sleep,
) -> DeliveryReport:
    """Each (alert, channel) pair not yet sent is tried `retry.attempts` times; the outcome is
    appended to the `alerts` table (a failed pair is tried again on the next call)."""
    report = DeliveryReport()
    already_sent = state.sent_keys()
    records: list[AlertRecord] = []
    for alert in alerts:
        for channel in alert.channels:
            key = alert.key_for(channel)
            if key in already_sent:
                report.skipped.append(key)
                continue
            record = _send_one(alert, channel, settings, sleep)
            records.append(record)
            report.attempts[key] = record.attempts
            if record.status == "sent":
                report.sent.append(key)
            else:
                report.failed[key] = record.error or "failed"
    state.record_alerts(records)
    return report


def _send_one(alert: Alert, channel: str, settings: AlertsSection, sleep: Sleep) -> AlertRecord:
    config = settings.channels.get(channel)
    if config is None:
        raise ConfigError(f"alert channel {channel!r} is not defined under alerts.channels")
    try:
        attempts, error = _with_retries(
            lambda: sender_for(config.type)(config, alert, settings.retry.timeout_s),
            settings.retry,
            sleep,
        )
    except CostrailError as problem:  # e.g. an unset ${ENV} secret: retrying cannot help
        attempts, error = 1, str(problem)
    status = "sent" if error is None else "failed"
    if error is not None:
        log.warning(
            "alert %s to channel %s failed after %d attempt(s): %s",
            alert.subject,
            channel,
            attempts,
            error,
        )
    return AlertRecord(
        subject=alert.subject,
        threshold=alert.threshold,
        period=alert.period,
        channel=channel,
        status=status,
        attempts=attempts,
        summary=render_text(alert),
        error=error,
    )


def _with_retries(
    send: Callable[[], None], retry: RetryPolicy, sleep: Sleep
) -> tuple[int, str | None]:
    """(attempts made, last error or None)."""
    delay_s = retry.delay_s
    error: str | None = None
    for attempt in range(1, retry.attempts + 1):
        try:
            send()
            return attempt, None
        except DeliveryError as failure:
            error = str(failure)
        if attempt < retry.attempts:
            sleep(delay_s)
            delay_s *= retry.factor
    return retry.attempts, error
