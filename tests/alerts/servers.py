"""Local stand-ins for the alert services we cannot reach in tests, speaking their wire formats:
an HTTP server recording each JSON POST (Slack incoming webhook, generic webhook, PagerDuty
Events API v2 all are JSON over HTTP POST), and an aiosmtpd SMTP server recording messages."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Recorder:
    """Requests received (path, JSON body), and how many leading requests answer `fail_status`."""

    requests: list[tuple[str, Any]] = field(default_factory=list)
    hits: int = 0
    fail_first: int = 0
    fail_status: int = 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        return [body for _, body in self.requests]


@dataclass
class HttpServer:
    url: str
    recorder: Recorder


@contextmanager
def http_server(
    fail_first: int = 0, status: int = 200, reply: bytes = b"ok"
) -> Iterator[HttpServer]:
    recorder = Recorder(fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            with recorder.lock:
                recorder.hits += 1
                failing = recorder.hits <= recorder.fail_first
                if not failing:
                    recorder.requests.append((self.path, body))
            code = recorder.fail_status if failing else status
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"internal error" if failing else reply)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield HttpServer(f"http://{host}:{port}", recorder)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message]


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1: every DATA is parsed and kept."""
    from aiosmtpd.controller import Controller

    messages: list[Message] = []

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
            messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, messages)
    finally:
        controller.stop()
