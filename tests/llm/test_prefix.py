"""Prefix hashes: deterministic, at each provider's caching granularity, shared when prompts are."""

from __future__ import annotations

from costrail.llm.prefix import estimate_tokens, prefix_hashes

SYSTEM = "You are a meticulous support agent. " * 200  # ~7,200 bytes ≈ 1,800 tokens


def _chat(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def test_same_prompt_always_gives_the_same_hashes() -> None:
    first = prefix_hashes(_chat("Where is my order?"), provider="openai")
    again = prefix_hashes(_chat("Where is my order?"), provider="openai")
    assert first == again and first[0]


def test_openai_boundaries_start_at_1024_tokens_in_128_token_steps() -> None:
    _, tokens = prefix_hashes("x" * (4 * 1500), provider="openai")
    assert tokens == [1024, 1152, 1280, 1408]


def test_prompt_below_the_minimum_has_no_hashes() -> None:
    assert prefix_hashes("short prompt", provider="openai") == ([], [])


def test_prompts_sharing_a_prefix_share_its_leading_hashes_only() -> None:
    a_hashes, a_tokens = prefix_hashes(_chat("Q1 " + "a" * 4000), provider="openai")
    b_hashes, b_tokens = prefix_hashes(_chat("Q2 " + "b" * 4000), provider="openai")
    shared_tokens = estimate_tokens(f"system\n{SYSTEM}\nuser\n") - 1
    shared = [i for i, tokens in enumerate(a_tokens) if tokens <= shared_tokens]
    assert shared and all(a_hashes[i] == b_hashes[i] for i in shared)
    assert a_hashes[len(shared)] != b_hashes[len(shared)]
    assert a_tokens == b_tokens


def test_anthropic_hashes_end_at_explicit_cache_breakpoints() -> None:
    body = {
        "system": [
            {"type": "text", "text": "Rules. " * 700, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Catalogue. " * 900},
        ],
        "messages": [{"role": "user", "content": "Hello"}],
    }
    _, tokens = prefix_hashes(body, provider="anthropic", model="claude-sonnet-4-5")
    first_block_bytes = len(("system\n" + "Rules. " * 700 + "\n").encode())
    assert tokens == [first_block_bytes // 4]  # only whole estimated tokens are hashed


def test_anthropic_haiku_needs_2048_tokens_before_a_breakpoint_counts() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "d" * 6000, "cache_control": {}}]}
    ]
    assert prefix_hashes(messages, provider="anthropic", model="claude-sonnet-4-5")[1]
    assert prefix_hashes(messages, provider="anthropic", model="claude-haiku-4-5")[1] == []


def test_a_deployment_salt_changes_every_hash() -> None:
    plain, _ = prefix_hashes("y" * 5000, provider="openai")
    salted, _ = prefix_hashes("y" * 5000, provider="openai", salt="acme")
    assert plain and not set(plain) & set(salted)
