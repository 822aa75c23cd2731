"""Plain-text, Slack Block Kit and JSON renderings of an `Alert`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costrail.alerts.model import Alert


def usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def text_lines(alert: Alert) -> list[str]:
    """The lines every channel shows, in order: what, how much, since when, why, see more."""
    amount = usd(alert.amount_usd)
    if alert.reference_usd is not None:
        amount += f" (reference {usd(alert.reference_usd)})"
    lines = [alert.title, f"How much: {amount}", f"Since: {alert.since.isoformat()}"]
    if alert.root_causes:
        lines.append("Root cause: " + "; ".join(alert.root_causes))
    if alert.more_command:
        lines.append(f"See more: {alert.more_command}")
    return lines


def render_text(alert: Alert) -> str:
    return "\n".join(text_lines(alert))


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Incoming-webhook body: `text` is the notification fallback, `blocks` the message."""
    lines = text_lines(alert)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[1:])}},
    ]
    return {"text": render_text(alert), "blocks": blocks}


def json_payload(alert: Alert) -> dict[str, Any]:
    """The generic webhook body (documented in docs/watch.md); money as exact strings."""
    return {
        "source": "costrail",
        "kind": alert.kind,
        "subject": alert.subject,
        "threshold": alert.threshold,
        "period": alert.period,
        "dedup_key": alert.dedup_key,
        "title": alert.title,
        "severity": alert.severity,
        "amount_usd": format(alert.amount_usd, "f"),
        "reference_usd": None if alert.reference_usd is None else format(alert.reference_usd, "f"),
        "since": alert.since.isoformat(),
        "root_causes": list(alert.root_causes),
        "more_command": alert.more_command,
        "text": render_text(alert),
        "details": {key: _plain(value) for key, value in alert.details.items()},
    }


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
