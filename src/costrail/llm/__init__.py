"""LLM API spend: usage normalisation, prompt-prefix hashing and the `llm_requests` store."""
