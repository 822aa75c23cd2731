"""The guard inside an application: an httpx transport for the official `openai` and
`anthropic` clients, so budgets, limits and records apply without a gateway hop.

    client = costrail.guard.wrap(openai.OpenAI(), guard=Guard.from_config())

A refusal is returned as the provider's own HTTP error response, so the SDK raises the
exception its users already handle (`openai.RateLimitError`, `anthropic.RateLimitError`).
Recent SDKs ship their own fork of httpx (`httpx2`) and reject `httpx` objects, so `wrap`
binds the same transport code to whichever of the two the client's SDK imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any, TypeVar

from costrail.guard import _transport
from costrail.guard._transport import AsyncGuardedTransport, GuardedTransport
from costrail.guard.runtime import Guard

ClientT = TypeVar("ClientT")
_bound: dict[str, types.ModuleType] = {"httpx": _transport}


def transports_for(http_module: str) -> types.ModuleType:
    """`_transport` with its `httpx` name bound to `http_module` ("httpx" or "httpx2")."""
    if http_module not in _bound:
        spec = importlib.util.find_spec(_transport.__name__)
        assert spec is not None and spec.loader is not None
        source = spec.loader.get_source(_transport.__name__)  # type: ignore[attr-defined]
        name = f"{_transport.__name__}_{http_module}"
        module = types.ModuleType(name)
        module.__dict__["__name__"] = name
        sys.modules[name] = module
        bound_source = source.replace("import httpx\n", f"import {http_module} as httpx\n", 1)
        exec(compile(bound_source, _transport.__file__ or name, "exec"), module.__dict__)
        _bound[http_module] = module
    return _bound[http_module]


def _sdk_http_module(client: object) -> str:
    package = type(client).__module__.split(".", 1)[0]
    try:
        base = importlib.import_module(f"{package}._base_client")
    except ImportError:
        return "httpx"
    return "httpx2" if hasattr(base, "httpx2") else "httpx"


def wrap(client: ClientT, *, guard: Guard, transport: Any = None) -> ClientT:
    """A copy of an `openai`/`anthropic` client (sync or async) whose calls go through `guard`.

    `transport` is the inner transport to the provider (default: the network), of the same
    httpx flavour as the SDK.
    """
    bound = transports_for(_sdk_http_module(client))
    http = importlib.import_module(bound.httpx.__name__)
    if type(client).__name__.startswith("Async"):
        http_client = http.AsyncClient(transport=bound.AsyncGuardedTransport(guard, transport))
    else:
        http_client = http.Client(transport=bound.GuardedTransport(guard, transport))
    return client.with_options(http_client=http_client)  # type: ignore[attr-defined,no-any-return]


__all__ = ["AsyncGuardedTransport", "GuardedTransport", "transports_for", "wrap"]
