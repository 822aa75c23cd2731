"""Local stand-ins for the cloud metadata services, for tests only.

These are NOT the cloud services: each is a small `http.server` on 127.0.0.1 (port 0) that
speaks the documented wire protocol closely enough to exercise our clients the way the real
services would —
- AWS IMDSv2: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1..21600)
  returns a session token; every GET without a valid token gets 401; `spot/instance-action`
  and `events/recommendations/rebalance` are 404 until set, then JSON.
- GCP metadata server: every request needs `Metadata-Flavor: Google` (403 otherwise), answers
  carry `Metadata-Flavor: Google` and an `ETag`; `instance/preempted` is `TRUE`/`FALSE` and
  honours `wait_for_change=true`, `last_etag` and `timeout_sec`.
- Azure IMDS Scheduled Events: every request needs `Metadata: true` and an `api-version`
  (400 otherwise); GET returns `{"DocumentIncarnation", "Events"}`, POST `{"StartRequests"}`
  approves an event (400 for an unknown id); `instance/compute/name` gives the VM name.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def bare_get_status(url: str) -> int:
    """The HTTP status a GET of `url` without any header gets: how a stand-in (like the real
    service) answers a client that forgets the required header or, on IMDSv2, the token."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: MetadataStandIn

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.standin.requests.append((method, parsed.path, query, headers))
        status, reply_headers, reply_body = self.standin.answer(
            method, parsed.path, query, headers, body
        )
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply_body)))
        self.end_headers()
        self.wfile.write(reply_body)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


Reply = tuple[int, dict[str, str], bytes]


class MetadataStandIn:
    """Runs the server in a daemon thread; subclasses implement `answer`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class ImdsV2StandIn(MetadataStandIn):
    """AWS IMDSv2, token-then-GET."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, float] = {}
        self.instance_action: dict[str, str] | None = None
        self.rebalance: dict[str, str] | None = None
        self.raw_instance_action: bytes | None = None

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        if "x-forwarded-for" in headers:
            return 403, {}, b""
        if path == "/latest/api/token":
            return self._token(method, headers)
        if method != "GET":
            return 405, {}, b""
        token = headers.get("x-aws-ec2-metadata-token")
        if token is None or self.tokens.get(token, 0.0) < time.monotonic():
            return 401, {}, b""
        if path == "/latest/meta-data/spot/instance-action":
            if self.raw_instance_action is not None:
                return 200, {"Content-Type": "text/plain"}, self.raw_instance_action
            return _json_or_404(self.instance_action)
        if path == "/latest/meta-data/events/recommendations/rebalance":
            return _json_or_404(self.rebalance)
        return 404, {}, b""

    def _token(self, method: str, headers: dict[str, str]) -> Reply:
        if method != "PUT":
            return 405, {}, b""
        ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return 400, {}, b""
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + int(ttl)
        return (
            200,
            {"Content-Type": "text/plain", "X-aws-ec2-metadata-token-ttl-seconds": ttl},
            (token.encode()),
        )


class GcpMetadataStandIn(MetadataStandIn):
    """Compute Engine metadata server: `instance/preempted` with wait_for_change."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()
        self.preempted = False
        self.fail_status: int | None = None

    def preempt(self) -> None:
        with self._changed:
            self.preempted = True
            self._changed.notify_all()

    def _value(self) -> tuple[bytes, str]:
        value = b"TRUE" if self.preempted else b"FALSE"
        return value, hashlib.sha1(value).hexdigest()[:16]

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        flavor = {"Metadata-Flavor": "Google"}
        if headers.get("metadata-flavor") != "Google" or "x-forwarded-for" in headers:
            return 403, flavor, b"Missing Metadata-Flavor:Google header."
        if self.fail_status is not None:
            return self.fail_status, flavor, b"unavailable"
        if path == "/computeMetadata/v1/instance/id":
            return 200, flavor, b"4520031799277581759"
        if path != "/computeMetadata/v1/instance/preempted":
            return 404, flavor, b""
        if query.get("wait_for_change") == "true":
            self._wait(query)
        value, etag = self._value()
        return 200, {**flavor, "ETag": etag, "Content-Type": "application/text"}, value

    def _wait(self, query: dict[str, str]) -> None:
        timeout_s = float(query.get("timeout_sec", "60"))
        last_etag = query.get("last_etag")
        with self._changed:
            if last_etag is not None and last_etag != self._value()[1]:
                return  # changed since the caller's read: answer at once
            self._changed.wait_for(lambda: self._value()[1] != last_etag, timeout=timeout_s)


class ScheduledEventsStandIn(MetadataStandIn):
    """Azure IMDS Scheduled Events (api-version 2020-07-01) and `compute/name`."""

    def __init__(self, vm_name: str | None = "trainer-vm-0") -> None:
        super().__init__()
        self.vm_name = vm_name
        self.incarnation = 1
        self.events: list[dict[str, Any]] = []
        self.approved: list[str] = []

    def schedule(
        self,
        event_type: str,
        resources: list[str],
        *,
        not_before: str = "Mon, 19 Sep 2016 18:29:47 GMT",
        status: str = "Scheduled",
    ) -> str:
        event_id = secrets.token_hex(8).upper()
        self.events.append(
            {
                "EventId": event_id,
                "EventType": event_type,
                "ResourceType": "VirtualMachine",
                "Resources": resources,
                "EventStatus": status,
                "NotBefore": not_before,
                "Description": "stand-in event",
                "EventSource": "Platform",
                "DurationInSeconds": -1,
            }
        )
        self.incarnation += 1
        return event_id

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        if headers.get("metadata") != "true" or "api-version" not in query:
            return (
                400,
                {"Content-Type": "application/json"},
                (b'{"error": "Bad request. Required metadata header not specified"}'),
            )
        if path == "/metadata/scheduledevents":
            if method == "POST":
                return self._approve(body)
            document = {"DocumentIncarnation": self.incarnation, "Events": self.events}
            return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()
        if path == "/metadata/instance/compute/name" and self.vm_name is not None:
            return 200, {"Content-Type": "text/plain"}, self.vm_name.encode()
        if path == "/metadata/instance":
            document = {"compute": {"name": self.vm_name, "azEnvironment": "AzurePublicCloud"}}
            return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()
        return 404, {}, b""

    def _approve(self, body: bytes) -> Reply:
        try:
            requests = json.loads(body)["StartRequests"]
            ids = [str(request["EventId"]) for request in requests]
        except (ValueError, KeyError, TypeError):
            return 400, {}, b""
        known = {event["EventId"] for event in self.events}
        if not ids or any(event_id not in known for event_id in ids):
            return 400, {}, b""
        self.approved += ids
        return 200, {}, b""


def _json_or_404(document: dict[str, str] | None) -> Reply:
    if document is None:
        return 404, {"Content-Type": "text/html"}, b"<html>404 - Not Found</html>"
    return 200, {"Content-Type": "text/plain"}, json.dumps(document).encode()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
