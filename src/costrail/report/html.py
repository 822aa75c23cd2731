"""The report as one self-contained HTML file: inline CSS, Plotly's JS inlined, no network needed.

Every piece of text from the bill or a finding is escaped. Chart figures travel as JSON in
`<script type="application/json">` blocks (with `<`, `>` and `&` escaped) and are drawn by
`Plotly.newPlot` once the page loads; chart values are the exact amounts rounded to the cent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

from costrail.findings import Finding
from costrail.report.model import Allocation, Report, Spend, UnitCost
from costrail.report.text import cents, day, pct, plain, usd

#: per unit (training run, endpoint), how many of the dearest are listed; JSON has them all
UNIT_ROWS_SHOWN = 20
#: a list in a finding's evidence longer than this is cut, with a count of the rest
LIST_ITEMS_SHOWN = 25
CHART_IDS = ("chart-spend-by-month", "chart-spend-by-team", "chart-savings-by-kind")
#: the chart that spans the whole row (long category labels)
WIDE_CHARTS = ("chart-savings-by-kind",)
#: one colour per provider, the same in every report
PROVIDER_COLOURS = {"aws": "#ff9900", "gcp": "#4285f4", "azure": "#0078d4", "oci": "#c74634"}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;
background:#f5f7fa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:2px solid #d9e2ec;padding-bottom:4px}
.meta{color:#627d98;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px;margin:16px 0}
.card{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .label{color:#627d98;font-size:13px}.card .value{font-size:26px;font-weight:600}
.card .note{font-size:13px;color:#486581}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.chart{background:#fff;border-radius:8px;min-height:380px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.chart.wide{grid-column:1/-1}
table{border-collapse:collapse;background:#fff;margin:8px 0 16px;font-size:14px}
th,td{border:1px solid #d9e2ec;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.finding{background:#fff;border-radius:8px;padding:4px 16px 12px;margin:14px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.finding h3{margin:12px 0 4px}.kind{font-family:monospace;background:#e3f2fd;padding:1px 6px;
border-radius:4px}.saving{color:#0b7a3e;font-weight:600}
.warning{color:#9b1c1c}pre{background:#102a43;color:#f0f4f8;padding:10px;border-radius:6px;
overflow-x:auto;font-size:13px}code{font-family:ui-monospace,monospace}
.muted{color:#829ab1}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 24px}
"""

_DRAW = """
document.querySelectorAll('script[data-figure]').forEach(function (node) {
  var figure = JSON.parse(node.textContent);
  Plotly.newPlot(node.getAttribute('data-figure'), figure.data, figure.layout,
                 {displaylogo: false, responsive: true});
});
"""


def render_html(report: Report, plotly_js: str | None = None) -> str:
    """The whole page. `plotly_js` defaults to the copy shipped inside the `plotly` package."""
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    body = "\n".join(
        [
            _header(report),
            _cards(report),
            _charts(report),
            _top_findings(report.top_findings),
            _spend_tables(report),
            _allocations(report.allocations),
            _unit_costs(report),
            _all_findings(report.findings),
        ]
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>costrail report</title>"
        f"<style>{_STYLE}</style>"
        f"<script>{plotly_js}</script></head>\n"
        f"<body><main>\n{body}\n</main>\n<script>{_DRAW}</script></body></html>\n"
    )


def figures(report: Report) -> dict[str, dict[str, Any]]:
    """The three Plotly figures (data + layout) keyed by the id of the element they draw into."""
    return {
        CHART_IDS[0]: _spend_by_month_figure(report),
        CHART_IDS[1]: _spend_by_team_figure(report),
        CHART_IDS[2]: _savings_by_kind_figure(report),
    }


def _header(report: Report) -> str:
    return (
        "<h1>Cloud cost report</h1>"
        f"<p class='meta'>Charges {day(report.first_charge)} to {day(report.last_charge)} · "
        f"warehouse {escape(report.warehouse)} ({escape(report.engine)}) · generated "
        f"{escape(report.generated_at.strftime('%Y-%m-%d %H:%M UTC'))} by costrail</p>"
    )


def _cards(report: Report) -> str:
    latest = report.latest_month
    latest_value = usd(latest.billed_cost_usd) if latest else "—"
    latest_note = (
        f"{escape(latest.month)} · {pct(latest.change_pct, signed=True)} vs the month before"
        if latest
        else "no billing periods loaded"
    )
    savings_note = f"across {len(report.findings)} findings"
    if latest and latest.billed_cost_usd > 0:
        share = report.monthly_savings_usd / latest.billed_cost_usd * 100
        savings_note += f" · {share:.1f} % of the latest month"
    cards = [
        ("Total billed", usd(report.total.billed_cost_usd), f"{len(report.months)} periods"),
        ("Latest month", latest_value, latest_note),
        ("Savings potential / month", usd(report.monthly_savings_usd), savings_note),
        (
            "Effective cost",
            usd(report.total.effective_cost_usd),
            "after commitment discounts, amortised",
        ),
    ]
    items = "".join(
        f"<div class='card'><div class='label'>{escape(label)}</div>"
        f"<div class='value'>{escape(value)}</div><div class='note'>{note}</div></div>"
        for label, value, note in cards
    )
    return f"<section class='cards'>{items}</section>"


def _charts(report: Report) -> str:
    blocks = []
    for chart_id, figure in figures(report).items():
        payload = _script_json(figure)
        blocks.append(
            f"<div class='chart{' wide' if chart_id in WIDE_CHARTS else ''}' id='{chart_id}'></div>"
            f"<script type='application/json' data-figure='{chart_id}'>{payload}</script>"
        )
    return "<h2>Where the money goes</h2><section class='charts'>" + "".join(blocks) + "</section>"


def _top_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "<h2>Top findings</h2><p>No finding above the reporting threshold.</p>"
    rows: list[list[Cell]] = [
        [
            f"<a href='#finding-{index}'>{escape(finding.title)}</a>",
            f"<span class='kind'>{escape(finding.kind)}</span>",
            escape(finding.provider),
            _num(usd(finding.monthly_savings_usd)),
            escape(finding.confidence),
        ]
        for index, finding in enumerate(findings, start=1)
    ]
    headers = ["Finding", "Kind", "Provider", "Saves / month", "Confidence"]
    return "<h2>Top findings</h2>" + _table(headers, rows)


def _spend_tables(report: Report) -> str:
    months: list[list[Cell]] = [
        [
            escape(month.month),
            _num(usd(month.billed_cost_usd)),
            _num(usd(month.effective_cost_usd)),
            _num(pct(month.change_pct, signed=True)),
        ]
        for month in report.months
    ]
    return (
        "<h2>Spend</h2><h3>By month</h3>"
        + _table(["Month", "Billed", "Effective", "vs month before"], months)
        + "<h3>By provider</h3>"
        + _spend_table("Provider", report.providers)
        + "<h3>By service category</h3>"
        + _spend_table("Service category", report.service_categories)
    )


def _allocations(allocations: Iterable[Allocation]) -> str:
    parts = ["<h2>Allocation</h2>"]
    for allocation in allocations:
        keys = ", ".join(allocation.tag_keys)
        parts.append(
            f"<h3>By {escape(allocation.dimension)}</h3><p class='muted'>Tag keys {escape(keys)} "
            "(values compared case-insensitively); "
            f"{pct(allocation.tagged_usage_pct)} of usage cost carries one.</p>"
        )
        parts.append(_spend_table(allocation.dimension.capitalize(), allocation.groups))
    return "".join(parts)


def _unit_costs(report: Report) -> str:
    parts = [
        "<h2>Unit costs</h2>",
        "<p class='muted'>One training run = one training job ResourceId (SageMaker, Vertex AI); "
        "one endpoint = one endpoint ResourceId, over its whole life in the warehouse.</p>",
    ]
    if not report.unit_costs:
        parts.append("<p>No training jobs or endpoints in the bill.</p>")
        return "".join(parts)
    summaries: list[list[Cell]] = [
        [
            escape(summary.unit),
            escape(summary.project),
            escape(summary.model),
            _num(str(summary.units)),
            _num(usd(summary.mean_usd)),
            _num(usd(summary.max_usd)),
            _num(usd(summary.total_usd)),
        ]
        for summary in report.unit_cost_summaries
    ]
    headers = ["Unit", "Project", "Model", "Units", "Mean per unit", "Dearest", "Total"]
    parts.append(_table(headers, summaries))
    for unit in sorted({item.unit for item in report.unit_costs}):
        parts.append(_unit_list(unit, [item for item in report.unit_costs if item.unit == unit]))
    return "".join(parts)


def _unit_list(unit: str, items: list[UnitCost]) -> str:
    rows: list[list[Cell]] = [
        [
            f"<code>{escape(item.name)}</code>",
            escape(item.provider),
            escape(item.team),
            escape(item.project),
            f"{day(item.first_charge)} → {day(item.last_charge)}",
            _num(usd(item.cost_usd)),
        ]
        for item in items[:UNIT_ROWS_SHOWN]
    ]
    more = len(items) - UNIT_ROWS_SHOWN
    note = f"<p class='muted'>… and {more} more (all in the JSON report).</p>" if more > 0 else ""
    headers = ["Name", "Provider", "Team", "Project", "Charged", "Cost"]
    return f"<h3>Dearest {escape(unit)}s</h3>" + _table(headers, rows) + note


def _all_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "<h2>Every finding</h2><p>None.</p>"
    sections = [_finding(index, finding) for index, finding in enumerate(findings, start=1)]
    return "<h2>Every finding</h2>" + "".join(sections)


def _finding(index: int, finding: Finding) -> str:
    scope = ", ".join(f"{key}={value}" for key, value in sorted(finding.scope.items()))
    cost = (
        ""
        if finding.monthly_cost_usd is None
        else f" of {usd(finding.monthly_cost_usd)} it costs per month"
    )
    parts = [
        f"<section class='finding' id='finding-{index}'>",
        f"<h3>{index}. {escape(finding.title)}</h3>",
        f"<p><span class='kind'>{escape(finding.kind)}</span> · {escape(finding.provider)}"
        f" · saves <span class='saving'>{escape(usd(finding.monthly_savings_usd))}</span>"
        f" per month{escape(cost)} · confidence <b>{escape(finding.confidence)}</b>: "
        f"{escape(finding.confidence_reason)}</p>",
        f"<p><b>Scope</b>: {escape(scope) or '—'}</p>",
        f"<p><b>Resources</b> ({len(finding.resources)}): "
        f"{_list_html(list(finding.resources), code=True)}</p>",
    ]
    parts.extend(f"<p class='warning'>⚠ {escape(warning)}</p>" for warning in finding.warnings)
    parts.append(
        "<div class='facts'><div><h4>Evidence</h4>"
        + _mapping_html(finding.evidence)
        + "</div><div><h4>Assumptions</h4>"
        + _mapping_html(finding.assumptions)
        + "</div></div>"
    )
    parts.append(f"<h4>Fix</h4><p>{escape(finding.remediation.action)}</p>")
    if finding.remediation.snippet:
        kind = escape(finding.remediation.snippet_kind or "snippet")
        parts.append(
            f"<pre data-kind='{kind}'><code>{escape(finding.remediation.snippet)}</code></pre>"
        )
    parts.append("</section>")
    return "".join(parts)


def _mapping_html(mapping: dict[str, Any]) -> str:
    if not mapping:
        return "<p class='muted'>—</p>"
    rows: list[list[Cell]] = [
        [f"<code>{escape(str(key))}</code>", _value_html(value)] for key, value in mapping.items()
    ]
    return _table(["", ""], rows, header=False)


def _value_html(value: Any) -> str:
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        return _mapping_html(value)
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return _list_html([plain(item) for item in value], code=False)
    if isinstance(value, dict | list | tuple):
        return f"<pre><code>{escape(plain(value))}</code></pre>"
    return escape(plain(value))


def _list_html(items: list[str], code: bool) -> str:
    shown = [f"<code>{escape(item)}</code>" if code else escape(item) for item in items]
    text = ", ".join(shown[:LIST_ITEMS_SHOWN])
    if len(items) > LIST_ITEMS_SHOWN:
        text += f" … and {len(items) - LIST_ITEMS_SHOWN} more"
    return text or "—"


def _spend_table(label: str, groups: Sequence[Spend]) -> str:
    rows: list[list[Cell]] = [
        [escape(group.name), _num(usd(group.billed_cost_usd)), _num(usd(group.effective_cost_usd))]
        for group in groups
    ]
    return _table([label, "Billed", "Effective"], rows)


@dataclass(frozen=True)
class _Number:
    """A right-aligned table cell (already escaped)."""

    html: str


Cell = str | _Number


def _num(text: str) -> _Number:
    return _Number(escape(text))


def _table(headers: list[str], rows: Sequence[Sequence[Cell]], header: bool = True) -> str:
    """Cells are HTML already (escaped by the caller); `_num` cells are right-aligned."""
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _cell(cell: Cell) -> str:
    if isinstance(cell, _Number):
        return f"<td class='num'>{cell.html}</td>"
    return f"<td>{cell}</td>"


def _spend_by_month_figure(report: Report) -> dict[str, Any]:
    months = [month.month for month in report.months]
    providers = sorted({p for month in report.months for p in month.billed_by_provider_usd})
    data = [
        {
            "type": "bar",
            "name": provider,
            "x": months,
            "y": [
                cents(month.billed_by_provider_usd.get(provider, Decimal(0)))
                for month in report.months
            ],
            "hovertemplate": "%{x} " + provider + ": $%{y:,.2f}<extra></extra>",
            "marker": {"color": PROVIDER_COLOURS.get(provider, "#829ab1")},
        }
        for provider in providers
    ]
    layout = _layout("Billed cost by month and provider", barmode="stack")
    layout["xaxis"] = {"type": "category"}
    return {"data": data, "layout": layout}


def _savings_by_kind_figure(report: Report) -> dict[str, Any]:
    kinds = list(reversed(report.savings_by_kind))
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "monthly savings",
            "y": [kind.kind for kind in kinds],
            "x": [cents(kind.monthly_savings_usd) for kind in kinds],
            "hovertemplate": "%{y}: $%{x:,.2f} per month<extra></extra>",
            "marker": {"color": "#0b7a3e"},
        }
    ]
    layout = _layout("Savings potential per month, by finding kind", value_axis="x")
    layout["yaxis"] = {"type": "category", "automargin": True}
    if not kinds:
        layout["annotations"] = [
            {"text": "no findings", "showarrow": False, "xref": "paper", "yref": "paper"}
        ]
    return {"data": data, "layout": layout}


def _spend_by_team_figure(report: Report) -> dict[str, Any]:
    teams = next((a.groups for a in report.allocations if a.dimension == "team"), ())
    data = [
        {
            "type": "bar",
            "name": "billed",
            "x": [team.name for team in teams],
            "y": [cents(team.billed_cost_usd) for team in teams],
            "hovertemplate": "%{x}: $%{y:,.2f}<extra></extra>",
            "marker": {"color": "#3b6ea8"},
        }
    ]
    layout = _layout("Billed cost by team (tag)")
    layout["xaxis"] = {"type": "category"}
    return {"data": data, "layout": layout}


def _layout(title: str, value_axis: str = "y", barmode: str | None = None) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title},
        "margin": {"l": 70, "r": 20, "t": 50, "b": 60},
        f"{value_axis}axis": {"type": "linear", "tickprefix": "$", "tickformat": ",.0f"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    if barmode:
        layout["barmode"] = barmode
    return layout


def _script_json(payload: dict[str, Any]) -> str:
    """JSON that cannot close its `<script>` element: `<`, `>` and `&` become escapes."""
    text = json.dumps(payload)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
