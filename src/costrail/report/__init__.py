"""The report a CTO reads: spend, trend, allocation, unit costs and every finding."""

from costrail.report.html import render_html
from costrail.report.json import render_json, report_dict
from costrail.report.markdown import render_markdown
from costrail.report.model import Report, build_report, report_for, team_expression

__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_json",
    "render_markdown",
    "report_dict",
    "report_for",
    "team_expression",
]
