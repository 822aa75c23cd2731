"""The `watch:` section: what `costrail watch` watches and how often (CLI options override)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from costrail.config import Section, register_section


@register_section("watch")
class WatchSection(Section):
    sources: list[Path] = Field(default_factory=list)
    every: str = "1h"
    #: re-run the waste analyses (and store findings) after each cycle that ingested something
    analyses: bool = True
