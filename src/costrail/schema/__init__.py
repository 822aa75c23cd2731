"""Canonical table schemas: the FOCUS-shaped `costs` table and the `ingests` log."""

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
from costrail.schema.ingests import INGESTS_SCHEMA

__all__ = [
    "COSTS_SCHEMA",
    "FOCUS_COLUMNS",
    "FOCUS_MANDATORY_COLUMNS",
    "INGESTS_SCHEMA",
    "MONEY",
    "QUANTITY",
    "TAGS",
    "TIMESTAMP",
    "conform_costs",
]
