"""Azure Scheduled Events watcher against a local IMDS stand-in (`Metadata: true` required)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from costrail.spot import AzureScheduledEventsWatcher, NoticeKind
from tests.spot.metadata_standins import ScheduledEventsStandIn, bare_get_status


def test_stand_in_refuses_a_request_without_the_metadata_header(
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    url = scheduled_events.url + "/metadata/scheduledevents?api-version=2020-07-01"

    assert bare_get_status(url) == 400


def test_no_events_means_no_notice(scheduled_events: ScheduledEventsStandIn) -> None:
    assert AzureScheduledEventsWatcher(scheduled_events.url).check() is None
    _, path, query, headers = scheduled_events.requests[0]
    assert (path, query["api-version"], headers["metadata"]) == (
        "/metadata/scheduledevents",
        "2020-07-01",
        "true",
    )


def test_preempt_event_for_this_vm_is_a_notice_due_at_not_before(
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    event_id = scheduled_events.schedule(
        "Preempt", ["trainer-vm-0"], not_before="Sun, 01 Mar 2026 12:00:30 GMT"
    )

    notice = AzureScheduledEventsWatcher(scheduled_events.url).check()

    assert notice is not None
    assert (notice.provider, notice.kind, notice.event_id) == (
        "azure",
        NoticeKind.PREEMPT,
        event_id,
    )
    assert notice.deadline == datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def test_terminate_event_is_a_terminate_notice(scheduled_events: ScheduledEventsStandIn) -> None:
    scheduled_events.schedule("Terminate", ["trainer-vm-0"])

    notice = AzureScheduledEventsWatcher(scheduled_events.url).check()

    assert notice is not None and notice.kind is NoticeKind.TERMINATE


def test_event_for_another_vm_in_the_scale_set_is_ignored(
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    scheduled_events.schedule("Preempt", ["trainer-vm-7"])

    assert AzureScheduledEventsWatcher(scheduled_events.url).check() is None


def test_maintenance_events_are_not_preemption(scheduled_events: ScheduledEventsStandIn) -> None:
    scheduled_events.schedule("Freeze", ["trainer-vm-0"])
    scheduled_events.schedule("Reboot", ["trainer-vm-0"])

    assert AzureScheduledEventsWatcher(scheduled_events.url).check() is None


def test_started_event_with_blank_not_before_is_due_now(
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    scheduled_events.schedule("Preempt", ["trainer-vm-0"], not_before="", status="Started")

    notice = AzureScheduledEventsWatcher(scheduled_events.url).check()

    assert notice is not None and notice.deadline == notice.received_at


def test_acknowledge_posts_a_start_request_for_the_event(
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    event_id = scheduled_events.schedule("Preempt", ["trainer-vm-0"])
    watcher = AzureScheduledEventsWatcher(scheduled_events.url)
    notice = watcher.check()
    assert notice is not None

    watcher.acknowledge(notice)

    assert scheduled_events.approved == [event_id]
    post = next(r for r in scheduled_events.requests if r[0] == "POST")
    assert post[3]["metadata"] == "true"


def test_without_a_readable_vm_name_every_preempt_event_counts() -> None:
    with ScheduledEventsStandIn(vm_name=None) as standin:
        standin.schedule("Preempt", ["some-other-name"])

        notice = AzureScheduledEventsWatcher(standin.url).check()

    assert notice is not None and notice.kind is NoticeKind.PREEMPT


def test_the_earliest_of_several_events_is_reported(
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    scheduled_events.schedule(
        "Terminate", ["trainer-vm-0"], not_before="Sun, 01 Mar 2026 12:10:00 GMT"
    )
    scheduled_events.schedule(
        "Preempt", ["trainer-vm-0"], not_before="Sun, 01 Mar 2026 12:00:30 GMT"
    )

    notice = AzureScheduledEventsWatcher(scheduled_events.url).check()

    assert notice is not None and notice.kind is NoticeKind.PREEMPT
    assert json.loads(notice.raw)["DocumentIncarnation"] == 3
