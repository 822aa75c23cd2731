"""Forecasters over long-format series (`unique_id, ds, y`), one fit/predict contract for all.

Every model works on a matrix of all series on one time grid, so fitting 10,000 series is a
handful of numpy operations. `predict` returns statsforecast-style columns: the point forecast
under the model's name and `<name>-lo-80`, `<name>-hi-80`, … for each requested level.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self

import numpy as np
import pandas as pd

from costrail.errors import ConfigError
from costrail.timeseries.series import Freq, infer_freq, normal_quantile, to_matrix

#: normal-theory MAD → standard deviation
MAD_TO_SD = 1.4826
DEFAULT_LEVELS = (80, 95)


class Forecaster(Protocol):
    """What every forecaster offers: fit on a long frame, predict `h` steps with intervals."""

    name: str

    def fit(self, df: pd.DataFrame) -> Self: ...

    def predict(self, h: int, level: Sequence[int] = DEFAULT_LEVELS) -> pd.DataFrame: ...


@dataclass(frozen=True)
class ForecastArrays:
    """A fitted model's forecast as arrays: mean and per-step sd are (series × h); `rho` is the
    lag-1 autocorrelation of each series' residuals, which widens intervals on sums of steps.

    A regression model also gives its future design rows (h × params) and each series'
    parameter covariance (series × params × params): the error of a level or weekday effect
    repeats on every future step, so a sum's spread needs it (see `sum_sd`).
    """

    ids: list[str]
    ds: pd.DatetimeIndex
    mean: np.ndarray
    sd: np.ndarray
    rho: np.ndarray
    noise_sd: np.ndarray | None = None
    future_design: np.ndarray | None = None
    param_cov: np.ndarray | None = None

    def sum_sd(self, first: int, last: int, max_rho: float = 0.8) -> np.ndarray:
        """Sd of the sum of steps [first, last) per series: independent noise (widened for
        lag-1 correlation) plus the shared parameter error."""
        if last <= first:
            return np.zeros(len(self.ids))
        rho = np.clip(self.rho, 0.0, max_rho)
        widening = (1 + rho) / (1 - rho)
        if self.future_design is None or self.param_cov is None or self.noise_sd is None:
            return np.sqrt((self.sd[:, first:last] ** 2).sum(axis=1) * widening)
        noise_var = (last - first) * self.noise_sd**2 * widening
        summed = self.future_design[first:last].sum(axis=0)
        param_var = np.einsum("p,npq,q->n", summed, self.param_cov, summed)
        return np.sqrt(noise_var + param_var)


def season_length(freq: Freq) -> int:
    """Weekly seasonality for daily data, daily seasonality for hourly data."""
    return 7 if freq == "D" else 24


class _MatrixForecaster(ABC):
    """Shared plumbing: long frame → matrix on fit; arrays → long frame on predict."""

    name = "matrix"

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._grid = pd.DatetimeIndex([])
        self._values = np.empty((0, 0))
        self._freq: Freq = "D"

    def fit(self, df: pd.DataFrame) -> Self:
        _check_long(df)
        self._freq = infer_freq(df)
        self._ids, self._grid, self._values = to_matrix(df, self._freq)
        self._fit_matrix(self._values)
        return self

    @abstractmethod
    def _fit_matrix(self, values: np.ndarray) -> None:
        """Fit every series (one row of `values` each) at once."""

    def forecast_arrays(self, h: int) -> ForecastArrays:
        if not self._ids:
            raise ConfigError(f"{self.name}: fit() a non-empty series frame before predicting")
        if h < 1:
            raise ConfigError(f"{self.name}: the horizon h must be at least 1 step, not {h}")
        step = self._grid[1] - self._grid[0] if len(self._grid) > 1 else _unit(self._freq)
        future = pd.date_range(self._grid[-1] + step, periods=h, freq=step)
        return self._forecast(h, future)

    @abstractmethod
    def _forecast(self, h: int, future: pd.DatetimeIndex) -> ForecastArrays:
        """Means and standard deviations for the next `h` steps of every fitted series."""

    def predict(self, h: int, level: Sequence[int] = DEFAULT_LEVELS) -> pd.DataFrame:
        arrays = self.forecast_arrays(h)
        n_series = len(arrays.ids)
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(arrays.ids, h),
                "ds": np.tile(arrays.ds.to_numpy(), n_series),
                self.name: arrays.mean.reshape(-1),
            }
        )
        for percent in level:
            z = normal_quantile(0.5 + percent / 200)
            frame[f"{self.name}-lo-{percent}"] = (arrays.mean - z * arrays.sd).reshape(-1)
            frame[f"{self.name}-hi-{percent}"] = (arrays.mean + z * arrays.sd).reshape(-1)
        return frame


def _unit(freq: Freq) -> pd.Timedelta:
    return pd.Timedelta(days=1) if freq == "D" else pd.Timedelta(hours=1)


def _check_long(df: pd.DataFrame) -> None:
    missing = {"unique_id", "ds", "y"} - set(df.columns)
    if missing:
        raise ConfigError(
            f"a series frame needs columns unique_id, ds, y; missing {sorted(missing)}"
        )


def _lag1_autocorrelation(residuals: np.ndarray) -> np.ndarray:
    """Per row, ignoring NaN; 0 where too few pairs."""
    left, right = residuals[:, :-1], residuals[:, 1:]
    both = ~(np.isnan(left) | np.isnan(right))
    count = both.sum(axis=1)
    left0, right0 = np.where(both, left, 0.0), np.where(both, right, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_l = left0.sum(axis=1) / count
        mean_r = right0.sum(axis=1) / count
        dl = np.where(both, left - mean_l[:, None], 0.0)
        dr = np.where(both, right - mean_r[:, None], 0.0)
        rho = (dl * dr).sum(axis=1) / np.sqrt((dl**2).sum(axis=1) * (dr**2).sum(axis=1))
    return np.where((count >= 6) & np.isfinite(rho), rho, 0.0)


class SeasonalNaive(_MatrixForecaster):
    """The baseline: each future step repeats the same step of the last season (last week's
    same weekday). Its sd grows with the number of seasons ahead, from past seasonal errors."""

    name = "seasonal_naive"

    def __init__(self, season: int | None = None, error_window: int = 8) -> None:
        super().__init__()
        self._season = season
        self._error_window = error_window

    def _fit_matrix(self, values: np.ndarray) -> None:
        season = self._season or season_length(self._freq)
        self._season_used = season
        last = values[:, -season:] if values.shape[1] >= season else values
        fallback = np.nanmean(values, axis=1, keepdims=True)
        self._last_season = np.where(np.isnan(last), fallback, last)
        if self._last_season.shape[1] < season:
            pad = np.repeat(fallback, season - self._last_season.shape[1], axis=1)
            self._last_season = np.concatenate([pad, self._last_season], axis=1)
        errors = values[:, season:] - values[:, :-season] if values.shape[1] > season else None
        if errors is None or errors.shape[1] == 0:
            self._sigma = np.nanstd(values, axis=1)
            self._rho = np.zeros(len(values))
        else:
            recent = errors[:, -self._error_window * season :]
            self._sigma = np.sqrt(np.nanmean(recent**2, axis=1))
            self._rho = _lag1_autocorrelation(recent)
        self._sigma = np.nan_to_num(self._sigma)

    def _forecast(self, h: int, future: pd.DatetimeIndex) -> ForecastArrays:
        season = self._season_used
        reps = -(-h // season)
        mean = np.tile(self._last_season, reps)[:, :h]
        seasons_ahead = np.arange(h) // season + 1
        sd = self._sigma[:, None] * np.sqrt(seasons_ahead)[None, :]
        return ForecastArrays(self._ids, future, mean, sd, self._rho)


class TrendSeasonal(_MatrixForecaster):
    """Robust regression of the last `window` steps on a level, a damped linear trend and one
    effect per seasonal slot (weekday, or hour of day).

    Huber-weighted least squares (a few reweighting passes) keeps one-off spikes — month-start
    fees, an anomaly — from bending the fit; a small ridge keeps series with a few days of
    history solvable (no trend is fitted under two seasons of data). The trend is damped
    (`phi` per step) so a month-end projection does not run away with a short-lived slope.
    Intervals: normal with the residuals' robust scale plus the uncertainty of level and slope.
    """

    name = "trend_seasonal"

    def __init__(self, window: int | None = None, phi: float = 0.98, passes: int = 3) -> None:
        super().__init__()
        self._window = window
        self._phi = phi
        self._passes = passes

    def _slots(self, stamps: pd.DatetimeIndex) -> np.ndarray:
        if self._freq == "D":
            return np.asarray(stamps.dayofweek)
        return np.asarray(stamps.hour)

    def _design(self, stamps: pd.DatetimeIndex, trend: np.ndarray) -> np.ndarray:
        """Columns: level, trend (per season), one indicator per seasonal slot but the first."""
        slots = self._slots(stamps)
        season = self._season_used
        indicators = [(slots == k).astype(float) for k in range(1, season)]
        return np.column_stack([np.ones_like(trend), trend / season, *indicators])

    def _fit_matrix(self, values: np.ndarray) -> None:
        season = season_length(self._freq)
        self._season_used = season
        default_window = 8 * season if self._freq == "D" else 14 * season
        y = values[:, -(self._window or default_window) :]
        observed = ~np.isnan(y)
        n_obs = observed.sum(axis=1)
        steps = np.arange(y.shape[1], dtype=float)
        design = self._design(self._grid[-y.shape[1] :], steps - steps[-1])
        penalty = np.full(design.shape[1], 1e-3)
        penalty[0] = 0.0
        slope_penalty = np.where(n_obs < 2 * season, 1e9, 1e-3)
        y0 = np.where(observed, y, 0.0)
        weights = observed.astype(float)
        for _ in range(self._passes):
            beta = _weighted_ridge(design, y0, weights, penalty, slope_penalty)
            residuals = np.where(observed, y0 - beta @ design.T, np.nan)
            scale = _robust_scale(residuals)
            cutoff = 1.5 * np.maximum(scale, 1e-9)[:, None]
            huber = np.minimum(1.0, cutoff / np.maximum(np.abs(np.nan_to_num(residuals)), 1e-12))
            weights = observed * huber
        n_params = np.where(n_obs < 2 * season, season, season + 1)
        dof = np.sqrt(np.maximum(n_obs, 1) / np.maximum(n_obs - n_params, 1))
        level_usd = np.abs(np.nanmean(np.where(observed, y, np.nan), axis=1))
        floor = 0.01 * np.nan_to_num(level_usd)  # prices move: never a zero-width interval
        self._beta = beta
        self._sigma = np.maximum(np.nan_to_num(_robust_scale(residuals)) * dof, floor)
        self._rho = _lag1_autocorrelation(residuals)
        gram = _gram(design, observed.astype(float), penalty, slope_penalty)
        self._param_cov = np.linalg.inv(gram) * (self._sigma**2)[:, None, None]
        self._nonnegative = np.nanmin(values, axis=1) >= 0

    def _forecast(self, h: int, future: pd.DatetimeIndex) -> ForecastArrays:
        damped = np.cumsum(self._phi ** np.arange(1, h + 1))
        design = self._design(future, damped)
        mean = self._beta @ design.T
        mean = np.where(self._nonnegative[:, None], np.maximum(mean, 0.0), mean)
        param_var = np.einsum("hp,npq,hq->nh", design, self._param_cov, design, optimize=True)
        sd = np.sqrt(self._sigma[:, None] ** 2 + param_var)
        return ForecastArrays(
            self._ids, future, mean, sd, self._rho, self._sigma, design, self._param_cov
        )


def _gram(
    design: np.ndarray, weights: np.ndarray, penalty: np.ndarray, slope_penalty: np.ndarray
) -> np.ndarray:
    gram = np.einsum("nw,wp,wq->npq", weights, design, design, optimize=True)
    diag = np.broadcast_to(penalty, (len(weights), len(penalty))).copy()
    diag[:, 1] = slope_penalty
    gram[:, np.arange(len(penalty)), np.arange(len(penalty))] += diag
    return gram


def _weighted_ridge(
    design: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    penalty: np.ndarray,
    slope_penalty: np.ndarray,
) -> np.ndarray:
    """Per-series weighted ridge solutions for one shared design matrix: (series × params)."""
    gram = _gram(design, weights, penalty, slope_penalty)
    rhs = np.einsum("nw,wp->np", weights * y, design, optimize=True)
    return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]


def _robust_scale(residuals: np.ndarray) -> np.ndarray:
    """MAD-based sd of each row, ignoring NaN (NaN for an all-NaN row)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmedian(residuals, axis=1, keepdims=True)
        return np.asarray(MAD_TO_SD * np.nanmedian(np.abs(residuals - centre), axis=1))


MODELS: dict[str, type[_MatrixForecaster]] = {
    SeasonalNaive.name: SeasonalNaive,
    TrendSeasonal.name: TrendSeasonal,
}
DEFAULT_MODEL = TrendSeasonal.name


def make_model(name: str = DEFAULT_MODEL) -> _MatrixForecaster:
    """A fresh forecaster by name (`trend_seasonal`, the default, or `seasonal_naive`)."""
    if name not in MODELS:
        raise ConfigError(f"unknown forecast model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]()
