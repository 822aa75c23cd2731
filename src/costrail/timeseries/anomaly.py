"""Cost anomaly detection over scope series: score every point, flag the ones that pass both a
dollar and a relative threshold, join consecutive flagged days into one anomaly with its root
cause."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from costrail.errors import ConfigError
from costrail.explore import dimension
from costrail.timeseries.detectors import DETECTORS
from costrail.timeseries.rootcause import DEFAULT_DIMENSIONS, RootCause, rank_root_causes
from costrail.timeseries.series import (
    NONE_VALUE,
    TOTAL_SCOPE,
    filter_where,
    infer_step,
    scope_series,
    steps_per_day,
    to_matrix,
)
from costrail.timeseries.series import usd as _usd


@dataclass(frozen=True)
class AnomalySettings:
    """Thresholds of anomaly detection (AWS Cost Anomaly Detection style: a flag needs both).

    A point is flagged when its spend is at least `min_impact_usd` AND `min_relative_change`
    above the expected value, and — for the `seasonal` detector — its robust score is at
    least `min_score` (residual over the scaled MAD of recent residuals). `trailing7` is the
    simple rule "more than 20 % above the trailing 7-day average": its score is the relative
    change itself. Only increases are flagged unless `direction="both"`. A series is scored
    from its `min_history_days`-th day on; before that it is "waiting". Warehouse detection
    looks at `charge_categories` only (usage: purchases, taxes and credits are scheduled
    events, not anomalies).
    """

    min_impact_usd: Decimal = Decimal(100)
    min_relative_change: float = 0.2
    detector: str = "seasonal"
    min_history_days: int = 14
    min_score: float = 4.0
    direction: Literal["up", "both"] = "up"
    charge_categories: tuple[str, ...] = ("Usage",)
    metric: str = "EffectiveCost"
    #: a value no higher (by `min_relative_change`) than the same weekday (or hour of day) in
    #: the previous `novelty_days` is a known pattern — a recurring training burst — not an
    #: anomaly; 0 turns this off
    novelty_days: int = 42
    #: the scopes `detect_anomalies` watches when no `by` is given: the total, then each of
    #: these dimensions on its own (an AWS Cost Anomaly Detection "monitor" each)
    monitors: tuple[str, ...] = ("x_Provider", "SubAccountId")
    root_cause_dimensions: tuple[str, ...] = DEFAULT_DIMENSIONS
    max_root_causes: int = 5

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            choices = ", ".join(DETECTORS)
            raise ConfigError(f"unknown anomaly detector {self.detector!r}; choose from {choices}")
        if self.min_history_days < 8:
            raise ConfigError("min_history_days must be at least 8: a week plus the day scored")


@dataclass(frozen=True)
class Anomaly:
    """A run of consecutive flagged days of one scope, from `first_seen` to `ds` (its latest
    day). Money and the relative change are over the whole run; `score` is its largest."""

    scope: str
    ds: date
    actual_usd: Decimal
    expected_usd: Decimal
    impact_usd: Decimal
    relative_change: float
    score: float
    detector: str
    root_causes: tuple[RootCause, ...]
    first_seen: date
    #: broader scopes (another monitor) in which the same event — overlapping days, same top
    #: root cause — was flagged too; reported once, under the narrowest scope
    also_in: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.ds - self.first_seen).days + 1


@dataclass(frozen=True)
class AnomalyReport:
    """What a detection run found, and which series could not be judged yet."""

    anomalies: list[Anomaly]
    series_scored: int
    series_waiting: dict[str, str] = field(default_factory=dict)
    settings: AnomalySettings = field(default_factory=AnomalySettings)


def score_series(
    series: pd.DataFrame, settings: AnomalySettings = AnomalySettings()
) -> pd.DataFrame:
    """Score every point of long-format series: `unique_id, ds, y, expected, score, flagged`.

    The generic entry (any regular frequency, inferred; the season is a week for daily data
    and a day for sub-daily data). Points in a series' first `min_history_days` (days,
    whatever the step) have NaN expected/score and are never flagged.
    """
    if series.empty:
        return series.assign(expected=[], score=[], flagged=[])
    step = infer_step(series)
    per_day = steps_per_day(step)
    season = detector_season(step)
    ids, grid, values = to_matrix(series, step)
    expected, score = DETECTORS[settings.detector](values, season)
    history_steps = max(round(settings.min_history_days * per_day), season + 1)
    observed = ~np.isnan(values)
    since_start = np.cumsum(np.cumsum(observed, axis=1) > 0, axis=1)
    eligible = observed & (since_start > history_steps)
    expected = np.where(eligible, expected, np.nan)
    score = np.where(eligible, score, np.nan)
    flagged = eligible & _passes(values, expected, score, settings)
    if settings.novelty_days and settings.detector == "seasonal":
        cycles = max(round(settings.novelty_days * per_day / season), 1)
        flagged &= _novel(values, season, cycles, settings)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, len(grid)),
            "ds": np.tile(grid.to_numpy(), len(ids)),
            "expected": expected.ravel(),
            "score": score.ravel(),
            "flagged": flagged.ravel(),
        }
    )
    merged = series[["unique_id", "ds", "y"]].merge(frame, on=["unique_id", "ds"], how="left")
    merged["flagged"] = merged["flagged"].fillna(False).astype(bool)
    return merged.sort_values(["unique_id", "ds"], ignore_index=True)


def detector_season(step: pd.Timedelta) -> int:
    """Steps per seasonal cycle: a week of days for daily data, a day of steps for sub-daily
    data (24 for hourly, 288 for 5-minute), and 2 for coarser data (no real season)."""
    if step == pd.Timedelta(days=1):
        return 7
    per_day = steps_per_day(step)
    return max(round(per_day), 2) if per_day > 1 else 2


def _novel(values: np.ndarray, season: int, cycles: int, settings: AnomalySettings) -> np.ndarray:
    """True where the value is higher — by more than the minimum relative change — than the
    same seasonal slot (same weekday, same hour) in each of the last `cycles` seasons. A level
    the series already had on that weekday (a recurring training burst) is a known pattern; a
    weekend billed like a weekday is news."""
    same_slot = np.stack([_shifted(values, k * season) for k in range(1, cycles + 1)], axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        highest, lowest = np.nanmax(same_slot, axis=2), np.nanmin(same_slot, axis=2)
    margin = settings.min_relative_change
    above = np.isnan(highest) | (values > highest + margin * np.abs(highest))
    if settings.direction == "both":
        return above | np.isnan(lowest) | (values < lowest - margin * np.abs(lowest))
    return above


def _shifted(values: np.ndarray, steps: int) -> np.ndarray:
    shifted = np.full_like(values, np.nan)
    if steps < values.shape[1]:
        shifted[:, steps:] = values[:, : values.shape[1] - steps]
    return shifted


def _passes(
    values: np.ndarray, expected: np.ndarray, score: np.ndarray, settings: AnomalySettings
) -> np.ndarray:
    impact = values - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected != 0, impact / np.abs(expected), np.sign(impact) * np.inf)
    if settings.direction == "both":
        impact, relative, score = np.abs(impact), np.abs(relative), np.abs(score)
    minimum_score = (
        settings.min_relative_change if settings.detector == "trailing7" else settings.min_score
    )
    with np.errstate(invalid="ignore"):
        return (
            (impact >= float(settings.min_impact_usd))
            & (relative >= settings.min_relative_change)
            & (score >= minimum_score)
        )


def detect_anomalies(
    costs: ir.Table,
    settings: AnomalySettings = AnomalySettings(),
    *,
    by: list[str] | None = None,
    where: ir.BooleanValue | str | None = None,
    since: date | None = None,
) -> AnomalyReport:
    """Daily anomalies of every scope series, each with its root causes.

    Without `by`, the scopes are the total and each of `settings.monitors` on its own; with
    `by`, the combinations of those dimensions. Only anomalies whose latest day is on or after
    `since` are returned (earlier days still serve as history).
    """
    usage = costs.filter(costs.ChargeCategory.isin(list(settings.charge_categories)))
    monitors = [list(by)] if by else [[], *([name] for name in settings.monitors)]
    anomalies: list[Anomaly] = []
    scored_count = 0
    waiting: dict[str, str] = {}
    for dimensions in monitors:
        series = scope_series(usage, by=dimensions, where=where, metric=settings.metric)
        lengths = series.groupby("unique_id")["ds"].count()
        short = {
            str(scope): f"needs {settings.min_history_days - int(n)} more days of history"
            for scope, n in lengths.items()
            if n < settings.min_history_days
        }
        waiting.update(short)
        scored_count += len(lengths) - len(short)
        for anomaly in _runs(score_series(series, settings), settings.detector):
            if since is None or anomaly.ds >= since:
                anomalies.append(_with_root_cause(anomaly, usage, dimensions, where, settings))
    merged = merge_duplicates(anomalies)
    merged.sort(key=lambda a: (a.ds, a.impact_usd), reverse=True)
    return AnomalyReport(merged, scored_count, waiting, settings)


def merge_duplicates(anomalies: list[Anomaly]) -> list[Anomaly]:
    """One event seen by several monitors (the AWS total and the account) is one anomaly: the
    narrowest scope (smallest actual spend) keeps it and lists the others in `also_in`."""
    kept: list[Anomaly] = []
    for anomaly in sorted(anomalies, key=lambda a: a.actual_usd):
        twin = next((k for k in kept if _same_event(k, anomaly)), None)
        if twin is None:
            kept.append(anomaly)
            continue
        kept[kept.index(twin)] = replace(twin, also_in=(*twin.also_in, anomaly.scope))
    return kept


def _same_event(first: Anomaly, second: Anomaly) -> bool:
    overlap = first.first_seen <= second.ds and second.first_seen <= first.ds
    if not overlap or not first.root_causes or not second.root_causes:
        return False
    top_first, top_second = first.root_causes[0], second.root_causes[0]
    return (top_first.dimension, top_first.value) == (top_second.dimension, top_second.value)


def _runs(scored: pd.DataFrame, detector: str) -> list[Anomaly]:
    """Consecutive flagged days of each series as one anomaly (no root cause yet)."""
    flagged = scored[scored["flagged"]].copy()
    if flagged.empty:
        return []
    flagged["day"] = flagged["ds"].dt.date
    gap = flagged.groupby("unique_id")["ds"].diff() != pd.Timedelta(days=1)
    flagged["run"] = gap.cumsum()
    found = []
    for (scope, _), run in flagged.groupby(["unique_id", "run"], sort=False):
        actual, expected = float(run["y"].sum()), float(run["expected"].sum())
        found.append(
            Anomaly(
                scope=str(scope),
                ds=run["day"].iloc[-1],
                actual_usd=_usd(actual),
                expected_usd=_usd(expected),
                impact_usd=_usd(actual - expected),
                relative_change=round((actual - expected) / abs(expected), 4)
                if expected
                else float("inf"),
                score=round(float(run["score"].max()), 2),
                detector=detector,
                root_causes=(),
                first_seen=run["day"].iloc[0],
            )
        )
    return found


def _with_root_cause(
    anomaly: Anomaly,
    usage: ir.Table,
    by: list[str],
    where: ir.BooleanValue | str | None,
    settings: AnomalySettings,
) -> Anomaly:
    scoped = scope_filter(usage, by, anomaly.scope)
    if where is not None:
        scoped = filter_where(scoped, where)
    days = list(pd.date_range(anomaly.first_seen, anomaly.ds, freq="D").date)
    causes = rank_root_causes(
        scoped,
        days,
        metric=settings.metric,
        dimensions=[d for d in settings.root_cause_dimensions if d not in by],
        limit=settings.max_root_causes,
    )
    return replace(anomaly, root_causes=causes)


def scope_filter(costs: ir.Table, by: list[str], scope: str) -> ir.Table:
    """The rows of one scope id (`col=value|tag:team=ml`) built by `scope_series` with `by`."""
    if not by or scope == TOTAL_SCOPE:
        return costs
    rest = scope
    for i, name in enumerate(by):
        prefix = f"{name}="
        if not rest.startswith(prefix):
            raise ConfigError(f"scope {scope!r} does not match the dimensions {by}")
        rest = rest[len(prefix) :]
        if i + 1 < len(by):
            value, _, rest = rest.partition(f"|{by[i + 1]}=")
            rest = f"{by[i + 1]}={rest}"
        else:
            value = rest
        column = dimension(costs, name).cast("string")
        costs = costs.filter(column.isnull() if value == NONE_VALUE else column == value)
    return costs
