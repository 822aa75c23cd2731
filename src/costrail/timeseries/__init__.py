"""Time series over spend: scope series, forecasts with intervals, anomaly detection with root
cause. Long format (`unique_id, ds, y`) throughout, statsforecast-style."""

from costrail.timeseries.anomaly import (
    Anomaly,
    AnomalyReport,
    AnomalySettings,
    detect_anomalies,
    scope_filter,
    score_series,
)
from costrail.timeseries.forecast import (
    BacktestScore,
    PeriodProjection,
    backtest,
    month_bounds,
    project_period,
    quarter_bounds,
)
from costrail.timeseries.models import (
    DEFAULT_MODEL,
    MODELS,
    Forecaster,
    SeasonalNaive,
    TrendSeasonal,
    make_model,
)
from costrail.timeseries.rootcause import RootCause, rank_root_causes
from costrail.timeseries.series import TOTAL_SCOPE, fill_gaps, scope_series

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "TOTAL_SCOPE",
    "Anomaly",
    "AnomalyReport",
    "AnomalySettings",
    "BacktestScore",
    "Forecaster",
    "PeriodProjection",
    "RootCause",
    "SeasonalNaive",
    "TrendSeasonal",
    "backtest",
    "detect_anomalies",
    "fill_gaps",
    "make_model",
    "month_bounds",
    "project_period",
    "quarter_bounds",
    "rank_root_causes",
    "scope_filter",
    "scope_series",
    "score_series",
]
