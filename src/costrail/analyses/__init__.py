"""Analyses over the costs table; importing this package registers every analysis."""

from costrail.analyses.base import AnalysisContext, Thresholds, analyses, context_for, run

__all__ = ["AnalysisContext", "Thresholds", "analyses", "context_for", "run"]
from costrail.analyses import (
    allocation,  # noqa: F401
    always_on,  # noqa: F401
    commitments,  # noqa: F401
    endpoints,  # noqa: F401
    logs,  # noqa: F401
    regions,  # noqa: F401
    spot,  # noqa: F401
    sprawl,  # noqa: F401
    storage,  # noqa: F401
    transfer,  # noqa: F401
)
