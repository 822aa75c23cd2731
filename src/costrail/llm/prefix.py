"""Prompt-prefix hashes at each provider's caching granularity, so caching analyses never need text.

Providers cache a prompt's *leading* tokens. Two requests can share a cache entry only if their
prompts agree up to a cacheable boundary, so we hash the prompt's leading bytes at each such
boundary and store the hashes (never the text).

Token counts are *estimated without a tokenizer*: ``ceil(utf8_bytes / 4)`` of the canonical
serialisation below, and a prefix of ``n`` tokens is its first ``4 * n`` bytes. The estimate
is not the provider's token count, but it is deterministic, so the same prompt always yields
the same hashes, and it is close enough (±20 % on English text) for savings estimates.

Boundaries (in estimated tokens, fixed — never dependent on the prompt's own length, so a short
and a long prompt that share a prefix share its hashes):

* OpenAI and others: 1,024 tokens, then every 128 tokens up to 3,072; beyond that every 1,024
  tokens up to 16,384, then every 8,192 (coarser steps keep a 100k-token prompt to ~40 hashes).
* Anthropic: the ends of blocks marked with ``cache_control`` (explicit breakpoints); without
  any, the end of each message (where a breakpoint could go). A boundary counts only at or
  above the model's minimum: 1,024 tokens for most models, 2,048 for Haiku models.

A hash is the first 16 hex digits (64 bits) of SHA-256 over ``salt + prefix bytes``; a
per-deployment salt makes hashes useless for guessing common prompts across organisations.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

BYTES_PER_TOKEN = 4
HASH_HEX_DIGITS = 16
OPENAI_MIN_TOKENS = 1024
OPENAI_STEP_TOKENS = 128
ANTHROPIC_MIN_TOKENS = 1024
ANTHROPIC_HAIKU_MIN_TOKENS = 2048

Prompt = str | Sequence[Mapping[str, Any]] | Mapping[str, Any]


def estimate_tokens(text_or_bytes: str | bytes) -> int:
    """``ceil(utf8_bytes / 4)``: the tokenizer-free estimate every costrail component uses."""
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    return math.ceil(len(data) / BYTES_PER_TOKEN)


def prefix_hashes(
    messages_or_text: Prompt,
    *,
    provider: str,
    model: str | None = None,
    salt: str | bytes = b"",
) -> tuple[list[str], list[int]]:
    """Hashes of the prompt's cacheable leading blocks, shortest first, with their token counts.

    `messages_or_text` is plain text, a list of chat messages (``{"role", "content"}``, content a
    string or a list of blocks), or a request body with ``system``/``messages``/``input``/
    ``tools`` (serialised in the order providers put them in front of the model).
    """
    segments = _segments(messages_or_text)
    data = b"".join(chunk for chunk, _ in segments)
    salt_bytes = salt.encode("utf-8") if isinstance(salt, str) else salt
    total_tokens = len(data) // BYTES_PER_TOKEN  # only whole estimated tokens are hashable
    if _family(provider) == "anthropic":
        boundaries = _anthropic_boundaries(segments, model, total_tokens)
    else:
        boundaries = _step_boundaries(total_tokens)
    hashes = [_hash(salt_bytes, data[: tokens * BYTES_PER_TOKEN]) for tokens in boundaries]
    return hashes, boundaries


def _family(provider: str) -> str:
    name = provider.strip().lower()
    return "anthropic" if name in {"anthropic", "aws.bedrock", "bedrock"} else name


def _hash(salt: bytes, prefix: bytes) -> str:
    return hashlib.sha256(salt + prefix).hexdigest()[:HASH_HEX_DIGITS]


def _step_boundaries(total_tokens: int) -> list[int]:
    boundaries: list[int] = []
    tokens = OPENAI_MIN_TOKENS
    while tokens <= total_tokens:
        boundaries.append(tokens)
        if tokens < 3072:
            tokens += OPENAI_STEP_TOKENS
        elif tokens < 16384:
            tokens += 1024
        else:
            tokens += 8192
    return boundaries


def _anthropic_boundaries(
    segments: list[tuple[bytes, bool]], model: str | None, total_tokens: int
) -> list[int]:
    minimum = (
        ANTHROPIC_HAIKU_MIN_TOKENS if model and "haiku" in model.lower() else ANTHROPIC_MIN_TOKENS
    )
    explicit = any(breakpoint for _, breakpoint in segments)
    boundaries: list[int] = []
    offset = 0
    for chunk, breakpoint in segments:
        offset += len(chunk)
        if explicit and not breakpoint:
            continue
        tokens = min(offset // BYTES_PER_TOKEN, total_tokens)
        if tokens >= minimum and (not boundaries or tokens > boundaries[-1]):
            boundaries.append(tokens)
    return boundaries


def _segments(prompt: Prompt) -> list[tuple[bytes, bool]]:
    """Canonical bytes of each block in prompt order, and whether it ends a cache breakpoint."""
    if isinstance(prompt, str):
        return [(prompt.encode("utf-8"), False)]
    if isinstance(prompt, Mapping):
        segments: list[tuple[bytes, bool]] = []
        for tool in prompt.get("tools") or []:
            segments.append(_block("tool", tool))
        system = prompt.get("system")
        if isinstance(system, str):
            segments.append((f"system\n{system}\n".encode(), False))
        elif isinstance(system, Sequence):
            segments.extend(_block("system", block) for block in system)
        body = prompt.get("messages", prompt.get("input", prompt.get("contents", [])))
        segments.extend(_segments(body) if body is not None else [])
        return segments
    segments = []
    for message in prompt:
        role = str(message.get("role", ""))
        content = message.get("content", message.get("parts"))
        if isinstance(content, str):
            segments.append((f"{role}\n{content}\n".encode(), "cache_control" in message))
        elif isinstance(content, Sequence):
            segments.extend(_block(role, block) for block in content)
        else:
            segments.append(_block(role, message))
    return segments


def _block(role: str, block: Any) -> tuple[bytes, bool]:
    if isinstance(block, Mapping):
        breakpoint = "cache_control" in block
        text = block.get("text")
        if isinstance(text, str):
            return f"{role}\n{text}\n".encode(), breakpoint
        payload = {key: value for key, value in block.items() if key != "cache_control"}
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return f"{role}\n{canonical}\n".encode(), breakpoint
    return f"{role}\n{block}\n".encode(), False
