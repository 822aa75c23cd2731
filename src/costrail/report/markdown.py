"""The report as Markdown (GitHub-flavoured tables): for pull requests, wikis and e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from costrail.findings import Finding
from costrail.report.model import Report, Spend
from costrail.report.text import day, pct, plain, usd

#: per unit (training run, endpoint), how many of the dearest are listed; JSON has them all
UNIT_ROWS_SHOWN = 20


def render_markdown(report: Report) -> str:
    sections = [
        _summary(report),
        _top_findings(report.top_findings),
        _spend(report),
        _allocations(report),
        _unit_costs(report),
        _all_findings(report.findings),
    ]
    return "\n\n".join(section.rstrip() for section in sections) + "\n"


def _summary(report: Report) -> str:
    latest = report.latest_month
    lines = [
        "# Cloud cost report",
        "",
        f"Charges {day(report.first_charge)} to {day(report.last_charge)} · warehouse "
        f"`{report.warehouse}` ({report.engine}) · generated "
        f"{report.generated_at.strftime('%Y-%m-%d %H:%M UTC')} by costrail",
        "",
        f"- **Total billed**: {usd(report.total.billed_cost_usd)} over {len(report.months)} "
        f"billing periods (effective {usd(report.total.effective_cost_usd)})",
    ]
    if latest:
        lines.append(
            f"- **Latest month** {latest.month}: {usd(latest.billed_cost_usd)} "
            f"({pct(latest.change_pct, signed=True)} vs the month before)"
        )
    lines.append(
        f"- **Savings potential**: {usd(report.monthly_savings_usd)} per month across "
        f"{len(report.findings)} findings"
    )
    if report.savings_by_kind:
        lines += ["", "| Kind | Findings | Saves / month |", "|---|---:|---:|"]
        lines += [
            f"| `{kind.kind}` | {kind.findings} | {usd(kind.monthly_savings_usd)} |"
            for kind in report.savings_by_kind
        ]
    return "\n".join(lines)


def _top_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "## Top findings\n\nNo finding above the reporting threshold."
    lines = [
        "## Top findings",
        "",
        "| # | Finding | Kind | Provider | Saves / month | Confidence |",
        "|---:|---|---|---|---:|---|",
    ]
    lines += [
        f"| {index} | {_cell(finding.title)} | `{finding.kind}` | {finding.provider} | "
        f"{usd(finding.monthly_savings_usd)} | {finding.confidence} |"
        for index, finding in enumerate(findings, start=1)
    ]
    return "\n".join(lines)


def _spend(report: Report) -> str:
    lines = [
        "## Spend",
        "",
        "| Month | Billed | Effective | vs month before |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {month.month} | {usd(month.billed_cost_usd)} | {usd(month.effective_cost_usd)} | "
        f"{pct(month.change_pct, signed=True)} |"
        for month in report.months
    ]
    lines += ["", _spend_table("Provider", report.providers)]
    lines += ["", _spend_table("Service category", report.service_categories)]
    return "\n".join(lines)


def _allocations(report: Report) -> str:
    lines = ["## Allocation"]
    for allocation in report.allocations:
        lines += [
            "",
            f"### By {allocation.dimension}",
            "",
            f"Tag keys {', '.join(allocation.tag_keys)} (values compared case-insensitively); "
            f"{pct(allocation.tagged_usage_pct)} of usage cost carries one.",
            "",
            _spend_table(allocation.dimension.capitalize(), allocation.groups),
        ]
    return "\n".join(lines)


def _unit_costs(report: Report) -> str:
    lines = ["## Unit costs", ""]
    if not report.unit_costs:
        return "\n".join([*lines, "No training jobs or endpoints in the bill."])
    lines += [
        "| Unit | Project | Model | Units | Mean per unit | Dearest | Total |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.unit} | {_cell(s.project)} | {_cell(s.model)} | {s.units} | {usd(s.mean_usd)} | "
        f"{usd(s.max_usd)} | {usd(s.total_usd)} |"
        for s in report.unit_cost_summaries
    ]
    for unit in sorted({item.unit for item in report.unit_costs}):
        items = [item for item in report.unit_costs if item.unit == unit]
        lines += [
            "",
            f"### Dearest {unit}s",
            "",
            "| Name | Provider | Team | Project | Charged | Cost |",
            "|---|---|---|---|---|---:|",
        ]
        lines += [
            f"| `{_cell(item.name)}` | {item.provider} | {_cell(item.team)} | "
            f"{_cell(item.project)} | {day(item.first_charge)} → {day(item.last_charge)} | "
            f"{usd(item.cost_usd)} |"
            for item in items[:UNIT_ROWS_SHOWN]
        ]
        if len(items) > UNIT_ROWS_SHOWN:
            lines += ["", f"… and {len(items) - UNIT_ROWS_SHOWN} more (all in the JSON report)."]
    return "\n".join(lines)


def _all_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "## Every finding\n\nNone."
    parts = ["## Every finding"]
    parts += [_finding(index, finding) for index, finding in enumerate(findings, start=1)]
    return "\n\n".join(parts)


def _finding(index: int, finding: Finding) -> str:
    scope = ", ".join(f"{key}={value}" for key, value in sorted(finding.scope.items())) or "—"
    lines = [
        f"### {index}. {finding.title}",
        "",
        f"`{finding.kind}` · {finding.provider} · saves **{usd(finding.monthly_savings_usd)}** "
        f"per month · confidence **{finding.confidence}**: {finding.confidence_reason}",
        "",
        f"- Scope: {scope}",
        f"- Resources: {', '.join(f'`{r}`' for r in finding.resources) or '—'}",
    ]
    lines += [f"- ⚠ {warning}" for warning in finding.warnings]
    lines += ["", "**Evidence**", "", *_mapping(finding.evidence)]
    lines += ["", "**Assumptions**", "", *_mapping(finding.assumptions)]
    lines += ["", f"**Fix**: {finding.remediation.action}"]
    if finding.remediation.snippet:
        language = {"aws-cli": "sh", "gcloud": "sh", "az": "sh", "terraform": "hcl"}.get(
            finding.remediation.snippet_kind or "", finding.remediation.snippet_kind or ""
        )
        lines += ["", f"```{language}", finding.remediation.snippet, "```"]
    return "\n".join(lines)


def _mapping(mapping: dict[str, Any]) -> list[str]:
    if not mapping:
        return ["—"]
    return [f"- {key}: {plain(value)}" for key, value in mapping.items()]


def _spend_table(label: str, groups: Sequence[Spend]) -> str:
    lines = [f"| {label} | Billed | Effective |", "|---|---:|---:|"]
    lines += [
        f"| {_cell(group.name)} | {usd(group.billed_cost_usd)} | {usd(group.effective_cost_usd)} |"
        for group in groups
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text safe inside a table cell: pipes escaped, newlines flattened."""
    return text.replace("|", "\\|").replace("\n", " ")
