"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright
opens the file offline, logs no console error, and draws every Plotly chart."""

from __future__ import annotations

from pathlib import Path

import pytest

from costrail.report import build_report, render_html
from costrail.report.html import CHART_IDS
from costrail.warehouse import Warehouse
from tests.report.bill import hand_made_findings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


def test_html_report_renders_its_charts_without_console_errors(
    warehouse_with_bill: Warehouse, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs Playwright for Python (pip install playwright)"
    )
    report = build_report(
        warehouse_with_bill.costs(),
        hand_made_findings(),
        warehouse=warehouse_with_bill.url,
        engine=warehouse_with_bill.engine,
    )
    page_path = tmp_path / "report.html"
    page_path.write_text(render_html(report), encoding="utf-8")
    screenshot = tmp_path / "artifacts" / "report.png"
    problems: list[str] = []

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda request: problems.append(f"fetch {request.url}"))
            page.goto(page_path.as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
            drawn = {
                chart_id: page.locator(f"#{chart_id}.js-plotly-plot .main-svg").count()
                for chart_id in CHART_IDS
            }
            bars = page.locator(f"#{CHART_IDS[0]} .trace.bars .point path").count()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()

    print(f"report screenshot: {screenshot}")
    assert problems == []
    assert all(count >= 1 for count in drawn.values()), drawn
    assert bars == 4  # one bar per (month, provider): 2 months × aws, gcp (gcp's September is 0)
