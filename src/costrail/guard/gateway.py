"""`costrail gateway`: an OpenAI-compatible (and Anthropic Messages) HTTP gateway enforcing the
guard in front of configured upstreams, with model aliases and fallback on upstream errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from costrail.errors import CostrailError
from costrail.guard.cache import CachedResponse, cache_key
from costrail.guard.config import GuardSection, Upstream
from costrail.guard.engine import Admission, Refused
from costrail.guard.protocol import Operation, bad_request, operation_for, refusal
from costrail.guard.runtime import Guard, Prepared
from costrail.guard.sse import UsageCapture

_PASSED_HEADERS = ("anthropic-version", "anthropic-beta", "openai-organization", "openai-project")
_KEPT_RESPONSE_HEADERS = ("content-type", "x-request-id", "request-id", "openai-processing-ms")


class _UpstreamFailed(Exception):
    """Every target failed with a connection error or 5xx; carries the last response."""

    def __init__(self, response: httpx.Response | None) -> None:
        self.response = response


def _error(parts: tuple[int, dict[str, str], bytes]) -> Response:
    status, headers, body = parts
    return Response(body, status_code=status, headers=headers)


class Gateway:
    """The request handlers; `create_app` wires them into Starlette.

    Upstream calls go straight to one pooled httpx transport rather than through an
    `httpx.AsyncClient`: the client's per-request work (URL merging and parsing, cookies,
    auth and redirect handling, event hooks) is all unused here and cost as much CPU as the
    guard itself. URLs are parsed once per upstream and operation.
    """

    def __init__(self, guard: Guard, upstream_transport: httpx.AsyncBaseTransport | None) -> None:
        self.guard = guard
        self.transport = upstream_transport or httpx.AsyncHTTPTransport(
            limits=upstream_limits(guard.settings)
        )
        self._urls: dict[tuple[str, str], httpx.URL] = {}

    def upstream_url(self, upstream: Upstream, operation: Operation) -> httpx.URL:
        key = (upstream.base_url, operation.name)
        url = self._urls.get(key)
        if url is None:
            url = httpx.URL(upstream.base_url.rstrip("/") + "/v1/" + _suffix(operation))
            self._urls[key] = url
        return url

    def targets(self, operation: Operation, model: str) -> list[tuple[str, Upstream, str]]:
        """(upstream name, upstream, upstream model) in fallback order."""
        settings = self.guard.settings
        if model in settings.aliases:
            pairs = [target.split("/", 1) for target in settings.aliases[model]]
            return [(name, settings.upstreams[name], target) for name, target in pairs]
        return [
            (name, upstream, model)
            for name, upstream in settings.upstreams.items()
            if upstream.provider == operation.wire
        ]

    async def proxy(self, request: Request) -> Response:
        operation = operation_for(request.url.path)
        assert operation is not None
        try:
            raw = await request.body()
        except ClientDisconnect:  # the caller gave up before sending its body: nobody to answer
            return Response(status_code=400)
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(bad_request(operation.wire, "the request body is not valid JSON"))
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(bad_request(operation.wire, "the request body needs a string 'model'"))
        targets = self.targets(operation, body["model"])
        if not targets:
            message = f"no upstream serves model {body['model']!r} on this gateway"
            return _error(bad_request(operation.wire, message, status=404))
        headers = dict(request.headers.items())  # ASGI header names are lower case
        try:
            identity = self.guard.identify(headers)
        except Refused as error:
            return _error(refusal(operation.wire, error.reason, error.message, 0))
        _, first, first_model = targets[0]
        prepared = self.guard.prepare(
            operation, body, identity, first.provider, first_model, raw=raw
        )
        # a fallback may be dearer than the first target: reserve for the dearest of them
        alternatives = tuple((upstream.provider, model) for _, upstream, model in targets[1:])
        prepared.call = replace(prepared.call, alternatives=alternatives)
        key = cache_key(request.url.path, body) if self.guard.cache.eligible(body) else None
        if key is not None and (hit := self.guard.cache.get(key)) is not None:
            return self._cached(prepared, hit)
        try:
            admission = await self.guard.engine.aadmit(prepared.call)
        except Refused as error:
            self.guard.record(
                prepared, status=f"refused_{error.reason}", http_status=429, settlement=None
            )
            return _error(refusal(operation.wire, error.reason, error.message, error.retry_after_s))
        return await self._forward(request, prepared, admission, targets, headers, key)

    def _cached(self, prepared: Prepared, hit: CachedResponse) -> Response:
        self.guard.engine.counters["cache_hits"] += 1
        self.guard.record(prepared, status="cache_hit", http_status=hit.status, settlement=None)
        return Response(
            hit.body,
            status_code=hit.status,
            media_type=hit.content_type,
            headers={"x-costrail-cache": "hit"},
        )

    async def _forward(
        self,
        request: Request,
        prepared: Prepared,
        admission: Admission,
        targets: list[tuple[str, Upstream, str]],
        headers: dict[str, str],
        key: str | None,
    ) -> Response:
        try:
            response, used_model, provider = await self._send(prepared, targets, headers)
        except _UpstreamFailed as failure:
            await self.guard.engine.arelease(admission)
            status = failure.response.status_code if failure.response is not None else 502
            self.guard.record(
                prepared, status="upstream_error", http_status=status, settlement=None
            )
            if failure.response is not None:
                return Response(
                    failure.response.content, status_code=status, headers=_kept(failure.response)
                )
            return _error(bad_request(prepared.operation.wire, "every upstream failed", 502))
        admission.call = replace(admission.call, model=used_model, provider=provider)
        if response.status_code >= 400:
            content = await response.aread()
            await response.aclose()
            await self.guard.engine.arelease(admission)
            self.guard.record(
                prepared,
                status=f"http_{response.status_code}",
                http_status=response.status_code,
                settlement=None,
                call=admission.call,
            )
            return Response(content, status_code=response.status_code, headers=_kept(response))
        if prepared.streamed:
            return StreamingResponse(
                self._relay(response, prepared, admission),
                status_code=response.status_code,
                headers=_kept(response),
            )
        content = await response.aread()
        await response.aclose()
        settlement = await self.guard.asettle_json(admission, prepared.operation, content)
        self.guard.record(
            prepared, status="ok", http_status=200, settlement=settlement, call=admission.call
        )
        if key is not None:
            media = response.headers.get("content-type", "application/json")
            self.guard.cache.put(key, CachedResponse(200, media, content))
        return Response(content, status_code=200, headers=_kept(response))

    async def _send(
        self, prepared: Prepared, targets: list[tuple[str, Upstream, str]], headers: dict[str, str]
    ) -> tuple[httpx.Response, str, str]:
        """Try each target in order; a connection error or 5xx moves on to the next."""
        last: httpx.Response | None = None
        for _name, upstream, model in targets:
            if model == prepared.body.get("model"):
                payload = prepared.content  # the caller's bytes when the guard changed nothing
            else:
                payload = json.dumps(dict(prepared.body, model=model)).encode()
            outbound = {k: headers[k] for k in _PASSED_HEADERS if k in headers}
            outbound["content-type"] = "application/json"
            outbound["accept-encoding"] = "identity"
            secret = upstream.resolved_api_key()
            if secret and upstream.provider == "anthropic":
                outbound["x-api-key"] = secret
                outbound.setdefault("anthropic-version", "2023-06-01")
            elif secret:
                outbound["authorization"] = f"Bearer {secret}"
            timeout_s = upstream.timeout_s
            upstream_request = httpx.Request(
                "POST",
                self.upstream_url(upstream, prepared.operation),
                content=payload,
                headers=outbound,
                extensions={
                    "timeout": {
                        "connect": timeout_s,
                        "read": timeout_s,
                        "write": timeout_s,
                        "pool": timeout_s,
                    }
                },
            )
            try:
                response = await self.transport.handle_async_request(upstream_request)
                response.request = upstream_request
            except httpx.TransportError:
                self.guard.engine.counters["upstream_connection_errors"] += 1
                continue
            if response.status_code >= 500:
                await response.aread()
                await response.aclose()
                self.guard.engine.counters["upstream_5xx"] += 1
                last = response
                continue
            return response, model, upstream.provider
        raise _UpstreamFailed(last)

    async def _relay(
        self, response: httpx.Response, prepared: Prepared, admission: Admission
    ) -> AsyncIterator[bytes]:
        """Pass each chunk on as it arrives; settle from the captured usage when done (also
        when the client goes away: then whatever was streamed is billed at the worst case)."""
        capture = UsageCapture(prepared.operation)
        status = "ok"
        try:
            async for chunk in response.aiter_raw():
                capture.feed(chunk)
                yield chunk
        except BaseException:
            status = "client_closed"
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await response.aclose()
                await self._settle_stream(capture, prepared, admission, status)

    async def _settle_stream(
        self, capture: UsageCapture, prepared: Prepared, admission: Admission, status: str
    ) -> None:
        usage = capture.usage
        if usage is None and capture.bytes_seen == 0:
            await self.guard.engine.arelease(admission)
            self.guard.record(
                prepared, status=status, http_status=200, settlement=None, call=admission.call
            )
            return
        settlement = await self.guard.engine.asettle(admission, usage)
        if usage is None and status == "ok":
            status = "stream_without_usage"
        self.guard.record(
            prepared, status=status, http_status=200, settlement=settlement, call=admission.call
        )

    async def models(self, request: Request) -> Response:
        settings = self.guard.settings
        names = list(settings.aliases)
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "costrail"} for n in names]
        return JSONResponse({"object": "list", "data": data})

    async def traces(self, request: Request) -> Response:
        """OTLP/HTTP JSON: GenAI spans from instrumented apps, into `llm_requests` (priced by
        the warehouse writer from the catalog, like every other source)."""
        from costrail.sources.llm.otel import spans_to_rows

        try:
            payload = json.loads(await request.body())
            rows = spans_to_rows(payload, source_file="otlp-http")
        except ValueError:
            return JSONResponse({"error": "the body is not OTLP JSON"}, status_code=400)
        except CostrailError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        for row in rows:
            self.guard.recorder.record(dict(row))
        return JSONResponse({"partialSuccess": {}})

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(self, request: Request) -> Response:
        lines = ["# TYPE costrail_guard_events_total counter"]
        for event, count in sorted(self.guard.engine.counters.items()):
            lines.append(f'costrail_guard_events_total{{event="{event}"}} {count}')
        lines.append("# TYPE costrail_guard_rows_written_total counter")
        lines.append(f"costrail_guard_rows_written_total {self.guard.recorder.rows_written}")
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def upstream_limits(settings: GuardSection) -> httpx.Limits:
    """One connection pool to the upstreams for the gateway's life: keep-alive connections
    are reused, so a call pays no TCP (or TLS) set-up. Few are kept idle by default on
    purpose: httpcore checks every idle pooled connection (one `poll` system call each, and a
    count over the whole pool) twice per request, so a few hundred idle connections left by
    a burst cost milliseconds of CPU on every later request. A burst still opens up to
    `max_connections`; raise `upstream_max_idle_connections` for upstreams that hold many
    calls at once (long generations), where reconnecting would cost more."""
    return httpx.Limits(
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=settings.upstream_max_idle_connections,
        keepalive_expiry=settings.upstream_idle_expiry_s,
    )


def _suffix(operation: Operation) -> str:
    return {"chat": "chat/completions"}.get(operation.name, operation.name)


def _kept(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS}


def create_app(
    guard: Guard, upstream_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """The ASGI app; `upstream_transport` replaces the network (tests, benchmarks)."""
    gateway = Gateway(guard, upstream_transport)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {}
        await gateway.transport.aclose()
        guard.close()

    routes = [
        Route(path, gateway.proxy, methods=["POST"])
        for path in ("/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/messages")
    ]
    routes += [
        Route("/v1/models", gateway.models, methods=["GET"]),
        Route("/v1/traces", gateway.traces, methods=["POST"]),
        Route("/healthz", gateway.healthz, methods=["GET"]),
        Route("/metrics", gateway.metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gateway = gateway
    return app


def app_from_config() -> Starlette:
    """The gateway app for the costrail.yaml named by `$COSTRAIL_CONFIG` (default
    ./costrail.yaml), for running uvicorn directly with its own options, e.g.
    `COSTRAIL_CONFIG=costrail.yaml uvicorn --factory costrail.guard.gateway:app_from_config`."""
    return create_app(Guard.from_config(None, source="gateway"))
