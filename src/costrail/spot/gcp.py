"""GCP Spot/preemptible VM preemption from the Compute Engine metadata server."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta

from costrail.spot.errors import MetadataResponseError
from costrail.spot.metadata_http import send
from costrail.spot.notice import NoticeKind, PreemptionNotice

GCP_METADATA_URL = "http://metadata.google.internal"
PREEMPTED_PATH = "/computeMetadata/v1/instance/preempted"
FLAVOR_HEADER = "Metadata-Flavor"
FLAVOR = "Google"
GCP_PREEMPTION_NOTICE_S = 30.0  # Compute Engine's documented best-effort notice


class GcpPreemptionWatcher:
    """Reads `instance/preempted` (`TRUE`/`FALSE`) with the `Metadata-Flavor: Google` header.

    GCP gives no deadline in the answer: the notice's deadline is the time it was seen plus
    `notice_s` (30 s by default, the documented preemption notice; the guest also receives an
    ACPI shutdown, i.e. SIGTERM for processes under systemd).

    With `wait_for_change=True` the watcher long-polls: the first call reads the value and its
    ETag, later calls send `?wait_for_change=true&last_etag=…&timeout_sec=…`, so the server
    answers as soon as the value changes (no change between two reads is missed) or after
    `wait_timeout_s`. Each `check()` then blocks up to `wait_timeout_s`; use it with `watch()`
    at `interval_s=0`. Preemption cannot be undone, so once seen the notice is kept.
    """

    provider = "gcp"

    def __init__(
        self,
        base_url: str = GCP_METADATA_URL,
        *,
        timeout_s: float = 1.0,
        wait_for_change: bool = False,
        wait_timeout_s: int = 60,
        notice_s: float = GCP_PREEMPTION_NOTICE_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.wait_for_change = wait_for_change
        self.wait_timeout_s = wait_timeout_s
        self.notice_s = notice_s
        self._etag: str | None = None
        self._notice: PreemptionNotice | None = None

    def check(self) -> PreemptionNotice | None:
        if self._notice is not None:
            return self._notice
        url, timeout_s = self._request_url()
        reply = send("GET", url, headers={FLAVOR_HEADER: FLAVOR}, timeout_s=timeout_s)
        if reply.status != 200:
            raise MetadataResponseError(url, reply.status, reply.text[:200])
        self._etag = reply.headers.get("etag", self._etag)
        value = reply.text.strip().upper()
        if value == "FALSE":
            return None
        if value != "TRUE":
            raise MetadataResponseError(url, reply.status, f"expected TRUE or FALSE: {value!r}")
        received_at = datetime.now(UTC)
        self._notice = PreemptionNotice(
            provider="gcp",
            kind=NoticeKind.PREEMPT,
            deadline=received_at + timedelta(seconds=self.notice_s),
            raw=reply.text,
            received_at=received_at,
        )
        return self._notice

    def _request_url(self) -> tuple[str, float]:
        url = self.base_url + PREEMPTED_PATH
        if not self.wait_for_change or self._etag is None:
            return url, self.timeout_s
        query = urllib.parse.urlencode(
            {
                "wait_for_change": "true",
                "last_etag": self._etag,
                "timeout_sec": str(self.wait_timeout_s),
            }
        )
        return f"{url}?{query}", self.wait_timeout_s + self.timeout_s
