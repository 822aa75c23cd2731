"""LLM usage readers (OTel spans, OpenAI/Anthropic reports, LiteLLM logs, JSONL) and their route."""
