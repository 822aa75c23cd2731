"""Analyses over the costs table; importing this package registers every analysis."""

from costrail.analyses.base import AnalysisContext, Thresholds, analyses, context_for, run

__all__ = ["AnalysisContext", "Thresholds", "analyses", "context_for", "run"]
