"""Usage captured from a server-sent-event stream while its bytes pass through unchanged.

OpenAI chat sends usage in a last chunk (only when `stream_options.include_usage` is set,
which the guard ensures); the Responses API in its `response.completed` event; Anthropic in
`message_start` (input and cache tokens) and `message_delta` (cumulative output tokens).
"""

from __future__ import annotations

import json
from typing import Any

from costrail.guard.protocol import Operation
from costrail.llm.usage import TokenUsage, from_anthropic, from_openai


class UsageCapture:
    """Feed it the raw stream bytes in any chunking; read `usage` at the end."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.bytes_seen = 0
        self._pending = b""
        self._openai_usage: dict[str, Any] | None = None
        self._anthropic_usage: dict[str, Any] = {}

    def feed(self, chunk: bytes) -> None:
        self.bytes_seen += len(chunk)
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            self._line(line.rstrip(b"\r"))

    @property
    def usage(self) -> TokenUsage | None:
        if self._pending:
            self._line(self._pending.rstrip(b"\r"))
            self._pending = b""
        if self.operation.wire == "anthropic":
            return from_anthropic(self._anthropic_usage) if self._anthropic_usage else None
        return from_openai(self._openai_usage) if self._openai_usage is not None else None

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        data = line[5:].strip()
        if not data or data == b"[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            return
        if isinstance(event, dict):
            self._event(event)

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if self.operation.wire == "anthropic":
            if kind == "message_start":
                usage = (event.get("message") or {}).get("usage")
                if isinstance(usage, dict):
                    self._anthropic_usage.update(usage)
            elif kind == "message_delta" and isinstance(event.get("usage"), dict):
                # cumulative counts: later values replace earlier ones; nulls do not
                usage = {k: v for k, v in event["usage"].items() if v is not None}
                self._anthropic_usage.update(usage)
            return
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            usage = (event.get("response") or {}).get("usage")
            if isinstance(usage, dict):
                self._openai_usage = usage
        elif isinstance(event.get("usage"), dict):
            self._openai_usage = event["usage"]
