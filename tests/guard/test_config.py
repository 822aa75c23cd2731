"""The `guard` section of costrail.yaml: validated with errors that name the line."""

from __future__ import annotations

import pytest

from costrail.config import ConfigError, parse_config
from costrail.guard.config import GuardSection


def test_guard_section_parses_budgets_and_store() -> None:
    config = parse_config(
        "guard:\n"
        "  budgets:\n"
        "    - {scope: team, match: search, amount_usd: '12.50', period: day}\n"
        "  store: {kind: redis, url: 'redis://127.0.0.1:6390/0'}\n"
    )
    section = config.section("guard", GuardSection)
    assert str(section.budgets[0].amount_usd) == "12.50"
    assert section.store.kind == "redis"


def test_upstream_timeout_longer_than_the_lease_is_rejected_with_its_line() -> None:
    text = (
        "guard:\n"
        "  reservation_lease_s: 60\n"
        "  upstreams:\n"
        "    oa: {provider: openai, timeout_s: 120}\n"
    )
    with pytest.raises(ConfigError, match=r"costrail.yaml:1: guard: .*reservation_lease_s"):
        parse_config(text)


def test_custom_period_needs_its_window() -> None:
    with pytest.raises(ConfigError, match="starts_at and ends_at"):
        parse_config("guard:\n  budgets:\n    - {amount_usd: '1', period: custom}\n")
