"""The LLM spend guard: budgets with reserve-then-settle, rate limits, SDK wrapper and gateway.

Names are imported on first use, so loading costrail.yaml (which imports `guard.config`)
does not pull in httpx, the stores and the price catalog.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Guard": "costrail.guard.runtime",
    "wrap": "costrail.guard.wrapper",
    "GuardedTransport": "costrail.guard.wrapper",
    "AsyncGuardedTransport": "costrail.guard.wrapper",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'costrail.guard' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
