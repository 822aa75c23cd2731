"""dcgm-exporter Prometheus exposition text (`curl host:9400/metrics` saves) → `gpu_samples`.

A file may hold several scrapes one after another. The time of a sample is, in this order:
its own millisecond timestamp (the optional third field of an exposition line); else the
latest `# costrail-scrape-time: ISO-8601` comment above it; else `scrape_time` given by the
caller (`--time`); else the file's modification time. Lines are parsed by DuckDB regular
expressions over an Arrow array of the file's lines, and labels once per distinct series.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from costrail.errors import InputError
from costrail.telemetry.duck import parser_connection
from costrail.telemetry.lines import read_lines
from costrail.telemetry.pivot import (
    DEFAULT_INTERVAL_S,
    METRIC_COLUMNS,
    Parsed,
    count_sentinels,
    labels_table,
    parse_label_string,
    pivot,
    to_utc,
)
from costrail.telemetry.rows import finish

SOURCE = "dcgm-exposition"
SCRAPE_TIME_COMMENT = "costrail-scrape-time"

_METRIC_NAME = r"[A-Za-z_:][A-Za-z0-9_:]*"
_BLANK_OR_COMMENT = r"[ \t]*(#.*)?\r?\n?"


def parse_exposition(
    path: Path,
    *,
    scrape_time: datetime | None = None,
    host_map: Mapping[str, str] | None = None,
    default_interval_s: float = DEFAULT_INTERVAL_S,
) -> Parsed:
    """Every DCGM counter this package reads, pivoted; other metrics are skipped.

    Raises `InputError` (file, line, metric) for a line that is not exposition text, a value
    that is not a number, a label set that does not parse or a bad scrape-time comment.
    """
    lines = read_lines(path)
    con = parser_connection()
    try:
        con.register("lines_in", lines)
        _stage_samples(con)
        _check_samples(con, path)
        markers = _scrape_markers(con, path)
        con.register("markers", markers)
        fallback = to_utc(scrape_time) if scrape_time is not None else _mtime(path)
        con.execute(
            """
            CREATE TEMP TABLE long AS
            SELECT s.series_key,
                   CASE WHEN s.ts_text <> '' THEN to_timestamp(CAST(s.ts_text AS BIGINT) / 1000.0)
                        ELSE coalesce(m.time, ?::TIMESTAMPTZ) END AS time,
                   s.metric, CAST(s.value_text AS DOUBLE) AS value
            FROM samples s ASOF LEFT JOIN markers m ON s.line_no >= m.line_no
            """,
            [fallback],
        )
        con.register("labels", _labels(con, path))
        sentinels = count_sentinels(con, "long")
        wide = pivot(con, "long", "labels", default_interval_s)
    finally:
        con.close()
    return Parsed(finish(wide, SOURCE, str(path), host_map), SOURCE, sentinels)


def _stage_samples(con: duckdb.DuckDBPyConnection) -> None:
    """Sample lines of the counters we read, plus every line that is not exposition text
    (staged with metric ''). Plain string functions, not regex captures: 5-10x faster."""
    metrics = ", ".join(f"'{metric}'" for metric in METRIC_COLUMNS)
    con.execute(
        f"""
        CREATE TEMP VIEW parsed_lines AS
        WITH located AS (
            SELECT line_no, raw, strpos(raw, '{{') AS open_at,
                   strpos(reverse(raw), '}}') AS close_from_end
            FROM lines_in
            WHERE NOT starts_with(raw, '#')
                  AND NOT (ascii(raw) IN (9, 10, 13, 32)
                           AND regexp_full_match(raw, '{_BLANK_OR_COMMENT}'))
        ),
        split AS (
            SELECT line_no,
                   CASE WHEN open_at > 0 THEN left(raw, open_at - 1)
                        ELSE split_part(raw, ' ', 1) END AS metric,
                   CASE WHEN open_at > 0 AND close_from_end > 0
                        THEN substr(raw, open_at, length(raw) - close_from_end - open_at + 2)
                        ELSE '' END AS labels,
                   list_filter(
                       string_split(
                           translate(
                               CASE WHEN open_at > 0 THEN right(raw, close_from_end - 1)
                                    ELSE substr(raw, strpos(raw, ' ')) END,
                               chr(9) || chr(10) || chr(13), '   '),
                           ' '),
                       token -> token <> '') AS tokens,
                   open_at > 0 AND close_from_end = 0 AS unclosed
            FROM located
        )
        SELECT line_no,
               CASE WHEN unclosed OR len(tokens) NOT IN (1, 2)
                         OR NOT regexp_full_match(metric, '{_METRIC_NAME}') THEN ''
                    ELSE metric END AS metric,
               labels, tokens[1] AS value_text, coalesce(tokens[2], '') AS ts_text
        FROM split
        WHERE metric IN ({metrics}) OR unclosed OR len(tokens) NOT IN (1, 2)
              OR NOT regexp_full_match(metric, '{_METRIC_NAME}')
        """
    )
    # Label sets repeat on every scrape: carry a 64-bit hash per line, the text once per series.
    con.execute(
        "CREATE TEMP TABLE samples AS SELECT line_no, metric, hash(labels) AS series_key, "
        "value_text, ts_text FROM parsed_lines"
    )


def _check_samples(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    bad = con.execute("SELECT min(line_no) FROM samples WHERE metric = ''").fetchone()
    if bad is not None and bad[0] is not None:
        raise InputError(
            "not a Prometheus exposition line (expected `name{labels} value [timestamp_ms]`)",
            file=path,
            row=int(bad[0]),
            hint="row is the line number in the file",
        )
    bad_value = con.execute(
        "SELECT line_no, metric, value_text FROM samples "
        "WHERE TRY_CAST(value_text AS DOUBLE) IS NULL ORDER BY line_no LIMIT 1"
    ).fetchone()
    if bad_value is not None:
        raise InputError(
            f"value {bad_value[2]!r} is not a number",
            file=path,
            row=int(bad_value[0]),
            column=str(bad_value[1]),
        )


def _scrape_markers(con: duckdb.DuckDBPyConnection, path: Path) -> pa.Table:
    rows = con.execute(
        f"""
        SELECT line_no, split_part(raw, '{SCRAPE_TIME_COMMENT}:', 2)
        FROM lines_in
        WHERE regexp_matches(raw, '^#[ \\t]*{SCRAPE_TIME_COMMENT}:')
        ORDER BY line_no
        """
    ).fetchall()
    line_numbers: list[int] = []
    times: list[datetime] = []
    for line_no, text in rows:
        try:
            times.append(to_utc(datetime.fromisoformat(str(text).strip())))
        except ValueError as error:
            raise InputError(
                f"scrape time {text!r} is not an ISO 8601 time",
                file=path,
                row=int(line_no),
                column=SCRAPE_TIME_COMMENT,
            ) from error
        line_numbers.append(int(line_no))
    return pa.table(
        {
            "line_no": pa.array(line_numbers, pa.int64()),
            "time": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )


def _labels(con: duckdb.DuckDBPyConnection, path: Path) -> pa.Table:
    """Each distinct label set, parsed from the first line that carries it."""
    series: dict[int, dict[str, str]] = {}
    rows = con.execute(
        "WITH firsts AS (SELECT series_key, min(line_no) AS line_no FROM samples "
        "WHERE metric <> '' GROUP BY 1) "
        "SELECT f.series_key, l.raw, f.line_no FROM firsts f JOIN lines_in l USING (line_no) "
        "ORDER BY f.line_no"
    ).fetchall()
    for key, raw, line_no in rows:
        line = str(raw)
        text = line[line.find("{") : line.rfind("}") + 1] if "{" in line else ""
        parsed = parse_label_string(text) if text else {}
        if parsed is None:
            raise InputError(
                'label set does not parse (expected {name="value",...})',
                file=path,
                row=int(line_no),
            )
        series[int(key)] = parsed
    return labels_table(series, pa.uint64())


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
