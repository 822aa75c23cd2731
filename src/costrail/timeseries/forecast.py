"""Period projections (month-end, quarter-end) with intervals, and the rolling-origin backtest
behind `costrail forecast --backtest`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from costrail.errors import ConfigError
from costrail.timeseries.models import DEFAULT_MODEL, MODELS, make_model
from costrail.timeseries.series import infer_freq, normal_quantile, to_matrix
from costrail.timeseries.series import usd as _usd

#: residual autocorrelation is capped: a sum's interval widens at most by sqrt(1.8/0.2) = 3×
MAX_RHO = 0.8


@dataclass(frozen=True)
class PeriodProjection:
    """Where one scope's spend will end a period: actual to date plus the forecast of the rest.

    `period_end` is exclusive; `as_of` is the last day counted as actual. Intervals are for the
    period total (80 % and 95 %), from the model's per-day spread, widened for day-to-day
    correlation of its errors.
    """

    scope: str
    period_start: date
    period_end: date
    actual_to_date_usd: Decimal
    expected_total_usd: Decimal
    lo80_usd: Decimal
    hi80_usd: Decimal
    lo95_usd: Decimal
    hi95_usd: Decimal
    as_of: date
    model: str


def month_bounds(day: date) -> tuple[date, date]:
    """First day of `day`'s month and of the next month."""
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def quarter_bounds(day: date) -> tuple[date, date]:
    """First day of `day`'s calendar quarter and of the next quarter."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + 3
    end = date(day.year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
    return start, end


def daily(series: pd.DataFrame) -> pd.DataFrame:
    """Hourly series summed to days; daily series as they are."""
    if infer_freq(series) == "D":
        return series
    days = series.assign(ds=series["ds"].dt.floor("D"))
    return days.groupby(["unique_id", "ds"], as_index=False).agg(y=("y", "sum"))


def project_period(
    series: pd.DataFrame,
    period_start: date,
    period_end: date,
    as_of: date | None = None,
    model: str = DEFAULT_MODEL,
) -> list[PeriodProjection]:
    """One projection per `unique_id`: actual spend in [period_start, as_of] plus the forecast
    of (as_of, period_end). `as_of` defaults to the newest day in `series`; data after it is
    ignored (so a past `as_of` replays what the projection said then). A series whose charges
    stopped before `as_of` counts as 0 on the days since. Hourly series are summed to days.
    """
    if period_end <= period_start:
        raise ConfigError(f"period end {period_end} must be after its start {period_start}")
    days = daily(series)
    if days.empty:
        return []
    newest = days["ds"].max().date()
    as_of = as_of or newest
    ids, grid, values = to_matrix(days[days["ds"] <= pd.Timestamp(as_of)], "D")
    if not ids:
        return []
    values = _zero_tail(values, grid, as_of)
    grid = pd.date_range(grid[0], pd.Timestamp(as_of), freq="D")
    actual = _actual(values, grid, period_start, as_of)
    remaining = (period_end - as_of).days - 1
    mean_sum, sd_sum = _remaining(ids, grid, values, model, as_of, period_start, remaining)
    return [
        _projection(
            ids[i], period_start, period_end, as_of, actual[i], mean_sum[i], sd_sum[i], model
        )
        for i in range(len(ids))
    ]


def _zero_tail(values: np.ndarray, grid: pd.DatetimeIndex, as_of: date) -> np.ndarray:
    extra = (pd.Timestamp(as_of) - grid[-1]).days
    if extra > 0:
        values = np.concatenate([values, np.full((len(values), extra), np.nan)], axis=1)
    observed = ~np.isnan(values)
    last = values.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    after_last = np.arange(values.shape[1])[None, :] > last[:, None]
    return np.where(after_last, 0.0, values)


def _actual(
    values: np.ndarray, grid: pd.DatetimeIndex, period_start: date, as_of: date
) -> np.ndarray:
    inside = (grid >= pd.Timestamp(period_start)) & (grid <= pd.Timestamp(as_of))
    return np.nansum(values[:, np.asarray(inside)], axis=1)


def _remaining(
    ids: list[str],
    grid: pd.DatetimeIndex,
    values: np.ndarray,
    model: str,
    as_of: date,
    period_start: date,
    remaining: int,
) -> tuple[np.ndarray, np.ndarray]:
    if remaining <= 0:
        return np.zeros(len(ids)), np.zeros(len(ids))
    skip = max((period_start - as_of).days - 1, 0)
    frame = pd.DataFrame(
        {"unique_id": np.repeat(ids, len(grid)), "ds": np.tile(grid, len(ids)), "y": values.ravel()}
    )
    frame = frame.dropna(subset=["y"])
    fitted = make_model(model).fit(frame)
    arrays = fitted.forecast_arrays(skip + remaining)
    order = [arrays.ids.index(i) for i in ids] if arrays.ids != ids else list(range(len(ids)))
    mean_sum = arrays.mean[:, skip:].sum(axis=1)
    sd_sum = arrays.sum_sd(skip, skip + remaining, MAX_RHO)
    return mean_sum[order], sd_sum[order]


def _projection(
    scope: str,
    period_start: date,
    period_end: date,
    as_of: date,
    actual: float,
    mean_sum: float,
    sd_sum: float,
    model: str,
) -> PeriodProjection:
    z80, z95 = normal_quantile(0.9), normal_quantile(0.975)
    floor = 0.0 if mean_sum >= 0 else -np.inf

    def bound(z: float) -> Decimal:
        return _usd(actual + max(mean_sum + z * sd_sum, floor))

    return PeriodProjection(
        scope=scope,
        period_start=period_start,
        period_end=period_end,
        actual_to_date_usd=_usd(actual),
        expected_total_usd=_usd(actual + mean_sum),
        lo80_usd=bound(-z80),
        hi80_usd=bound(z80),
        lo95_usd=bound(-z95),
        hi95_usd=bound(z95),
        as_of=as_of,
        model=model,
    )


@dataclass(frozen=True)
class BacktestScore:
    """Rolling-origin errors of one model over all series and origins (daily points).

    MAPE skips actual zeros; MASE scales by the in-sample mean absolute seasonal difference;
    coverage is the share of actual points inside the 80 % / 95 % intervals.
    """

    model: str
    origins: int
    points: int
    mape_pct: float
    smape_pct: float
    mase: float
    coverage80_pct: float
    coverage95_pct: float


def backtest(
    series: pd.DataFrame,
    horizon_days: int = 14,
    origins: int = 4,
    step_days: int = 7,
    models: tuple[str, ...] = tuple(MODELS),
) -> list[BacktestScore]:
    """Fit at `origins` cut-offs (every `step_days`, the last one `horizon_days` before the
    newest day), forecast `horizon_days`, and score every model on the same points."""
    days = daily(series)
    if days.empty:
        return []
    ids, grid, values = to_matrix(days, "D")
    last_origin = len(grid) - horizon_days
    cuts = [
        last_origin - k * step_days for k in range(origins) if last_origin - k * step_days >= 14
    ]
    if not cuts:
        raise ConfigError(
            f"backtest needs at least {14 + horizon_days} days of history; the data has {len(grid)}"
        )
    return [_score_model(name, ids, grid, values, sorted(cuts), horizon_days) for name in models]


def _score_model(
    name: str,
    ids: list[str],
    grid: pd.DatetimeIndex,
    values: np.ndarray,
    cuts: list[int],
    horizon: int,
) -> BacktestScore:
    z80, z95 = normal_quantile(0.9), normal_quantile(0.975)
    errors: list[np.ndarray] = []
    actuals: list[np.ndarray] = []
    scales: list[np.ndarray] = []
    inside80: list[np.ndarray] = []
    inside95: list[np.ndarray] = []
    for cut in cuts:
        history = values[:, :cut]
        keep = ~np.all(np.isnan(history), axis=1)
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(ids)[keep], cut),
                "ds": np.tile(grid[:cut], int(keep.sum())),
                "y": history[keep].ravel(),
            }
        ).dropna(subset=["y"])
        arrays = make_model(name).fit(frame).forecast_arrays(horizon)
        rows = [ids.index(i) for i in arrays.ids]
        truth = values[rows, cut : cut + horizon]
        error = truth - arrays.mean
        errors.append(error)
        actuals.append(truth)
        scale = _mase_scale(history[rows])
        scales.append(np.repeat(scale[:, None], horizon, axis=1))
        inside80.append(np.abs(error) <= z80 * arrays.sd)
        inside95.append(np.abs(error) <= z95 * arrays.sd)
    return _summarise(name, len(cuts), errors, actuals, scales, inside80, inside95)


def _mase_scale(history: np.ndarray) -> np.ndarray:
    diffs = np.abs(history[:, 7:] - history[:, :-7])
    with np.errstate(all="ignore"):
        scale = np.nanmean(diffs, axis=1)
    return np.where(scale > 0, scale, np.nan)


def _summarise(
    name: str,
    origins: int,
    errors: list[np.ndarray],
    actuals: list[np.ndarray],
    scales: list[np.ndarray],
    inside80: list[np.ndarray],
    inside95: list[np.ndarray],
) -> BacktestScore:
    error = np.concatenate([e.ravel() for e in errors])
    actual = np.concatenate([a.ravel() for a in actuals])
    scale = np.concatenate([s.ravel() for s in scales])
    valid = ~np.isnan(actual) & ~np.isnan(error)
    forecast = actual - error
    with np.errstate(all="ignore"):
        nonzero = valid & (actual != 0)
        mape = (
            float(np.mean(np.abs(error[nonzero] / actual[nonzero]))) * 100
            if nonzero.any()
            else np.nan
        )
        denom = np.abs(actual) + np.abs(forecast)
        both = valid & (denom > 0)
        smape = (
            float(np.mean(2 * np.abs(error[both]) / denom[both])) * 100 if both.any() else np.nan
        )
        scaled = valid & ~np.isnan(scale)
        mase = float(np.mean(np.abs(error[scaled]) / scale[scaled])) if scaled.any() else np.nan
    cover80 = np.concatenate([c.ravel() for c in inside80])[valid]
    cover95 = np.concatenate([c.ravel() for c in inside95])[valid]
    return BacktestScore(
        model=name,
        origins=origins,
        points=int(valid.sum()),
        mape_pct=round(mape, 2),
        smape_pct=round(smape, 2),
        mase=round(mase, 3),
        coverage80_pct=round(float(cover80.mean()) * 100, 1) if cover80.size else float("nan"),
        coverage95_pct=round(float(cover95.mean()) * 100, 1) if cover95.size else float("nan"),
    )
