"""Shared demo outputs: generating the company once per session keeps the suite quick."""

from __future__ import annotations

from pathlib import Path

import pytest

from costrail.demo import Truth
from tests.demo_cache import demo_folder, demo_truth

SEED = 7


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    out = demo_folder(False)
    return out, demo_truth(False)


@pytest.fixture(scope="session")
def clean_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    out = demo_folder(True)
    return out, demo_truth(True)
