"""The one HTTP seam the watchers use to talk to a link-local metadata service (stdlib only)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message

from costrail.spot.errors import MetadataUnreachableError

# Metadata services are link-local: a proxy from HTTP_PROXY/HTTPS_PROXY would answer for the
# wrong machine (or forward the request, which GCP and Azure refuse), so proxies are bypassed.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class HttpReply:
    """Status, lower-cased headers and body of one answer; 4xx/5xx are replies, not errors."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout_s: float,
    body: bytes | None = None,
) -> HttpReply:
    """Send one request and return the reply, whatever its status.

    Raises `MetadataUnreachableError` when no HTTP answer arrives within `timeout_s` seconds
    (connection refused, timeout, DNS failure, connection reset).
    """
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            return HttpReply(response.status, _lower(response.headers), response.read())
    except urllib.error.HTTPError as error:
        try:
            error_body = error.read()
        except (OSError, http.client.HTTPException):
            error_body = b""
        return HttpReply(error.code, _lower(error.headers), error_body)
    except urllib.error.URLError as error:
        raise MetadataUnreachableError(url, str(error.reason)) from error
    except (OSError, http.client.HTTPException) as error:  # timeouts, resets, bad status lines
        raise MetadataUnreachableError(url, f"{type(error).__name__}: {error}") from error


def _lower(message: Message | None) -> dict[str, str]:
    if message is None:
        return {}
    return {name.lower(): str(value) for name, value in message.items()}
