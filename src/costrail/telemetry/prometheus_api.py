"""Prometheus HTTP API answers (`query` / `query_range` JSON) and the live `query_range` pull.

A saved answer (`curl …/api/v1/query_range?query=DCGM_FI_DEV_GPU_UTIL…`) names each series'
metric in its `__name__` label; an aggregated query drops that label, so the metric is then
taken from the file name (`DCGM_FI_DEV_GPU_UTIL.json`). The live pull asks for each counter
over the window in chunks that stay under Prometheus's 11,000 points per series.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

from costrail.errors import ConfigError, InputError
from costrail.telemetry.duck import parser_connection
from costrail.telemetry.pivot import (
    DEFAULT_INTERVAL_S,
    METRIC_COLUMNS,
    Parsed,
    count_sentinels,
    labels_table,
    pivot,
)
from costrail.telemetry.rows import finish

SOURCE = "prometheus"
#: Prometheus refuses a range query of more than 11,000 points per series
MAX_POINTS_PER_SERIES = 11_000
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


@dataclass
class Series:
    """Samples of one counter for one label set, gathered from one or more answers."""

    metric: str
    labels: dict[str, str]
    times_s: list[float]
    values: list[str]


def parse_duration_s(text: str, option: str) -> float:
    """Prometheus-style durations: `90s`, `5m`, `2h`, `7d`, `1w` → seconds."""
    found = _DURATION.match(text.strip())
    if found is None or float(found.group(1)) <= 0:
        raise ConfigError(f"{option}: {text!r} is not a duration such as 60s, 5m, 2h or 7d")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


def parse_query_json(
    path: Path,
    *,
    host_map: Mapping[str, str] | None = None,
    default_interval_s: float = DEFAULT_INTERVAL_S,
) -> Parsed:
    """A saved `query` or `query_range` answer → `gpu_samples` rows of the DCGM counters in it."""
    try:
        payload = json.loads(path.read_bytes())
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg}", file=path, row=error.lineno) from error
    except OSError as error:
        raise InputError(f"cannot read file: {error}", file=path) from error
    hint = path.stem if path.stem in METRIC_COLUMNS else None
    series = list(series_from_answer(payload, str(path), hint))
    return series_to_samples(series, str(path), host_map, default_interval_s)


def series_from_answer(payload: Any, origin: str, metric_hint: str | None) -> Iterator[Series]:
    """Series of the counters we read; InputError for an error answer or a malformed one."""
    if not isinstance(payload, dict) or "status" not in payload:
        raise InputError("not a Prometheus API answer (no `status`)", file=origin)
    if payload["status"] != "success":
        raise InputError(
            f"Prometheus answered {payload.get('errorType', 'error')}: "
            f"{payload.get('error', 'no message')}",
            file=origin,
        )
    data = payload.get("data")
    if not isinstance(data, dict) or data.get("resultType") not in ("matrix", "vector"):
        raise InputError("expected data.resultType `matrix` or `vector`", file=origin)
    result = data.get("result")
    if not isinstance(result, list):
        raise InputError("data.result is not a list", file=origin)
    for number, entry in enumerate(result, start=1):
        labels = entry.get("metric") if isinstance(entry, dict) else None
        if not isinstance(labels, dict):
            raise InputError("series has no `metric` object", file=origin, row=number)
        metric = labels.get("__name__") or metric_hint
        if metric is None:
            raise InputError(
                "series has no __name__ label, so its counter is unknown",
                file=origin,
                row=number,
                column="__name__",
                hint="query a plain selector, or name the file after the counter, "
                "e.g. DCGM_FI_DEV_GPU_UTIL.json",
            )
        if metric not in METRIC_COLUMNS:
            continue
        points = entry.get("values") if "values" in entry else [entry.get("value")]
        if not isinstance(points, list) or not all(
            isinstance(point, list) and len(point) == 2 for point in points
        ):
            raise InputError('samples are not [time, "value"] pairs', file=origin, row=number)
        clean = {key: str(value) for key, value in labels.items() if key != "__name__"}
        yield Series(
            metric,
            clean,
            [float(point[0]) for point in points],
            [str(point[1]) for point in points],
        )


def series_to_samples(
    series: list[Series],
    origin: str,
    host_map: Mapping[str, str] | None,
    default_interval_s: float = DEFAULT_INTERVAL_S,
) -> Parsed:
    """Long arrays → the shared pivot. Values are cast by Arrow; a bad one names its series."""
    keys: dict[str, dict[str, str]] = {}
    key_column: list[str] = []
    metric_column: list[str] = []
    times: list[float] = []
    values: list[str] = []
    for number, one in enumerate(series, start=1):
        key = json.dumps(one.labels, sort_keys=True)
        keys.setdefault(key, one.labels)
        key_column.extend([key] * len(one.times_s))
        metric_column.extend([one.metric] * len(one.times_s))
        times.extend(one.times_s)
        values.extend(one.values)
        _check_values(one, origin, number)
    long = pa.table(
        {
            "series_key": pa.array(key_column, pa.string()),
            "time": pa.array(np.round(np.asarray(times, np.float64) * 1e6).astype(np.int64)).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "metric": pa.array(metric_column, pa.string()),
            "value": pa.array(values, pa.string()).cast(pa.float64()),
        }
    )
    con = parser_connection()
    try:
        con.register("long", long)
        con.register("labels", labels_table(keys))
        sentinels = count_sentinels(con, "long")
        wide = pivot(con, "long", "labels", default_interval_s)
    finally:
        con.close()
    return Parsed(finish(wide, SOURCE, origin, host_map), SOURCE, sentinels)


def _check_values(one: Series, origin: str, number: int) -> None:
    try:
        pa.array(one.values, pa.string()).cast(pa.float64())
    except pa.ArrowInvalid:
        for position, text in enumerate(one.values):
            try:
                float(text)
            except ValueError:
                raise InputError(
                    f"sample {position + 1} value {text!r} is not a number",
                    file=origin,
                    row=number,
                    column=one.metric,
                ) from None
        raise


def pull(
    url: str,
    *,
    since_s: float,
    step_s: float = 60.0,
    selector: str | None = None,
    end: datetime | None = None,
    host_map: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Parsed:
    """`query_range` every counter over the last `since_s` seconds at `step_s` resolution.

    `selector` (`{namespace="ml"}`) narrows each query. `progress(done, total)` is called after
    each request. Prometheus errors and unreachable servers raise `InputError` naming the URL.
    """
    matchers = _selector_body(selector)
    finish_at = (end or datetime.now(UTC)).timestamp()
    chunks = list(_chunks(finish_at - since_s, finish_at, step_s))
    total = len(chunks) * len(METRIC_COLUMNS)
    origin = f"prometheus:{url.rstrip('/')}"
    owned = client is None
    http = client or httpx.Client(timeout=60.0)
    gathered: list[Series] = []
    try:
        done = 0
        for metric in METRIC_COLUMNS:
            for start_s, stop_s in chunks:
                payload = _query_range(http, url, f"{metric}{matchers}", start_s, stop_s, step_s)
                gathered.extend(series_from_answer(payload, origin, metric))
                done += 1
                if progress is not None:
                    progress(done, total)
    finally:
        if owned:
            http.close()
    return series_to_samples(gathered, origin, host_map, default_interval_s=step_s)


def _selector_body(selector: str | None) -> str:
    if selector is None or not selector.strip():
        return ""
    text = selector.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ConfigError(
            f'--selector: {selector!r} must be label matchers such as {{namespace="ml"}}'
        )
    return text


def _chunks(start_s: float, end_s: float, step_s: float) -> Iterator[tuple[float, float]]:
    """Windows of at most MAX_POINTS_PER_SERIES points, each starting one step after the last."""
    if not math.isfinite(step_s) or step_s <= 0:
        raise ConfigError("--step must be a positive duration")
    span_s = step_s * (MAX_POINTS_PER_SERIES - 1)
    cursor = start_s
    while cursor <= end_s:
        stop = min(cursor + span_s, end_s)
        yield cursor, stop
        cursor = stop + step_s


def _query_range(
    http: httpx.Client, url: str, query: str, start_s: float, end_s: float, step_s: float
) -> Any:
    endpoint = f"{url.rstrip('/')}/api/v1/query_range"
    params = {
        "query": query,
        "start": f"{start_s:.3f}",
        "end": f"{end_s:.3f}",
        "step": f"{step_s:g}",
    }
    try:
        response = http.get(endpoint, params=params)
    except httpx.HTTPError as error:
        raise InputError(
            f"cannot reach Prometheus: {error}", file=url, hint="check --url and that it is up"
        ) from error
    try:
        payload = response.json()
    except ValueError:
        raise InputError(
            f"HTTP {response.status_code} without a JSON body", file=endpoint, column=query
        ) from None
    if response.status_code >= 400 and payload.get("status") != "error":
        raise InputError(f"HTTP {response.status_code}", file=endpoint, column=query)
    return payload
