"""FOCUS conformance: evaluate the FOCUS 1.2 requirements model against a file or Ibis table."""

from costrail.conformance.check import check_file, check_table, infer_applicability
from costrail.conformance.model import ModelRule, RequirementsModel, load_model
from costrail.conformance.report import ConformanceReport, FailureExample, RuleResult

__all__ = [
    "ConformanceReport",
    "FailureExample",
    "ModelRule",
    "RequirementsModel",
    "RuleResult",
    "check_file",
    "check_table",
    "infer_applicability",
    "load_model",
]
