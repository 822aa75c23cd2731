"""Labelled-evaluation input: `timestamp,value` CSV files read as long-format series."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from costrail.errors import InputError

REQUIRED_COLUMNS = ("timestamp", "value")


def read_series_csv(path: Path) -> pd.DataFrame:
    """One file as `unique_id, ds, y` (unique_id = the file name).

    Timestamps are ISO 8601 or `YYYY-MM-DD HH:MM:SS` (a time zone, if given, is converted to
    UTC); values are numbers. A bad row raises `InputError` naming the file, row and column.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in (reader.fieldnames or [])]
            missing = [name for name in REQUIRED_COLUMNS if name not in header]
            if missing:
                raise InputError(
                    f"missing column(s) {', '.join(missing)}",
                    file=path,
                    hint="a series file has the header timestamp,value",
                )
            rows = [_row(path, number, record) for number, record in enumerate(reader, start=1)]
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", file=path) from error
    except UnicodeDecodeError as error:
        raise InputError("not UTF-8 text", file=path) from error
    if not rows:
        raise InputError("no data rows", file=path)
    frame = pd.DataFrame(rows, columns=["ds", "y"])
    frame.insert(0, "unique_id", path.name)
    return frame.sort_values("ds", ignore_index=True)


def _row(path: Path, number: int, record: dict[str, str]) -> tuple[pd.Timestamp, float]:
    stamp_text = (record.get("timestamp") or "").strip()
    value_text = (record.get("value") or "").strip()
    try:
        stamp = pd.Timestamp(stamp_text)
    except ValueError as error:
        raise InputError(
            f"{stamp_text!r} is not a timestamp", file=path, row=number, column="timestamp"
        ) from error
    if pd.isna(stamp):
        raise InputError("empty timestamp", file=path, row=number, column="timestamp")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    try:
        value = float(value_text)
    except ValueError as error:
        raise InputError(
            f"{value_text!r} is not a number", file=path, row=number, column="value"
        ) from error
    if math.isinf(value):
        raise InputError("infinite value", file=path, row=number, column="value")
    return stamp, value
