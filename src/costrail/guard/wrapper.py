"""The guard inside an application: an httpx transport for the official `openai` and
`anthropic` clients, so budgets, limits and records apply without a gateway hop.

    client = costrail.guard.wrap(openai.OpenAI(), guard=Guard.from_config())

A refusal is returned as the provider's own HTTP error response, so the SDK raises the
exception its users already handle (`openai.RateLimitError`, `anthropic.RateLimitError`).
Recent SDKs ship their own fork of httpx (`httpx2`) and reject `httpx` objects, so `wrap`
uses the transport classes made for whichever of the two the client's SDK imports.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, TypeVar

import httpx

from costrail.guard._transport import AsyncGuardedTransport, GuardedTransport, transport_classes
from costrail.guard.runtime import Guard

ClientT = TypeVar("ClientT")


def sdk_http_module(client: object) -> ModuleType:
    """The httpx flavour (`httpx` or `httpx2`) the client's SDK builds its HTTP client with."""
    package = type(client).__module__.split(".", 1)[0]
    try:
        base = importlib.import_module(f"{package}._base_client")
    except ImportError:
        return httpx
    for name in ("httpx2", "httpx"):
        module = getattr(base, name, None)
        if isinstance(module, ModuleType):
            return module
    return httpx


def wrap(client: ClientT, *, guard: Guard, transport: Any = None) -> ClientT:
    """A copy of an `openai`/`anthropic` client (sync or async) whose calls go through `guard`.

    `transport` is the inner transport to the provider (default: the network), of the same
    httpx flavour as the SDK.
    """
    http = sdk_http_module(client)
    sync_class, async_class = transport_classes(http)
    if type(client).__name__.startswith("Async"):
        http_client = http.AsyncClient(transport=async_class(guard, transport))
    else:
        http_client = http.Client(transport=sync_class(guard, transport))
    return client.with_options(http_client=http_client)  # type: ignore[attr-defined,no-any-return]


__all__ = [
    "AsyncGuardedTransport",
    "GuardedTransport",
    "sdk_http_module",
    "transport_classes",
    "wrap",
]
