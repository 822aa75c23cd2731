"""Each channel against a local server speaking its wire format (we cannot reach Slack,
PagerDuty or a mail relay from tests): JSON POSTs recorded by `http.server` on 127.0.0.1, and
SMTP by aiosmtpd on 127.0.0.1."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from costrail.alerts.channels import DeliveryError, sender_for
from costrail.alerts.model import Alert
from costrail.alerts.settings import AlertsSection
from costrail.config import ConfigError, parse_config
from tests.alerts.servers import http_server, smtp_server

ALERT = Alert(
    kind="anomaly",
    subject="anomaly:ServiceName=Amazon SageMaker",
    threshold="anomaly",
    period="2026-09-14",
    title="Spend anomaly in ServiceName=Amazon SageMaker on 2026-09-15",
    severity="error",
    amount_usd=Decimal("1234.50"),
    reference_usd=Decimal("310.00"),
    since=date(2026, 9, 14),
    root_causes=("x_InstanceType=p4d.24xlarge $1,100.00 (89%)", "RegionId=us-east-1 $90.00 (7%)"),
    more_command="costrail explore --by ServiceName --since 2026-09-14",
)


def channel(**entry: Any) -> Any:
    config = parse_config("alerts: {channels: {c: " + _flow(entry) + "}}")
    return config.section("alerts", AlertsSection).channels["c"]


def _flow(entry: dict[str, Any]) -> str:
    import json

    return json.dumps(entry)


def send(config: Any) -> None:
    sender_for(config.type)(config, ALERT, 5.0)


def test_slack_gets_text_and_blocks_with_what_how_much_since_and_root_cause() -> None:
    with http_server() as server:
        send(channel(type="slack", url=f"{server.url}/services/T0/B0/secret"))

    [(path, body)] = server.recorder.requests
    assert path == "/services/T0/B0/secret"
    assert body["text"].splitlines() == [
        ALERT.title,
        "How much: $1,234.50 (reference $310.00)",
        "Since: 2026-09-14",
        "Root cause: x_InstanceType=p4d.24xlarge $1,100.00 (89%); RegionId=us-east-1 $90.00 (7%)",
        "See more: costrail explore --by ServiceName --since 2026-09-14",
    ]
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": ALERT.title},
    }
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"


def test_webhook_gets_the_documented_json_with_exact_money() -> None:
    with http_server() as server:
        send(channel(type="webhook", url=f"{server.url}/hook"))

    body = server.recorder.bodies()[0]
    assert body["amount_usd"] == "1234.50"
    assert body["dedup_key"] == "costrail|anomaly:ServiceName=Amazon SageMaker|anomaly|2026-09-14"
    assert body["root_causes"][0].startswith("x_InstanceType=p4d.24xlarge")
    assert (body["kind"], body["since"], body["severity"]) == ("anomaly", "2026-09-14", "error")


def test_pagerduty_gets_an_events_v2_trigger_with_routing_and_dedup_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PD_KEY", "abc123")
    with http_server(status=202) as server:
        send(channel(type="pagerduty", routing_key="${PD_KEY}", url=f"{server.url}/v2/enqueue"))

    [(path, event)] = server.recorder.requests
    assert path == "/v2/enqueue"
    assert (event["routing_key"], event["event_action"]) == ("abc123", "trigger")
    assert event["dedup_key"] == ALERT.dedup_key
    assert event["payload"]["summary"] == ALERT.title
    assert (event["payload"]["severity"], event["payload"]["source"]) == ("error", "costrail")
    assert event["payload"]["custom_details"]["amount_usd"] == "1234.50"


def test_email_is_delivered_over_smtp_with_subject_and_body() -> None:
    with smtp_server() as server:
        send(
            channel(
                type="email",
                host=server.host,
                port=server.port,
                **{"from": "costrail@example.com"},
                to=["a@example.com", "b@example.com"],
            )
        )

    [message] = server.messages
    # Python folds this long subject right after "Subject:"; the unfolded value keeps the fold's
    # leading space, which mail clients drop
    assert message["Subject"].strip() == f"[costrail] {ALERT.title}"
    assert message["To"] == "a@example.com, b@example.com"
    assert "Root cause: x_InstanceType=p4d.24xlarge" in message.get_content()


def test_a_500_answer_is_a_delivery_error_naming_the_status_not_the_secret_path() -> None:
    with (
        http_server(fail_first=1) as server,
        pytest.raises(DeliveryError, match="HTTP 500") as raised,
    ):
        send(channel(type="slack", url=f"{server.url}/services/T0/B0/secret"))

    assert "secret" not in str(raised.value)


def test_an_unknown_channel_type_is_a_config_error_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"costrail.yaml:3: alerts.channels.c"):
        parse_config("alerts:\n  channels:\n    c: {type: teams, url: x}\n")
