"""Token usage normalised across providers (the OpenTelemetry GenAI counting convention).

Providers count the same request differently. OpenAI and Gemini report *all* prompt tokens
(cached ones included) as input; Anthropic reports cache reads and cache writes apart from
`input_tokens`. costrail stores one convention everywhere (see `schema/llm_requests.py`):
`input_tokens` includes cached reads and cache writes, `reasoning_tokens` are inside
`output_tokens`. Getting this wrong mis-prices every cached request, so each provider's shape
has its own small, tested function here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from costrail.errors import InputError


@dataclass(frozen=True)
class TokenUsage:
    """One request's tokens. `input_tokens` includes cached reads and cache writes."""

    input_tokens: int
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        for name in (
            "input_tokens",
            "cached_input_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
            "output_tokens",
            "reasoning_tokens",
        ):
            if getattr(self, name) < 0:
                raise InputError(f"{name} is negative", column=name)
        if self.uncached_input_tokens < 0:
            raise InputError(
                "cached_input_tokens + cache writes exceed input_tokens",
                column="input_tokens",
                hint="input_tokens must include cached reads and cache writes (OTel convention)",
            )

    @property
    def uncached_input_tokens(self) -> int:
        """Input billed at the plain input rate."""
        return (
            self.input_tokens
            - self.cached_input_tokens
            - self.cache_write_tokens
            - self.cache_write_1h_tokens
        )


def _int(mapping: Mapping[str, Any] | None, *names: str) -> int:
    """First present, non-null integer among `names` (0 when none): SDKs send nulls freely."""
    if not mapping:
        return 0
    for name in names:
        value = mapping.get(name)
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                raise InputError(f"token count {value!r} is not an integer", column=name) from None
    return 0


def _mapping(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    if hasattr(value, "model_dump"):  # an SDK pydantic object
        dumped = value.model_dump()
        return dumped if isinstance(dumped, Mapping) else {}
    raise InputError(f"usage must be an object, got {type(value).__name__}", column="usage")


def from_openai(usage: Mapping[str, Any] | Any) -> TokenUsage:
    """OpenAI chat.completions (`prompt_tokens`…) or Responses API (`input_tokens`…) usage.

    OpenAI counts cached tokens inside the prompt tokens and reasoning inside completion tokens,
    which is already the stored convention. OpenAI has no separately billed cache write.
    """
    data = _mapping(usage)
    if "input_tokens" in data or "output_tokens" in data:
        input_details = _mapping(data.get("input_tokens_details"))
        output_details = _mapping(data.get("output_tokens_details"))
        return TokenUsage(
            input_tokens=_int(data, "input_tokens"),
            cached_input_tokens=_int(input_details, "cached_tokens"),
            output_tokens=_int(data, "output_tokens"),
            reasoning_tokens=_int(output_details, "reasoning_tokens"),
        )
    prompt_details = _mapping(data.get("prompt_tokens_details"))
    completion_details = _mapping(data.get("completion_tokens_details"))
    return TokenUsage(
        input_tokens=_int(data, "prompt_tokens"),
        cached_input_tokens=_int(prompt_details, "cached_tokens"),
        output_tokens=_int(data, "completion_tokens"),
        reasoning_tokens=_int(completion_details, "reasoning_tokens"),
    )


def from_anthropic(usage: Mapping[str, Any] | Any) -> TokenUsage:
    """Anthropic Messages usage: `input_tokens` excludes cache reads and writes; add them back.

    Cache writes are split by TTL when the `cache_creation` object is present (5-minute and
    1-hour writes are priced differently); without it all writes are 5-minute writes, the
    API's default TTL.
    """
    data = _mapping(usage)
    uncached = _int(data, "input_tokens")
    cache_read = _int(data, "cache_read_input_tokens")
    creation = _mapping(data.get("cache_creation"))
    if creation:
        write_5m = _int(creation, "ephemeral_5m_input_tokens")
        write_1h = _int(creation, "ephemeral_1h_input_tokens")
    else:
        write_5m = _int(data, "cache_creation_input_tokens")
        write_1h = 0
    return TokenUsage(
        input_tokens=uncached + cache_read + write_5m + write_1h,
        cached_input_tokens=cache_read,
        cache_write_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        output_tokens=_int(data, "output_tokens"),
    )


def from_gemini(usage_metadata: Mapping[str, Any] | Any) -> TokenUsage:
    """Gemini `usageMetadata` (camelCase REST or snake_case SDK field names).

    `promptTokenCount` includes `cachedContentTokenCount`; tool-use prompt tokens are input
    too. Thinking tokens (`thoughtsTokenCount`) are *not* inside `candidatesTokenCount` but are
    billed at the output rate, so output = candidates + thoughts.
    """
    data = _mapping(usage_metadata)
    prompt = _int(data, "promptTokenCount", "prompt_token_count")
    tool_prompt = _int(data, "toolUsePromptTokenCount", "tool_use_prompt_token_count")
    cached = _int(data, "cachedContentTokenCount", "cached_content_token_count")
    candidates = _int(data, "candidatesTokenCount", "candidates_token_count")
    thoughts = _int(data, "thoughtsTokenCount", "thoughts_token_count")
    return TokenUsage(
        input_tokens=prompt + tool_prompt,
        cached_input_tokens=cached,
        output_tokens=candidates + thoughts,
        reasoning_tokens=thoughts,
    )
