"""The canonical `llm_requests` table: one row per LLM API call, from any source.

Token counts follow the OpenTelemetry GenAI convention: `input_tokens` counts *all* input
tokens, cached reads and cache writes included (OpenAI and Gemini report it that way;
Anthropic reports them apart, and its readers add them back). So the uncached input is
`input_tokens - cached_input_tokens - cache_write_tokens - cache_write_1h_tokens`.
`reasoning_tokens` are part of `output_tokens`. Prompt text is never stored unless the
configuration allows it: prefix hashes stand for it.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from costrail.schema.costs import MONEY, TIMESTAMP

LLM_REQUESTS_SCHEMA = ibis.schema(
    {
        "time": TIMESTAMP,
        "request_id": dt.string,
        #: provider as in `gen_ai.provider.name`: "openai", "anthropic", "gcp.gemini",
        #: "aws.bedrock", "azure.ai.openai", "mistral_ai", …
        "provider": dt.string,
        "model": dt.string,
        #: "chat", "responses", "embeddings", "messages", "text_completion", …
        "operation": dt.string,
        "input_tokens": dt.int64,
        "cached_input_tokens": dt.int64,
        #: cache writes at the 5-minute TTL price, and at the 1-hour TTL price
        "cache_write_tokens": dt.int64,
        "cache_write_1h_tokens": dt.int64,
        "output_tokens": dt.int64,
        "reasoning_tokens": dt.int64,
        "batch": dt.boolean,
        "streamed": dt.boolean,
        "latency_ms": dt.float64,
        #: "ok", or the error type / code
        "status": dt.string,
        "http_status": dt.int32,
        "cost_usd": MONEY,
        #: "provider" (the source reported it), "catalog" (priced by costrail) or "unpriced"
        "cost_source": dt.string,
        "user": dt.string,
        "team": dt.string,
        "feature": dt.string,
        #: API key identity (a key alias or a hash, never the secret)
        "api_key": dt.string,
        #: hashes of the prompt's leading token blocks at the provider's caching granularity,
        #: shortest first, and the token count each hash covers
        "prefix_hashes": dt.Array(dt.string),
        "prefix_tokens": dt.Array(dt.int64),
        "prompt_text": dt.string,
        "trace_id": dt.string,
        "span_id": dt.string,
        #: "otel", "openai-usage", "anthropic-usage", "litellm", "jsonl", "gateway", "sdk"
        "source": dt.string,
        "source_file": dt.string,
        "ingest_id": dt.string,
        #: requests this row stands for: 1 (or null) for one call; a provider usage bucket
        #: (request_id "bucket:…", OpenAI/Anthropic usage reports) counts all its calls, null
        #: when the report gives no count
        "request_count": dt.int64,
    }
)
