"""Deterministic demo company (Acme AI) in native billing export formats, with ground truth."""

from costrail.demo.generate import DEFAULT_SEED, generate, generate_cur2_parquet
from costrail.demo.truth import PlantedItem, Truth

__all__ = ["DEFAULT_SEED", "PlantedItem", "Truth", "generate", "generate_cur2_parquet"]
