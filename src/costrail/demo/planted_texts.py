"""What each planted item is, how to fix it, and what in the data gives it away.

The texts live in `data/planted_texts.json` (provider → kind → description, fix, signal), apart
from the generators, so the catalogue of the demo's waste reads as one document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class PlantedText:
    description: str
    fix: str
    signal: str


@cache
def planted_texts() -> dict[tuple[str, str], PlantedText]:
    """Every (provider, kind) of planted waste the demo knows, with its texts."""
    text = resources.files("costrail.demo").joinpath("data", "planted_texts.json")
    catalogue = json.loads(text.read_text("utf-8"))
    return {
        (provider, kind): PlantedText(**texts)
        for provider, kinds in catalogue.items()
        for kind, texts in kinds.items()
    }
