"""Scope series: the costs table summed per scope and day (or hour) in the long format
`unique_id, ds, y` that every forecaster and detector in this package reads."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from statistics import NormalDist
from typing import Literal

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from costrail.errors import ConfigError
from costrail.explore import METRICS, dimension, parse_where

TOTAL_SCOPE = "total"
#: what a missing (NULL) dimension value is called in a scope id
NONE_VALUE = "(none)"
Freq = Literal["D", "h"]
_STEP = {"D": pd.Timedelta(days=1), "h": pd.Timedelta(hours=1)}
_TRUNCATE = {"D": "D", "h": "h"}


def scope_series(
    costs: ir.Table,
    *,
    by: list[str] | None = None,
    where: ir.BooleanValue | str | None = None,
    metric: str = "EffectiveCost",
    freq: Freq = "D",
) -> pd.DataFrame:
    """Spend per scope and period as `unique_id, ds, y` (y in USD, float).

    `by` takes FOCUS / `x_` column names and `tag:KEY`; the scope id is `total` without `by`,
    else `col=value|tag:team=ml`. `where` is an Ibis boolean expression or `--where` text.
    Inside each series' span (its first to its last period) a period without charges is 0,
    so a series never has gaps; `ds` is a naive UTC timestamp at the start of the period.
    The sum happens in the engine: only one row per scope and period reaches Python.
    """
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    if freq not in _STEP:
        raise ConfigError(f"unknown frequency {freq!r}; choose D (daily) or h (hourly)")
    filtered = filter_where(costs, where)
    names = list(by or [])
    groups = {f"g{i}": dimension(filtered, name).cast("string") for i, name in enumerate(names)}
    ds = filtered.ChargePeriodStart.truncate(_TRUNCATE[freq])
    summed = filtered.group_by(ds=ds, **groups).aggregate(y=filtered[metric].sum().cast("float64"))
    frame = summed.to_pandas()
    return _long_format(frame, names, freq)


def filter_where(costs: ir.Table, where: ir.BooleanValue | str | None) -> ir.Table:
    if where is None:
        return costs
    if isinstance(where, str):
        return costs.filter(parse_where(costs, where)) if where.strip() else costs
    return costs.filter(where)


def scope_id(names: list[str], values: list[object]) -> str:
    """`col=value|tag:team=ml`; `total` for no dimension."""
    if not names:
        return TOTAL_SCOPE
    parts = [f"{n}={NONE_VALUE if _missing(v) else v}" for n, v in zip(names, values, strict=True)]
    return "|".join(parts)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _long_format(frame: pd.DataFrame, names: list[str], freq: Freq) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": [], "y": []}).astype(
            {"ds": "datetime64[ns]", "y": "float64"}
        )
    columns = [f"g{i}" for i in range(len(names))]
    ids = [scope_id(names, list(row)) for row in frame[columns].itertuples(index=False)]
    # one dtype whatever the engine returns (DuckDB: µs with zone; Spark: ns, session zone)
    stamps = pd.to_datetime(frame["ds"], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    long = pd.DataFrame({"unique_id": ids, "ds": stamps, "y": frame["y"].fillna(0.0)})
    summed = long.groupby(["unique_id", "ds"], as_index=False).agg(y=("y", "sum"))
    return fill_gaps(summed, freq)


def fill_gaps(series: pd.DataFrame, freq: Freq = "D") -> pd.DataFrame:
    """Every period between each series' first and last `ds`, with y = 0 where none was given."""
    step = _STEP[freq]
    spans = series.groupby("unique_id")["ds"].agg(["min", "max"])
    pieces = []
    for unique_id, (first, last) in spans.iterrows():
        grid = pd.date_range(first, last, freq=step)
        pieces.append(pd.DataFrame({"unique_id": unique_id, "ds": grid}))
    full = pd.concat(pieces, ignore_index=True)
    merged = full.merge(series, on=["unique_id", "ds"], how="left")
    merged["y"] = merged["y"].fillna(0.0).astype("float64")
    merged["ds"] = merged["ds"].astype("datetime64[ns]")
    return merged.sort_values(["unique_id", "ds"], ignore_index=True)


def infer_freq(series: pd.DataFrame) -> Freq:
    """Hourly when the typical step between consecutive `ds` of a series is under a day."""
    return "h" if infer_step(series) < pd.Timedelta(days=1) else "D"


def infer_step(series: pd.DataFrame) -> pd.Timedelta:
    """The typical (median) step between consecutive `ds` of the series: any regular
    frequency (5 minutes, an hour, a day)."""
    steps = series.sort_values(["unique_id", "ds"]).groupby("unique_id")["ds"].diff().dropna()
    steps = steps[steps > pd.Timedelta(0)]
    return pd.Timedelta(days=1) if steps.empty else pd.Timedelta(steps.median())


def steps_per_day(step: pd.Timedelta) -> float:
    return pd.Timedelta(days=1) / step


def to_matrix(
    series: pd.DataFrame, freq: Freq | pd.Timedelta
) -> tuple[list[str], pd.DatetimeIndex, np.ndarray]:
    """Series on one shared time grid: (ids, grid, values) with NaN outside each series' span.

    Vectorised models work on this matrix (one row per series), so 10,000 series cost one
    numpy pass rather than 10,000 Python loops.
    """
    if series.empty:
        return [], pd.DatetimeIndex([]), np.empty((0, 0))
    step = freq if isinstance(freq, pd.Timedelta) else _STEP[freq]
    grid = pd.date_range(series["ds"].min(), series["ds"].max(), freq=step)
    stamps = series["ds"].dt.floor(step) if step < pd.Timedelta(days=1) else series["ds"]
    wide = series.assign(ds=stamps).pivot_table(
        index="unique_id", columns="ds", values="y", aggfunc="sum"
    )
    wide = wide.reindex(columns=grid)
    return [str(i) for i in wide.index], grid, wide.to_numpy(dtype="float64")


CENT = Decimal("0.01")
_STANDARD_NORMAL = NormalDist()


def usd(value: float) -> Decimal:
    """A model's float dollars as exact cents (the series are floats; reports are money)."""
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_EVEN)


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (the stdlib's, so importing costrail stays quick)."""
    return _STANDARD_NORMAL.inv_cdf(probability)
