"""Delivery keeps each (alert, channel) to one successful send, stored in the warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from costrail.alerts.deliver import deliver
from costrail.alerts.model import Alert
from costrail.alerts.settings import AlertsSection
from costrail.policy.state import ALERTS_SCHEMA, PolicyState
from costrail.warehouse import Warehouse, connect
from tests.alerts.servers import http_server


def alert(threshold: str) -> Alert:
    return Alert(
        kind="budget",
        subject="budget:ml",
        threshold=threshold,
        period="2026-09-01..2026-09-30",
        title=f"Budget ml {threshold}",
        severity="warning",
        amount_usd=Decimal("500"),
        reference_usd=Decimal("1000"),
        since=date(2026, 9, 20),
        channels=("a", "b"),
    )


def settings(url_a: str, url_b: str, attempts: int = 3) -> AlertsSection:
    return AlertsSection.model_validate(
        {
            "channels": {
                "a": {"type": "webhook", "url": url_a},
                "b": {"type": "webhook", "url": url_b},
            },
            "retry": {"attempts": attempts, "delay_s": 0.5, "factor": 3},
        }
    )


def test_backoff_delays_grow_by_the_factor_between_attempts(warehouse: Warehouse) -> None:
    slept: list[float] = []
    with http_server(fail_first=10) as a, http_server() as b:
        report = deliver(
            [alert("actual:50")],
            settings(a.url, b.url, 3),
            PolicyState(warehouse),
            sleep=slept.append,
        )

    assert slept == [0.5, 1.5]
    assert list(report.failed) == ["budget:ml|actual:50|2026-09-01..2026-09-30|a"]
    assert report.sent == ["budget:ml|actual:50|2026-09-01..2026-09-30|b"]


def test_sent_alerts_survive_a_reconnect_and_are_not_sent_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = str(tmp_path / "w.duckdb")
    with http_server() as a, http_server() as b:
        first = connect(url)
        deliver(
            [alert("actual:50")], settings(a.url, b.url), PolicyState(first), sleep=lambda _s: None
        )
        first.close()
        again = connect(url)
        report = deliver(
            [alert("actual:50"), alert("actual:80")],
            settings(a.url, b.url),
            PolicyState(again),
            sleep=lambda _s: None,
        )

    assert len(report.skipped) == 2
    assert [body["threshold"] for body in a.recorder.bodies()] == ["actual:50", "actual:80"]
    rows = again.read("alerts", ALERTS_SCHEMA).to_pyarrow().to_pylist()
    assert sorted((row["threshold"], row["channel"], row["status"]) for row in rows) == [
        ("actual:50", "a", "sent"),
        ("actual:50", "b", "sent"),
        ("actual:80", "a", "sent"),
        ("actual:80", "b", "sent"),
    ]
