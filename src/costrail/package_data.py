"""Reference tables shipped inside the package (CSV files under a package's `data/` folder)."""

from __future__ import annotations

import csv
from importlib import resources


def csv_rows(package: str, filename: str) -> list[dict[str, str]]:
    """The rows of `<package>/data/<filename>`, keyed by its header.

    Read as UTF-8; a leading byte-order mark (spreadsheet exports write one) is dropped so the
    first column keeps its plain name.
    """
    path = resources.files(package).joinpath("data", filename)
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))
