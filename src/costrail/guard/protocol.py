"""The providers' wire formats as the guard needs them: which path is which operation, how a
request body is bounded and capped, where usage sits in a response, and how a refusal looks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from costrail.guard.tokens import input_token_upper_bound, requested_output_tokens
from costrail.llm.usage import TokenUsage, from_anthropic, from_openai

#: path suffix → (wire format, operation); matched on the end so `/openai/v1/...` works too
_OPERATIONS = {
    "/chat/completions": ("openai", "chat"),
    "/responses": ("openai", "responses"),
    "/embeddings": ("openai", "embeddings"),
    "/messages": ("anthropic", "messages"),
}


@dataclass(frozen=True)
class Operation:
    wire: str
    name: str


def operation_for(path: str) -> Operation | None:
    """The guarded operation at `path`, or None for anything the guard passes through."""
    trimmed = path.rstrip("/")
    for suffix, (wire, name) in _OPERATIONS.items():
        if trimmed.endswith(suffix):
            return Operation(wire, name)
    return None


@dataclass(frozen=True)
class Bounds:
    input_tokens_max: int
    output_tokens_max: int
    #: whether `cap_request` edited the body (if not, the caller's bytes can be sent as-is)
    changed: bool = False


def cap_request(operation: Operation, body: dict[str, Any], default_max_tokens: int) -> Bounds:
    """Bound the call's tokens, editing `body` in place so the bound holds upstream:

    - no output cap → inject `default_max_tokens` (`max_completion_tokens` for chat,
      `max_output_tokens` for responses, `max_tokens` for messages);
    - a streamed OpenAI chat call without `stream_options.include_usage` gets it, otherwise
      OpenAI sends no usage in the stream and the call could not be billed exactly.
    """
    if operation.name == "embeddings":
        return Bounds(input_token_upper_bound(body), 0)
    changed = False
    output_max = requested_output_tokens(body)
    if output_max is None:
        changed = True
        output_max = default_max_tokens
        key = {"chat": "max_completion_tokens", "responses": "max_output_tokens"}.get(
            operation.name, "max_tokens"
        )
        body[key] = output_max
    choices = body.get("n") if operation.name == "chat" else 1
    if isinstance(choices, int) and not isinstance(choices, bool) and choices > 1:
        output_max *= choices
    if operation.name == "chat" and body.get("stream") is True:
        options = body.get("stream_options")
        options = dict(options) if isinstance(options, dict) else {}
        changed = changed or options.get("include_usage") is not True
        options["include_usage"] = True
        body["stream_options"] = options
    return Bounds(input_token_upper_bound(body), output_max, changed)


def usage_from_response(operation: Operation, payload: dict[str, Any]) -> TokenUsage | None:
    """The usage object of a non-streamed response (None when the upstream sent none)."""
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    if operation.wire == "anthropic":
        return from_anthropic(usage)
    return from_openai(usage)


def refusal(
    wire: str, reason: str, message: str, retry_after_s: float
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a refusal in the provider's own error format, so the
    official SDKs raise their usual exception (`RateLimitError`, `AuthenticationError`, …).

    Budget refusals carry `x-should-retry: false`: the OpenAI and Anthropic SDKs honour it and
    do not retry a request that will be refused again until the period rolls over.
    """
    status = 401 if reason == "auth" else 400 if reason == "unpriced" else 429
    headers = {"content-type": "application/json"}
    if reason == "rate":
        headers["retry-after"] = str(max(1, int(retry_after_s + 0.999)))
    else:
        headers["x-should-retry"] = "false"
    if wire == "anthropic":
        kind = {
            "auth": "authentication_error",
            "unpriced": "invalid_request_error",
        }.get(reason, "rate_limit_error")
        body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        kind = {
            "budget": "insufficient_quota",
            "rate": "rate_limit_exceeded",
            "auth": "invalid_request_error",
            "unpriced": "invalid_request_error",
        }[reason]
        code = {"auth": "invalid_api_key", "unpriced": "model_not_priced"}.get(reason, kind)
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return status, headers, json.dumps(body).encode()


def bad_request(wire: str, message: str, status: int = 400) -> tuple[int, dict[str, str], bytes]:
    """A client error (unreadable body, unknown model) in the provider's format."""
    if wire == "anthropic":
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
        }
    else:
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
    return status, {"content-type": "application/json"}, json.dumps(body).encode()
