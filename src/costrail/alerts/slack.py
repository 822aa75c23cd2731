"""Slack incoming webhook: POST `{"text": ..., "blocks": [...]}`."""

from __future__ import annotations

from costrail.alerts.channels import senders
from costrail.alerts.http import post_json
from costrail.alerts.model import Alert
from costrail.alerts.render import slack_payload
from costrail.alerts.settings import SlackChannel, expand_env


@senders.register("slack")
def send_slack(config: SlackChannel, alert: Alert, timeout_s: float) -> None:
    post_json(expand_env(config.url), slack_payload(alert), timeout_s)
