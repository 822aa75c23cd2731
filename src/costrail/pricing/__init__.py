"""Price catalogs (GPU instances, later LLM tokens and storage tiers) shipped as package data."""
