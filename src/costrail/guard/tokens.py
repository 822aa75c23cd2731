"""An upper bound on a request's input tokens, computed from its JSON body without a tokenizer.

Why bytes bound tokens: OpenAI's and Anthropic's tokenizers are byte-level BPE, where every
token stands for at least one byte of UTF-8 text, so a text never has more tokens than bytes.
The chat framing adds a few special tokens per message, which `PER_MESSAGE_TOKENS` and
`PER_REQUEST_TOKENS` cover. Images, audio and file parts are not text: each is charged a
configured allowance (`guard.image_tokens`) instead of its base64 size. The bound is loose
(English text averages about four bytes per token) on purpose: the guard reserves it, then
settles the real usage and releases the rest.
"""

from __future__ import annotations

from typing import Any

PER_MESSAGE_TOKENS = 8
PER_REQUEST_TOKENS = 16
#: body keys that are generation parameters, not prompt content
_PARAMETER_KEYS = frozenset(
    {
        "model",
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "temperature",
        "top_p",
        "top_k",
        "n",
        "stream",
        "stream_options",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "user",
        "store",
        "metadata",
        "service_tier",
        "encoding_format",
        "dimensions",
        "parallel_tool_calls",
        "stop_sequences",
        "stop",
    }
)
_MEDIA_TYPES = frozenset(
    {"image_url", "image", "input_image", "input_audio", "audio", "file", "input_file", "document"}
)


def input_token_upper_bound(body: dict[str, Any], media_tokens: int = 4096) -> int:
    """Tokens the request's input can at most be billed for (see the module docstring)."""
    total = PER_REQUEST_TOKENS
    for key, value in body.items():
        if key in _PARAMETER_KEYS:
            continue
        total += _bytes_of(key) + _content_tokens(value, media_tokens)
    messages = body.get("messages")
    if isinstance(messages, list):
        total += PER_MESSAGE_TOKENS * len(messages)
    input_items = body.get("input")
    if isinstance(input_items, list):
        total += PER_MESSAGE_TOKENS * len(input_items)
    return total


def _content_tokens(value: Any, media_tokens: int) -> int:
    if isinstance(value, str):
        return _bytes_of(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float):
        # an embeddings input given as token ids: one token per id
        return max(1, len(str(value)))
    if isinstance(value, list):
        return sum(_content_tokens(item, media_tokens) for item in value)
    if isinstance(value, dict):
        if value.get("type") in _MEDIA_TYPES:
            return media_tokens
        return sum(
            _bytes_of(str(key)) + _content_tokens(item, media_tokens) for key, item in value.items()
        )
    return _bytes_of(str(value))


def _bytes_of(text: str) -> int:
    return len(text.encode("utf-8"))


def requested_output_tokens(body: dict[str, Any]) -> int | None:
    """The output cap the caller set, under any of the providers' spellings."""
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
