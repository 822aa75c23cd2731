"""Generic JSON webhook: POST the documented `json_payload` body."""

from __future__ import annotations

from costrail.alerts.channels import senders
from costrail.alerts.http import post_json
from costrail.alerts.model import Alert
from costrail.alerts.render import json_payload
from costrail.alerts.settings import WebhookChannel, expand_env


@senders.register("webhook")
def send_webhook(config: WebhookChannel, alert: Alert, timeout_s: float) -> None:
    headers = {name: expand_env(value) for name, value in config.headers.items()}
    post_json(expand_env(config.url), json_payload(alert), timeout_s, headers)
