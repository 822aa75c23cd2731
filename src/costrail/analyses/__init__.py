"""Analyses over the costs table; importing this package registers every analysis."""

from costrail.analyses.base import AnalysisContext, Thresholds, analyses, context_for, run

__all__ = ["AnalysisContext", "Thresholds", "analyses", "context_for", "run"]
from costrail.analyses import (
    allocation,  # noqa: F401
    always_on,  # noqa: F401
    anomalies,  # noqa: F401
    commitments,  # noqa: F401
    endpoints,  # noqa: F401
    gpu_fleet,  # noqa: F401
    gpu_idle,  # noqa: F401
    gpu_low_util,  # noqa: F401
    gpu_oversized,  # noqa: F401
    gpu_zombie,  # noqa: F401
    llm_batch,  # noqa: F401
    llm_caching,  # noqa: F401
    llm_downgrade,  # noqa: F401
    llm_runaway,  # noqa: F401
    llm_spend,  # noqa: F401
    logs,  # noqa: F401
    regions,  # noqa: F401
    spot,  # noqa: F401
    sprawl,  # noqa: F401
    storage,  # noqa: F401
    transfer,  # noqa: F401
)
