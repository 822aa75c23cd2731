"""The guarded httpx transports, defined for whichever httpx flavour an SDK uses: `httpx`, or
`httpx2`, the fork recent `openai`/`anthropic` SDKs import and require of their transports."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import httpx

from costrail.guard.engine import Admission, Refused
from costrail.guard.protocol import Operation, operation_for, refusal
from costrail.guard.runtime import Guard, Prepared
from costrail.guard.sse import UsageCapture

_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")

# Annotations below name `httpx` types; at run time the objects are those of the flavour the
# classes were made for (`httpx2` mirrors httpx's API, so the annotations describe both).


def _refused_response(http: Any, operation: Operation, error: Refused) -> httpx.Response:
    status, headers, body = refusal(
        operation.wire, error.reason, error.message, error.retry_after_s
    )
    response: httpx.Response = http.Response(status, headers=headers, content=body)
    return response


def _forwarded(http: Any, request: httpx.Request, prepared: Prepared) -> httpx.Request:
    headers = http.Headers(request.headers)
    headers["accept-encoding"] = "identity"  # bytes pass through as the caller will read them
    content = prepared.content
    headers["content-length"] = str(len(content))
    forwarded: httpx.Request = http.Request(
        request.method, request.url, headers=headers, content=content, extensions=request.extensions
    )
    return forwarded


def _response_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() not in _DROPPED_HEADERS}


def _prepare(guard: Guard, request: httpx.Request) -> tuple[Operation, Prepared] | None:
    """The guarded call in `request` (None: not one the guard handles); may raise `Refused`."""
    operation = operation_for(request.url.path)
    if operation is None or request.method != "POST":
        return None
    raw = request.read()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    identity = guard.identify(request.headers)
    return operation, guard.prepare(operation, body, identity, operation.wire, raw=raw)


def _settle_stream(
    guard: Guard, capture: UsageCapture, prepared: Prepared, admission: Admission
) -> None:
    """Usage from the stream; none but bytes sent → the worst case (never $0); nothing → release."""
    if admission.done:
        return
    usage = capture.usage
    if usage is None and capture.bytes_seen == 0:
        guard.engine.release(admission)
        guard.record(prepared, status="client_closed", http_status=200, settlement=None)
        return
    settlement = guard.engine.settle(admission, usage)
    status = "ok" if usage is not None else "stream_without_usage"
    guard.record(prepared, status=status, http_status=200, settlement=settlement)


def _record_failure(guard: Guard, prepared: Prepared, status_code: int) -> None:
    guard.record(prepared, status=f"http_{status_code}", http_status=status_code, settlement=None)


@functools.cache
def transport_classes(http: ModuleType) -> tuple[type[Any], type[Any]]:
    """(sync, async) guarded transport classes subclassing `http`'s `BaseTransport` and
    `AsyncBaseTransport`, where `http` is the `httpx` or `httpx2` module. Made once per module:
    an SDK's client accepts only transports of its own flavour."""
    sync_class = _sync_transport(http)
    async_class = _async_transport(http)
    return sync_class, async_class


def _sync_transport(http: ModuleType) -> type[Any]:
    transport_base: Any = http.BaseTransport
    stream_base: Any = http.SyncByteStream

    class GuardedTransport(transport_base):
        """A sync transport: guard, then forward to `inner` (the real network by default)."""

        def __init__(self, guard: Guard, inner: httpx.BaseTransport | None = None) -> None:
            self.guard = guard
            self.inner = inner or http.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            operation = operation_for(request.url.path)
            try:
                parsed = _prepare(self.guard, request)
                if parsed is None:
                    return self.inner.handle_request(request)
                operation, prepared = parsed
                admission = self.guard.engine.admit(prepared.call)
            except Refused as error:
                assert operation is not None
                return _refused_response(http, operation, error)
            try:
                response = self.inner.handle_request(_forwarded(http, request, prepared))
            except BaseException:
                self.guard.engine.release(admission)
                self.guard.record(
                    prepared, status="connection_error", http_status=0, settlement=None
                )
                raise
            if response.status_code >= 400 or not prepared.streamed:
                return self._finish_plain(response, prepared, admission)
            stream = _SyncCapturingStream(self.guard, response, prepared, admission)
            streamed: httpx.Response = http.Response(
                response.status_code,
                headers=_response_headers(response),
                stream=stream,
                extensions=response.extensions,
            )
            return streamed

        def _finish_plain(
            self, response: httpx.Response, prepared: Prepared, admission: Admission
        ) -> httpx.Response:
            try:
                content = response.read()
            finally:
                response.close()
            if response.status_code >= 400:
                self.guard.engine.release(admission)
                _record_failure(self.guard, prepared, response.status_code)
            else:
                settlement = self.guard.settle_json(admission, prepared.operation, content)
                self.guard.record(prepared, status="ok", http_status=200, settlement=settlement)
            plain: httpx.Response = http.Response(
                response.status_code, headers=_response_headers(response), content=content
            )
            return plain

        def close(self) -> None:
            self.inner.close()

    class _SyncCapturingStream(stream_base):
        def __init__(
            self, guard: Guard, response: httpx.Response, prepared: Prepared, admission: Admission
        ) -> None:
            self.guard, self.response = guard, response
            self.prepared, self.admission = prepared, admission
            self.capture = UsageCapture(prepared.operation)

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.response.iter_raw():
                self.capture.feed(chunk)
                yield chunk

        def close(self) -> None:
            self.response.close()
            _settle_stream(self.guard, self.capture, self.prepared, self.admission)

    return GuardedTransport


def _async_transport(http: ModuleType) -> type[Any]:
    transport_base: Any = http.AsyncBaseTransport
    stream_base: Any = http.AsyncByteStream

    class AsyncGuardedTransport(transport_base):
        """The async twin for `openai.AsyncOpenAI` and `anthropic.AsyncAnthropic`."""

        def __init__(self, guard: Guard, inner: httpx.AsyncBaseTransport | None = None) -> None:
            self.guard = guard
            self.inner = inner or http.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await request.aread()
            operation = operation_for(request.url.path)
            try:
                parsed = _prepare(self.guard, request)
                if parsed is None:
                    return await self.inner.handle_async_request(request)
                operation, prepared = parsed
                admission = await self.guard.engine.aadmit(prepared.call)
            except Refused as error:
                assert operation is not None
                return _refused_response(http, operation, error)
            try:
                forwarded = _forwarded(http, request, prepared)
                response = await self.inner.handle_async_request(forwarded)
            except BaseException:
                await self.guard.engine.arelease(admission)
                self.guard.record(
                    prepared, status="connection_error", http_status=0, settlement=None
                )
                raise
            if response.status_code >= 400 or not prepared.streamed:
                return await self._finish_plain(response, prepared, admission)
            stream = _AsyncCapturingStream(self.guard, response, prepared, admission)
            streamed: httpx.Response = http.Response(
                response.status_code,
                headers=_response_headers(response),
                stream=stream,
                extensions=response.extensions,
            )
            return streamed

        async def _finish_plain(
            self, response: httpx.Response, prepared: Prepared, admission: Admission
        ) -> httpx.Response:
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            if response.status_code >= 400:
                await self.guard.engine.arelease(admission)
                _record_failure(self.guard, prepared, response.status_code)
            else:
                settlement = await self.guard.asettle_json(admission, prepared.operation, content)
                self.guard.record(prepared, status="ok", http_status=200, settlement=settlement)
            plain: httpx.Response = http.Response(
                response.status_code, headers=_response_headers(response), content=content
            )
            return plain

        async def aclose(self) -> None:
            await self.inner.aclose()

    class _AsyncCapturingStream(stream_base):
        def __init__(
            self, guard: Guard, response: httpx.Response, prepared: Prepared, admission: Admission
        ) -> None:
            self.guard, self.response = guard, response
            self.prepared, self.admission = prepared, admission
            self.capture = UsageCapture(prepared.operation)

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.response.aiter_raw():
                self.capture.feed(chunk)
                yield chunk

        async def aclose(self) -> None:
            await self.response.aclose()
            _settle_stream(self.guard, self.capture, self.prepared, self.admission)

    return AsyncGuardedTransport


#: the transports for plain `httpx` clients
GuardedTransport, AsyncGuardedTransport = transport_classes(httpx)
