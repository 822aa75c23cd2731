"""A local stand-in for the OpenAI and Anthropic APIs, which are unreachable from tests.

It speaks their real wire formats — chat completions, responses, embeddings and messages, as
JSON and as server-sent events — and reports usage that never exceeds what the request
allows (input at most a quarter of the body's bytes, output at most the request's cap).
Usage is a pure function of the request body (plus `random` when `usage: random` is set),
so a streamed call and the same non-streamed call report the same tokens.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _usage_numbers(body: dict[str, Any], raw: bytes) -> tuple[int, int, int]:
    """(input, cached, output) tokens, deterministic for a body; random when it asks."""
    cap = int(
        body.get("max_completion_tokens")
        or body.get("max_tokens")
        or body.get("max_output_tokens")
        or 100_000  # no cap: a real model may run to its context limit
    )
    # the prompt alone decides usage, as with a real provider: streaming flags do not count
    prompt = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    canonical = json.dumps(prompt, sort_keys=True, separators=(",", ":")).encode()
    max_input = max(1, len(canonical) // 4)
    seed = int(hashlib.sha256(canonical).hexdigest()[:8], 16)
    rng = random.Random(seed if body.get("metadata", {}).get("usage") != "random" else None)
    input_tokens = rng.randint(max(1, max_input // 2), max_input)
    cached = int(body.get("metadata", {}).get("cached", 0))
    return input_tokens + cached, cached, rng.randint(1, cap)


async def chat(request: Request) -> Response:
    raw = await request.body()
    body = json.loads(raw)
    if body.get("user") == "fail-me":
        return JSONResponse(
            {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}},
            status_code=500,
        )
    prompt, cached, completion = _usage_numbers(body, raw)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    base = {
        "id": "chatcmpl-local",
        "created": 1_760_000_000,
        "model": body["model"],
        "system_fingerprint": "fp_local",
    }
    if not body.get("stream"):
        message = {"role": "assistant", "content": "ok " * 3, "refusal": None}
        return JSONResponse(
            {
                **base,
                "object": "chat.completion",
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
                ],
                "usage": usage,
            }
        )
    include_usage = (body.get("stream_options") or {}).get("include_usage")

    async def events() -> Any:
        for piece in ("o", "k", "!"):
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": piece},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
            }
            if include_usage:
                chunk["usage"] = None
            yield f"data: {json.dumps(chunk)}\n\n"
        final = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
        }
        yield f"data: {json.dumps(final)}\n\n"
        if include_usage:
            last = {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            yield f"data: {json.dumps(last)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def messages(request: Request) -> Response:
    raw = await request.body()
    body = json.loads(raw)
    total, cached, output = _usage_numbers(body, raw)
    write = int(body.get("metadata", {}).get("cache_write", 0))
    usage = {
        "input_tokens": total - cached,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": write,
        "output_tokens": output,
    }
    message = {
        "id": "msg_local",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "stop_reason": "end_turn",
        "stop_sequence": None,
    }
    if not body.get("stream"):
        return JSONResponse(
            {**message, "content": [{"type": "text", "text": "ok"}], "usage": usage}
        )

    async def events() -> Any:
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {**usage, "output_tokens": 1},
        }
        opening = {"type": "message_start", "message": start}
        yield f"event: message_start\ndata: {json.dumps(opening)}\n\n"
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        yield f"event: content_block_start\ndata: {json.dumps(block)}\n\n"
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "ok"},
        }
        yield f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n"
        stop = {"type": "content_block_stop", "index": 0}
        yield f"event: content_block_stop\ndata: {json.dumps(stop)}\n\n"
        end = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": output},
        }
        yield f"event: message_delta\ndata: {json.dumps(end)}\n\n"
        yield f"event: message_stop\ndata: {json.dumps({'type': 'message_stop'})}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def responses(request: Request) -> Response:
    """The Responses API: usage as `input_tokens`/`output_tokens` with details objects."""
    raw = await request.body()
    body = json.loads(raw)
    total, cached, output = _usage_numbers(body, raw)
    usage = {
        "input_tokens": total,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": total + output,
    }
    response = {
        "id": "resp_local",
        "object": "response",
        "model": body["model"],
        "status": "completed",
        "output": [],
        "usage": usage,
    }
    if not body.get("stream"):
        return JSONResponse(response)

    async def events() -> Any:
        created = {"type": "response.created", "response": {**response, "usage": None}}
        yield f"event: response.created\ndata: {json.dumps(created)}\n\n"
        delta = {"type": "response.output_text.delta", "delta": "ok"}
        yield f"event: response.output_text.delta\ndata: {json.dumps(delta)}\n\n"
        done = {"type": "response.completed", "response": response}
        yield f"event: response.completed\ndata: {json.dumps(done)}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def embeddings(request: Request) -> Response:
    raw = await request.body()
    body = json.loads(raw)
    tokens = max(1, len(raw) // 8)
    return JSONResponse(
        {
            "object": "list",
            "model": body["model"],
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def create_upstream() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
        ]
    )
