"""The background watch: one callback per notice, errors logged, the training loop untouched."""

from __future__ import annotations

import logging
import threading

import pytest

from costrail.spot import (
    AwsSpotWatcher,
    GcpPreemptionWatcher,
    NoticeKind,
    PreemptionNotice,
    watch,
)
from tests.spot.metadata_standins import GcpMetadataStandIn, ImdsV2StandIn, closed_port_url


def test_callback_runs_once_for_a_final_notice_and_the_watch_ends(imds: ImdsV2StandIn) -> None:
    seen: list[PreemptionNotice] = []
    handle = watch(AwsSpotWatcher(imds.url), seen.append, interval_s=0.02)
    imds.instance_action = {"action": "terminate", "time": "2026-03-01T12:02:00Z"}

    assert handle.final.wait(5.0)
    handle.stop()

    assert [n.kind for n in seen] == [NoticeKind.TERMINATE]
    assert handle.notice is seen[0]
    assert not handle.running


def test_advice_then_final_notice_calls_back_twice(imds: ImdsV2StandIn) -> None:
    seen: list[PreemptionNotice] = []
    advised = threading.Event()

    def on_notice(notice: PreemptionNotice) -> None:
        seen.append(notice)
        advised.set()

    imds.rebalance = {"noticeTime": "2026-03-01T11:50:00Z"}
    with watch(AwsSpotWatcher(imds.url), on_notice, interval_s=0.02) as handle:
        assert advised.wait(5.0)
        imds.instance_action = {"action": "terminate", "time": "2026-03-01T12:02:00Z"}
        assert handle.final.wait(5.0)

    assert [n.kind for n in seen] == [NoticeKind.REBALANCE, NoticeKind.TERMINATE]


def test_metadata_errors_are_counted_and_polling_goes_on(
    gcp_metadata: GcpMetadataStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    gcp_metadata.fail_status = 503
    with watch(GcpPreemptionWatcher(gcp_metadata.url), interval_s=0.02) as handle:
        while handle.errors < 3:
            assert handle.running
            threading.Event().wait(0.01)
        gcp_metadata.fail_status = None
        gcp_metadata.preempt()
        assert handle.final.wait(5.0)

    assert handle.notice is not None and handle.notice.kind is NoticeKind.PREEMPT
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "503" in r.message]
    assert len(warnings) == 1  # the first failure of a run is a warning, repeats are debug


def test_unreachable_service_never_raises_into_the_caller() -> None:
    with watch(AwsSpotWatcher(closed_port_url(), timeout_s=0.2), interval_s=0.02) as handle:
        while handle.errors < 2:
            threading.Event().wait(0.01)
        assert handle.running

    assert handle.notice is None


def test_a_failing_callback_is_logged_not_raised(
    imds: ImdsV2StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(notice: PreemptionNotice) -> None:
        raise RuntimeError("disk full")

    imds.instance_action = {"action": "terminate", "time": "2026-03-01T12:02:00Z"}
    handle = watch(AwsSpotWatcher(imds.url), broken, interval_s=0.02)
    assert handle.final.wait(5.0)
    handle.stop()

    assert any("callback failed" in r.message and r.exc_info for r in caplog.records)
