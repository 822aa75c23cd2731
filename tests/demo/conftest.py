"""Shared demo outputs: generating the company once per session keeps the suite quick."""

from __future__ import annotations

from pathlib import Path

import pytest

from costrail.demo import Truth, generate

SEED = 7


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=SEED)


@pytest.fixture(scope="session")
def clean_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    out = tmp_path_factory.mktemp("clean-demo")
    return out, generate(out, seed=SEED, clean=True)
