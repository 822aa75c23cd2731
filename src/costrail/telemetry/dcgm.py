"""dcgm-exporter Prometheus exposition text (`curl host:9400/metrics` saves) → `gpu_samples`.

A file may hold several scrapes one after another. The time of a sample is, in this order:
its own millisecond timestamp (the optional third field of an exposition line); else the
latest `# costrail-scrape-time: ISO-8601` comment above it; else `scrape_time` given by the
caller (`--time`); else the file's modification time. Lines are parsed by DuckDB string
functions over an Arrow array of the files' lines, and labels once per distinct series.

All files of one load are staged together — one table of (file, line, text) in one private
connection — so a folder of thousands of one-scrape files costs a dozen queries, not a dozen
per file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from costrail.errors import InputError
from costrail.telemetry.duck import parser_connection
from costrail.telemetry.lines import read_lines
from costrail.telemetry.pivot import (
    DEFAULT_INTERVAL_S,
    METRIC_COLUMNS,
    Parsed,
    blank_condition,
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
#: more Arrow chunks than this (many small files) are merged before DuckDB scans them
_MAX_CHUNKS = 64
_BATCH_LINES = 64 * 1024


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
    (parsed,) = parse_expositions(
        [path], scrape_time=scrape_time, host_map=host_map, default_interval_s=default_interval_s
    )
    return parsed


def parse_expositions(
    paths: Sequence[Path],
    *,
    scrape_time: datetime | None = None,
    host_map: Mapping[str, str] | None = None,
    default_interval_s: float = DEFAULT_INTERVAL_S,
) -> list[Parsed]:
    """`parse_exposition` of each path (same rows, sentinel counts and `interval_s`, which is
    measured per file), in order, but parsed together so the cost is per load, not per file.

    On a bad file the error is the one a file-by-file parse in `paths` order raises first.
    """
    if not paths:
        return []
    try:
        return _parse_together(list(paths), scrape_time, host_map, default_interval_s)
    except InputError as error:
        _raise_first_error(list(paths), error, scrape_time, default_interval_s)
        raise


def _raise_first_error(
    paths: list[Path],
    error: InputError,
    scrape_time: datetime | None,
    default_interval_s: float,
) -> None:
    """Raise what a file-by-file parse in order would raise first, given that parsing
    `paths` together raised `error`: batch the files before the one it names (recursing on
    their first error), then parse that file alone for its own first error."""
    if len(paths) == 1 or error.file is None:
        raise error
    bad = next(index for index, path in enumerate(paths) if str(path) == error.file)
    if bad > 0:
        try:
            _parse_together(paths[:bad], scrape_time, None, default_interval_s)
        except InputError as earlier:
            _raise_first_error(paths[:bad], earlier, scrape_time, default_interval_s)
            raise
    _parse_together([paths[bad]], scrape_time, None, default_interval_s)
    raise error


def _parse_together(
    paths: list[Path],
    scrape_time: datetime | None,
    host_map: Mapping[str, str] | None,
    default_interval_s: float,
) -> list[Parsed]:
    lines = _read_all(paths)
    con = parser_connection()
    try:
        con.register("lines_in", lines)
        _stage_samples(con)
        _check_samples(con, paths)
        con.register("markers", _scrape_markers(con, paths))
        con.register("fallbacks", _fallback_times(paths, scrape_time))
        con.execute(
            """
            CREATE TEMP TABLE long AS
            SELECT s.file_no, s.series_key,
                   CASE WHEN s.ts_text <> '' THEN to_timestamp(CAST(s.ts_text AS BIGINT) / 1000.0)
                        ELSE coalesce(m.time, f.time) END AS time,
                   s.metric, CAST(s.value_text AS DOUBLE) AS value
            FROM samples s
            ASOF LEFT JOIN markers m ON s.file_no = m.file_no AND s.line_no >= m.line_no
            JOIN fallbacks f ON s.file_no = f.file_no
            """
        )
        con.register("labels", _labels(con, paths))
        sentinels = _count_sentinels(con, len(paths))
        wide = pivot(con, "long", "labels", default_interval_s, file_column="file_no")
    finally:
        con.close()
    return _split(wide, paths, sentinels, host_map)


def _read_all(paths: list[Path]) -> pa.Table:
    """(file_no, line_no, raw) of every file; file_no is the position in `paths`."""
    tables = []
    for file_no, path in enumerate(paths):
        lines = read_lines(path)
        numbers = pa.array(np.full(lines.num_rows, file_no, dtype=np.int32))
        tables.append(lines.add_column(0, "file_no", numbers))
    table = pa.concat_tables(tables)
    if table.column("raw").num_chunks > _MAX_CHUNKS:
        table = table.combine_chunks()
        # Record batches of 64 Ki lines let DuckDB scan the table on every core.
        table = pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH_LINES), table.schema)
    return table


def _fallback_times(paths: list[Path], scrape_time: datetime | None) -> pa.Table:
    """Per file, the time of samples with neither a timestamp nor a scrape-time comment."""
    times = [to_utc(scrape_time) if scrape_time is not None else _mtime(path) for path in paths]
    return pa.table(
        {
            "file_no": pa.array(range(len(paths)), pa.int32()),
            "time": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )


def _count_sentinels(con: duckdb.DuckDBPyConnection, files: int) -> list[dict[str, int]]:
    """Blank readings per metric, per file (they are dropped by the pivot)."""
    counts: list[dict[str, int]] = [{} for _ in range(files)]
    rows = con.execute(
        "SELECT file_no, metric, count(*) FROM long "
        f"WHERE {blank_condition('value')} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    for file_no, metric, count in rows:
        counts[int(file_no)][str(metric)] = int(count)
    return counts


def _split(
    wide: pa.Table,
    paths: list[Path],
    sentinels: list[dict[str, int]],
    host_map: Mapping[str, str] | None,
) -> list[Parsed]:
    """The pivot (sorted by file) → one `Parsed` per file, zero-copy slices of one table."""
    file_no = wide.column("file_no").to_numpy()
    names = pa.array([str(path) for path in paths], pa.string())
    rows = finish(wide.drop_columns(["file_no"]), SOURCE, names.take(file_no), host_map)
    ends = np.searchsorted(file_no, np.arange(len(paths)), side="right")
    starts = np.concatenate(([0], ends[:-1]))
    return [
        Parsed(rows.slice(int(start), int(end - start)), SOURCE, sentinels[index])
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def _stage_samples(con: duckdb.DuckDBPyConnection) -> None:
    """Sample lines of the counters we read, plus every line that is not exposition text
    (staged with metric ''). Plain string functions, not regex captures: 5-10x faster."""
    metrics = ", ".join(f"'{metric}'" for metric in METRIC_COLUMNS)
    con.execute(
        f"""
        CREATE TEMP VIEW parsed_lines AS
        WITH located AS (
            SELECT file_no, line_no, raw, strpos(raw, '{{') AS open_at,
                   strpos(reverse(raw), '}}') AS close_from_end
            FROM lines_in
            WHERE NOT starts_with(raw, '#')
                  AND NOT (ascii(raw) IN (9, 10, 13, 32)
                           AND regexp_full_match(raw, '{_BLANK_OR_COMMENT}'))
        ),
        split AS (
            SELECT file_no, line_no,
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
        SELECT file_no, line_no,
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
        "CREATE TEMP TABLE samples AS SELECT file_no, line_no, metric, "
        "hash(labels) AS series_key, "
        "value_text, ts_text FROM parsed_lines"
    )


def _check_samples(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    bad = con.execute(
        "SELECT file_no, line_no FROM samples WHERE metric = '' ORDER BY ALL LIMIT 1"
    ).fetchone()
    if bad is not None:
        raise InputError(
            "not a Prometheus exposition line (expected `name{labels} value [timestamp_ms]`)",
            file=paths[int(bad[0])],
            row=int(bad[1]),
            hint="row is the line number in the file",
        )
    bad_value = con.execute(
        "SELECT file_no, line_no, metric, value_text FROM samples "
        "WHERE TRY_CAST(value_text AS DOUBLE) IS NULL ORDER BY file_no, line_no LIMIT 1"
    ).fetchone()
    if bad_value is not None:
        raise InputError(
            f"value {bad_value[3]!r} is not a number",
            file=paths[int(bad_value[0])],
            row=int(bad_value[1]),
            column=str(bad_value[2]),
        )


def _scrape_markers(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> pa.Table:
    rows = con.execute(
        f"""
        SELECT file_no, line_no, split_part(raw, '{SCRAPE_TIME_COMMENT}:', 2)
        FROM lines_in
        WHERE regexp_matches(raw, '^#[ \\t]*{SCRAPE_TIME_COMMENT}:')
        ORDER BY file_no, line_no
        """
    ).fetchall()
    file_numbers: list[int] = []
    line_numbers: list[int] = []
    times: list[datetime] = []
    for file_no, line_no, text in rows:
        try:
            times.append(to_utc(datetime.fromisoformat(str(text).strip())))
        except ValueError as error:
            raise InputError(
                f"scrape time {text!r} is not an ISO 8601 time",
                file=paths[int(file_no)],
                row=int(line_no),
                column=SCRAPE_TIME_COMMENT,
            ) from error
        file_numbers.append(int(file_no))
        line_numbers.append(int(line_no))
    return pa.table(
        {
            "file_no": pa.array(file_numbers, pa.int32()),
            "line_no": pa.array(line_numbers, pa.int64()),
            "time": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )


def _labels(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> pa.Table:
    """Each distinct label set (across all files), parsed from the first line that carries it."""
    series: dict[int, dict[str, str]] = {}
    rows = con.execute(
        "WITH firsts AS (SELECT series_key, min({'f': file_no, 'l': line_no}) AS at "
        "FROM samples WHERE metric <> '' GROUP BY 1) "
        "SELECT f.series_key, l.raw, l.file_no, l.line_no FROM firsts f JOIN lines_in l "
        "ON l.file_no = f.at.f AND l.line_no = f.at.l ORDER BY l.file_no, l.line_no"
    ).fetchall()
    for key, raw, file_no, line_no in rows:
        line = str(raw)
        text = line[line.find("{") : line.rfind("}") + 1] if "{" in line else ""
        parsed = parse_label_string(text) if text else {}
        if parsed is None:
            raise InputError(
                'label set does not parse (expected {name="value",...})',
                file=paths[int(file_no)],
                row=int(line_no),
            )
        series[int(key)] = parsed
    return labels_table(series, pa.uint64())


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
