"""Azure Spot eviction and VM termination from IMDS Scheduled Events."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from costrail.spot.errors import MetadataResponseError, MetadataUnreachableError
from costrail.spot.metadata_http import send
from costrail.spot.notice import NoticeKind, PreemptionNotice
from costrail.spot.timeparse import parse_http_date_utc

logger = logging.getLogger("costrail.spot")

AZURE_METADATA_URL = "http://169.254.169.254"
SCHEDULED_EVENTS_PATH = "/metadata/scheduledevents"
SCHEDULED_EVENTS_API_VERSION = "2020-07-01"
VM_NAME_PATH = "/metadata/instance/compute/name"
INSTANCE_API_VERSION = "2021-02-01"
METADATA_HEADERS = {"Metadata": "true"}
FIRST_CALL_TIMEOUT_S = 120.0  # the first request enables Scheduled Events and may take 2 min

_KINDS = {"Preempt": NoticeKind.PREEMPT, "Terminate": NoticeKind.TERMINATE}


class AzureScheduledEventsWatcher:
    """Reads Scheduled Events and reports `Preempt` (Spot eviction, ≥ 30 s notice) and
    `Terminate` (VM deletion, 5–15 min when terminate notifications are enabled).

    Events are delivered to every VM of an availability set or scale-set placement group, so
    only events whose `Resources` name this VM count; the name comes from IMDS
    (`compute/name`) unless given as `vm_name`. If the name cannot be read every event counts
    (a warning is logged) — an extra checkpoint is cheaper than a missed eviction.
    Azure recommends polling once per second. `deadline` is `NotBefore`, or the time seen when
    the event has already started (`NotBefore` is blank then).
    """

    provider = "azure"

    def __init__(
        self,
        base_url: str = AZURE_METADATA_URL,
        *,
        timeout_s: float = 2.0,
        first_call_timeout_s: float = FIRST_CALL_TIMEOUT_S,
        vm_name: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.first_call_timeout_s = first_call_timeout_s
        self.vm_name = vm_name
        self._vm_name_resolved = vm_name is not None
        self._answered_once = False

    @property
    def events_url(self) -> str:
        return f"{self.base_url}{SCHEDULED_EVENTS_PATH}?api-version={SCHEDULED_EVENTS_API_VERSION}"

    def check(self) -> PreemptionNotice | None:
        """The pending Preempt/Terminate event for this VM with the earliest deadline, or None."""
        timeout_s = self.timeout_s if self._answered_once else self.first_call_timeout_s
        reply = send("GET", self.events_url, headers=METADATA_HEADERS, timeout_s=timeout_s)
        if reply.status != 200:
            raise MetadataResponseError(self.events_url, reply.status, reply.text[:200])
        self._answered_once = True
        notices = [
            notice
            for event in _events(reply.text, self.events_url)
            if (notice := self._notice_for(event, reply.text)) is not None
        ]
        if not notices:
            return None
        return min(notices, key=lambda notice: notice.deadline or notice.received_at)

    def acknowledge(self, notice: PreemptionNotice) -> None:
        """Tell Azure it may start the event now (after the final checkpoint is written).

        Approval applies to every VM in the event's `Resources`, not only this one.
        """
        if notice.provider != "azure" or notice.event_id is None:
            raise ValueError("only an Azure notice with an event id can be acknowledged")
        body = json.dumps({"StartRequests": [{"EventId": notice.event_id}]}).encode()
        reply = send(
            "POST",
            self.events_url,
            headers={**METADATA_HEADERS, "Content-Type": "application/json"},
            timeout_s=self.timeout_s,
            body=body,
        )
        if not 200 <= reply.status < 300:
            raise MetadataResponseError(self.events_url, reply.status, reply.text[:200])

    def _notice_for(self, event: dict[str, object], raw: str) -> PreemptionNotice | None:
        kind = _KINDS.get(str(event.get("EventType", "")))
        if kind is None or event.get("EventStatus") not in ("Scheduled", "Started"):
            return None
        resources = event.get("Resources")
        name = self._this_vm_name()
        if name is not None and isinstance(resources, list) and name not in resources:
            return None
        received_at = datetime.now(UTC)
        not_before = event.get("NotBefore")
        deadline = (
            parse_http_date_utc(not_before, source=self.events_url)
            if isinstance(not_before, str)
            else None
        )
        event_id = event.get("EventId")
        return PreemptionNotice(
            provider="azure",
            kind=kind,
            deadline=deadline or received_at,
            raw=raw,
            received_at=received_at,
            event_id=str(event_id) if event_id is not None else None,
        )

    def _this_vm_name(self) -> str | None:
        if self._vm_name_resolved:
            return self.vm_name
        url = f"{self.base_url}{VM_NAME_PATH}?api-version={INSTANCE_API_VERSION}&format=text"
        try:
            reply = send("GET", url, headers=METADATA_HEADERS, timeout_s=self.timeout_s)
        except MetadataUnreachableError as error:
            logger.warning("azure: VM name unreadable (%s); every event counts", error.reason)
            return None  # try again on the next event
        self._vm_name_resolved = True
        if reply.status == 200 and reply.text.strip():
            self.vm_name = reply.text.strip()
        else:
            logger.warning("azure: VM name unreadable (HTTP %s); every event counts", reply.status)
        return self.vm_name


def _events(body: str, url: str) -> list[dict[str, object]]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise MetadataResponseError(url, 200, f"not JSON: {body[:200]!r}") from error
    events = document.get("Events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        raise MetadataResponseError(url, 200, "no Events array in the answer")
    return [event for event in events if isinstance(event, dict)]
