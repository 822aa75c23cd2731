"""An exact-match response cache, in process memory: the same model and canonical request
body within the TTL get the stored response without an upstream call (and cost nothing).

Only non-streamed calls with `temperature: 0` are cached unless `cache.any_temperature` is
set, since a sampled answer is not "the" answer. Each gateway replica has its own cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from costrail.guard.config import CacheSettings


@dataclass(frozen=True)
class CachedResponse:
    status: int
    content_type: str
    body: bytes


def cache_key(path: str, body: dict[str, Any], identity_scope: str = "") -> str:
    """Hash of the operation and the body with keys sorted (so key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    material = f"{path}\n{identity_scope}\n{canonical}".encode()
    return hashlib.sha256(material).hexdigest()


class ResponseCache:
    def __init__(self, settings: CacheSettings, clock: Any = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, CachedResponse]] = OrderedDict()

    def eligible(self, body: dict[str, Any]) -> bool:
        if not self.settings.enabled or body.get("stream") is True:
            return False
        return self.settings.any_temperature or body.get("temperature") in (0, 0.0)

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, response = entry
            if self._clock() - stored_at > self.settings.ttl_s:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return response

    def put(self, key: str, response: CachedResponse) -> None:
        with self._lock:
            self._entries[key] = (self._clock(), response)
            self._entries.move_to_end(key)
            while len(self._entries) > self.settings.max_entries:
                self._entries.popitem(last=False)
