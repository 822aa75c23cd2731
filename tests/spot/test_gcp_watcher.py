"""GCP preemption watcher against a local metadata-server stand-in (Metadata-Flavor required)."""

from __future__ import annotations

import threading
import time

import pytest

from costrail.spot import GcpPreemptionWatcher, MetadataResponseError, NoticeKind
from tests.spot.metadata_standins import GcpMetadataStandIn, bare_get_status


def test_stand_in_refuses_a_request_without_the_flavor_header(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    url = gcp_metadata.url + "/computeMetadata/v1/instance/preempted"

    assert bare_get_status(url) == 403


def test_not_preempted_means_no_notice(gcp_metadata: GcpMetadataStandIn) -> None:
    assert GcpPreemptionWatcher(gcp_metadata.url).check() is None
    assert gcp_metadata.requests[0][3]["metadata-flavor"] == "Google"


def test_preemption_gives_a_notice_due_thirty_seconds_after_it_was_seen(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    gcp_metadata.preempt()

    notice = GcpPreemptionWatcher(gcp_metadata.url).check()

    assert notice is not None
    assert (notice.provider, notice.kind, notice.raw) == ("gcp", NoticeKind.PREEMPT, "TRUE")
    assert notice.deadline is not None
    assert (notice.deadline - notice.received_at).total_seconds() == 30


def test_wait_for_change_returns_as_soon_as_the_vm_is_preempted(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    watcher = GcpPreemptionWatcher(gcp_metadata.url, wait_for_change=True, wait_timeout_s=10)
    assert watcher.check() is None  # first read: value and ETag
    threading.Timer(0.2, gcp_metadata.preempt).start()

    started = time.monotonic()
    notice = watcher.check()

    assert notice is not None and notice.kind is NoticeKind.PREEMPT
    assert time.monotonic() - started < 5
    _, _, query, _ = gcp_metadata.requests[-1]
    assert query["wait_for_change"] == "true" and query["timeout_sec"] == "10"
    assert query["last_etag"]


def test_wait_for_change_gives_none_when_the_server_times_out_unchanged(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    watcher = GcpPreemptionWatcher(gcp_metadata.url, wait_for_change=True, wait_timeout_s=1)
    watcher.check()

    assert watcher.check() is None


def test_once_preempted_the_notice_is_kept_without_asking_again(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    gcp_metadata.preempt()
    watcher = GcpPreemptionWatcher(gcp_metadata.url)
    first = watcher.check()

    assert watcher.check() is first
    assert len(gcp_metadata.requests) == 1


def test_server_error_raises_a_response_error(gcp_metadata: GcpMetadataStandIn) -> None:
    gcp_metadata.fail_status = 503

    with pytest.raises(MetadataResponseError) as failed:
        GcpPreemptionWatcher(gcp_metadata.url).check()
    assert failed.value.status == 503
