"""Exports of the canonical tables in standard formats (FOCUS 1.2 CostAndUsage)."""

from costrail.export.focus import ExportError, ExportResult, export_column_names, export_focus

__all__ = ["ExportError", "ExportResult", "export_column_names", "export_focus"]
