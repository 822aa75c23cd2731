"""Fixtures of the report tests; registers the `browser` mark (headless Chromium tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from costrail.warehouse import Warehouse
from tests.report.bill import small_warehouse


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: opens a page in headless Chromium via Playwright (Debian chromium)"
    )


@pytest.fixture
def warehouse_with_bill(tmp_path: Path) -> Warehouse:
    return small_warehouse(tmp_path)
