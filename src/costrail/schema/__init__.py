"""Canonical table schemas: `costs` (FOCUS), `ingests`, `gpu_samples`, `llm_requests`."""

from costrail.schema.costs import (
    COSTS_SCHEMA,
    FOCUS_COLUMNS,
    FOCUS_MANDATORY_COLUMNS,
    MONEY,
    QUANTITY,
    TAGS,
    TIMESTAMP,
    conform_costs,
)
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.schema.ingests import INGESTS_SCHEMA
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA

__all__ = [
    "COSTS_SCHEMA",
    "FOCUS_COLUMNS",
    "FOCUS_MANDATORY_COLUMNS",
    "GPU_SAMPLES_SCHEMA",
    "INGESTS_SCHEMA",
    "LLM_REQUESTS_SCHEMA",
    "MONEY",
    "QUANTITY",
    "TAGS",
    "TIMESTAMP",
    "conform_costs",
]
