"""The `alerts:` section: named channels, the retry policy, and where anomaly alerts go."""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import Field

from costrail.config import ConfigError, Section, register_section

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str) -> str:
    """`${SLACK_WEBHOOK_URL}` → its value, so secrets stay out of costrail.yaml."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} is not set (used in alerts config)")
        return os.environ[name]

    return _ENV_REFERENCE.sub(value, text)


class SlackChannel(Section):
    type: Literal["slack"]
    url: str = Field(description="incoming-webhook URL; ${ENV} references are expanded")


class WebhookChannel(Section):
    type: Literal["webhook"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)


class EmailChannel(Section):
    type: Literal["email"]
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = Field(default=None, description="use ${ENV}, never the secret itself")
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout_s: float = 10.0


class PagerDutyChannel(Section):
    type: Literal["pagerduty"]
    routing_key: str
    url: str = "https://events.pagerduty.com/v2/enqueue"
    source: str = "costrail"


ChannelConfig = Annotated[
    SlackChannel | WebhookChannel | EmailChannel | PagerDutyChannel, Field(discriminator="type")
]


class RetryPolicy(Section):
    """Exponential backoff per channel: delays are delay_s, delay_s·factor, …"""

    attempts: int = Field(default=3, ge=1, le=10)
    delay_s: float = Field(default=2.0, ge=0)
    factor: float = Field(default=2.0, ge=1)
    timeout_s: float = Field(default=10.0, gt=0)


class AnomalyAlerts(Section):
    """Which anomalies alert: those first seen within `lookback_days` of the newest charge."""

    enabled: bool = True
    #: channel names; empty means every configured channel
    channels: list[str] = Field(default_factory=list)
    lookback_days: int = Field(default=3, ge=1)
    #: dimensions scored as separate series besides the total (e.g. ServiceName)
    by: list[str] = Field(default_factory=lambda: ["ServiceName"])


@register_section("alerts")
class AlertsSection(Section):
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    anomalies: AnomalyAlerts = Field(default_factory=AnomalyAlerts)
