"""One JSON POST for the HTTP channels; any non-2xx answer is a `DeliveryError`."""

from __future__ import annotations

from typing import Any

import httpx

from costrail.alerts.channels import DeliveryError


def post_json(
    url: str, payload: dict[str, Any], timeout_s: float, headers: dict[str, str] | None = None
) -> httpx.Response:
    try:
        response = httpx.post(url, json=payload, headers=headers or {}, timeout=timeout_s)
    except httpx.HTTPError as error:
        raise DeliveryError(f"POST {_safe(url)}: {error}") from error
    if not response.is_success:
        raise DeliveryError(f"POST {_safe(url)}: HTTP {response.status_code} {response.text[:200]}")
    return response


def _safe(url: str) -> str:
    """Webhook URLs carry their secret in the path; log only scheme and host."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}{':' + str(parsed.port) if parsed.port else ''}/…"
