"""End to end: daily FOCUS exports drive a budget over 50/80/100 % and a forecast breach; each
channel's local server gets exactly one alert per threshold per period, also after a restart.

The channels are local stand-ins speaking the real wire formats (we cannot reach Slack,
PagerDuty or a mail relay from tests): `http.server` servers on 127.0.0.1 recording the JSON
POSTs of the Slack incoming webhook, the generic webhook and PagerDuty Events API v2, and an
aiosmtpd SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from costrail.config import load_config
from costrail.policy.engine import load_policy
from costrail.warehouse import connect
from costrail.watch.cycle import CycleReport, run_cycle
from tests.alerts.servers import HttpServer, SmtpServer, http_server, smtp_server
from tests.watch.focus_days import write_month

PERIOD = "2026-09-01..2026-09-30"
SEPTEMBER = date(2026, 9, 1)


def usd(amount: int) -> list[Decimal]:
    return [Decimal(amount)]


@dataclass
class Channels:
    slack: HttpServer
    webhook: HttpServer
    pagerduty: HttpServer
    smtp: SmtpServer


@pytest.fixture
def channels() -> Iterator[Channels]:
    with (
        http_server() as slack,
        http_server(fail_first=2) as webhook,
        http_server(status=202, reply=b'{"status":"success"}') as pagerduty,
        smtp_server() as smtp,
    ):
        yield Channels(slack, webhook, pagerduty, smtp)


def write_config(path: Path, channels: Channels) -> Path:
    path.write_text(
        f"""
budgets:
  - name: ml-september
    amount: 1000
    scope:
      ServiceName: Amazon SageMaker
      tags: {{team: ml}}
    channels: [slack, hook, mail, pd]
alerts:
  channels:
    slack: {{type: slack, url: "{channels.slack.url}/services/T000/B000/XXXX"}}
    hook: {{type: webhook, url: "{channels.webhook.url}/costrail"}}
    mail:
      type: email
      host: {channels.smtp.host}
      port: {channels.smtp.port}
      from: costrail@example.com
      to: [finops@example.com]
    pd: {{type: pagerduty, routing_key: R0UT1NGKEY, url: "{channels.pagerduty.url}/v2/enqueue"}}
  retry: {{attempts: 3, delay_s: 0.01, factor: 2, timeout_s: 5}}
  anomalies: {{enabled: false}}
""",
        encoding="utf-8",
    )
    return path


def cycle(tmp_path: Path, config: Path, sources: Path) -> CycleReport:
    store = connect(str(tmp_path / "warehouse.duckdb"))
    try:
        # the waste analyses are covered in test_watch_cycle.py; skipped here for speed
        return run_cycle(store, load_policy(load_config(config)), [sources], analyses=False)
    finally:
        store.close()


def thresholds_per_channel(channels: Channels) -> dict[str, Counter[str]]:
    """Which thresholds each server received, read from each wire format."""
    return {
        "slack": Counter(
            _threshold_from_text(body["text"]) for body in channels.slack.recorder.bodies()
        ),
        "hook": Counter(body["threshold"] for body in channels.webhook.recorder.bodies()),
        "pd": Counter(
            body["payload"]["custom_details"]["threshold"]
            for body in channels.pagerduty.recorder.bodies()
        ),
        "mail": Counter(_threshold_from_text(m.get_content()) for m in channels.smtp.messages),
    }


def _threshold_from_text(text: str) -> str:
    if "forecast" in text.splitlines()[0]:
        return "forecast:100"
    crossed = text.split("(crossed ", 1)[1].split(" %", 1)[0]
    return f"actual:{crossed}"


def test_each_threshold_alerts_once_per_channel_across_cycles_and_a_restart(
    tmp_path: Path, channels: Channels
) -> None:
    sources = tmp_path / "exports"
    config = write_config(tmp_path / "costrail.yaml", channels)
    write_month(sources, date(2026, 8, 1), usd(20) * 31)
    write_month(sources, SEPTEMBER, usd(20) * 10)  # 20 %: nothing

    assert cycle(tmp_path, config, sources).delivery.sent == []

    write_month(sources, SEPTEMBER, usd(20) * 10 + usd(30) * 10)  # 50 %
    first = cycle(tmp_path, config, sources)
    assert sorted(first.delivery.sent) == sorted(
        f"budget:ml-september|actual:50|{PERIOD}|{name}" for name in ("slack", "hook", "mail", "pd")
    )

    write_month(sources, SEPTEMBER, usd(20) * 10 + usd(30) * 10 + usd(100) * 4)  # 90 %
    second = cycle(tmp_path, config, sources)
    status = second.statuses[0]
    assert status.actual_usd == Decimal("900") and not status.breached
    assert status.forecast_breached
    cycle(tmp_path, config, sources)  # nothing new: nothing re-sent

    write_month(sources, SEPTEMBER, usd(20) * 10 + usd(30) * 10 + usd(100) * 6)  # 110 %
    cycle(tmp_path, config, sources)

    expected = Counter({"actual:50": 1, "actual:80": 1, "forecast:100": 1, "actual:100": 1})
    assert thresholds_per_channel(channels) == dict.fromkeys(
        ("slack", "hook", "pd", "mail"), expected
    )


def test_a_restarted_watch_sends_nothing_already_sent(tmp_path: Path, channels: Channels) -> None:
    sources = tmp_path / "exports"
    config = write_config(tmp_path / "costrail.yaml", channels)
    write_month(sources, date(2026, 8, 1), usd(20) * 31)
    write_month(sources, SEPTEMBER, usd(100) * 9)  # 90 %, forecast > 100 %
    cycle(tmp_path, config, sources)
    before = thresholds_per_channel(channels)

    restarted = subprocess.run(
        [
            str(Path(sys.executable).parent / "costrail"),
            "watch",
            "--once",
            "--config",
            str(config),
            "--source",
            str(sources),
            "--warehouse",
            str(tmp_path / "warehouse.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert restarted.returncode == 0, restarted.stderr
    assert "0 sent, 12 already sent" in restarted.stdout
    assert thresholds_per_channel(channels) == before


def test_a_failing_channel_is_retried_and_does_not_block_the_others(
    tmp_path: Path, channels: Channels
) -> None:
    sources = tmp_path / "exports"
    config = write_config(tmp_path / "costrail.yaml", channels)
    write_month(sources, date(2026, 8, 1), usd(20) * 31)
    write_month(sources, SEPTEMBER, usd(20) * 25)  # 50 %, forecast 60 %
    channels.webhook.recorder.fail_first = 10**6  # the webhook answers 500, always

    report = cycle(tmp_path, config, sources)

    hook_key = f"budget:ml-september|actual:50|{PERIOD}|hook"
    assert report.delivery.attempts[hook_key] == 3
    assert channels.webhook.recorder.hits == 3
    assert hook_key in report.delivery.failed
    assert {k.rsplit("|", 1)[1] for k in report.delivery.sent} == {"slack", "mail", "pd"}

    channels.webhook.recorder.fail_first = 0  # healthy again: the next cycle delivers it
    retried = cycle(tmp_path, config, sources)
    assert retried.delivery.sent == [hook_key]
