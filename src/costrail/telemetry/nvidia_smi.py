"""`nvidia-smi --query-gpu=… --format=csv[,noheader][,nounits] -l N` logs → `gpu_samples`.

The header (`utilization.gpu [%]`) says which field is where; repeated header lines (logs
concatenated) are skipped and must all name the same fields. Without any header, the fields are
taken to be `DEFAULT_FIELDS`, the query the docs recommend. `[N/A]`, `[Not Supported]` and
similar bracketed words are missing readings. Timestamps are the host's local time with no zone,
so they are read as UTC unless a time zone is given; the host is not in the file either, so it
is `host` when given, else the file name's stem.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from costrail.errors import ConfigError, InputError
from costrail.telemetry.duck import parser_connection
from costrail.telemetry.lines import read_lines
from costrail.telemetry.pivot import DEFAULT_INTERVAL_S, Parsed, shape
from costrail.telemetry.rows import finish

SOURCE = "nvidia-smi"
DEFAULT_FIELDS = (
    "timestamp",
    "name",
    "pci.bus_id",
    "uuid",
    "index",
    "utilization.gpu",
    "utilization.memory",
    "memory.total",
    "memory.used",
    "power.draw",
)
#: query field → (wide column, scale); `utilization.memory` (percent of time device memory
#: was read or written) stands in for DCGM's DRAM-active ratio
NUMERIC_FIELDS: dict[str, tuple[str, float]] = {
    "utilization.gpu": ("gpu_util_pct", 1.0),
    "utilization.memory": ("dram_active", 0.01),
    "memory.total": ("memory_total_mib", 1.0),
    "memory.used": ("memory_used_mib", 1.0),
    "memory.free": ("_memory_free_mib", 1.0),
    "power.draw": ("power_w", 1.0),
}
TEXT_FIELDS = {"name": "model", "pci.bus_id": "pci_bus_id", "uuid": "uuid", "index": "gpu"}
_NOT_A_READING = r"^\[[^\]]*\]$|^N/A$|^$"
_UNIT = r"[ ]*(%|MiB|W|MHz|C)$"


def parse_smi_csv(
    path: Path,
    *,
    host: str | None = None,
    tz: str | None = None,
    host_map: Mapping[str, str] | None = None,
    default_interval_s: float = DEFAULT_INTERVAL_S,
) -> Parsed:
    """One row per GPU per logged line. InputError names the line and field of a bad value."""
    lines = read_lines(path)
    con = parser_connection()
    try:
        con.register("lines_in", lines)
        con.execute(
            "CREATE TEMP TABLE rows AS SELECT line_no, "
            "list_transform(string_split(rtrim(raw, chr(10) || chr(13)), ','), x -> trim(x)) AS f "
            "FROM lines_in WHERE trim(rtrim(raw, chr(10) || chr(13))) <> ''"
        )
        fields = _header_fields(con, path)
        con.execute(
            "DELETE FROM rows WHERE NOT regexp_matches(f[1], '^[0-9]{4}/')"
            if fields.header
            else "SELECT 1"
        )
        _check_width(con, path, len(fields.names))
        _stage_values(con, fields.names)
        _check_values(con, path, fields.names)
        _create_wide(con, fields.names, host or path.stem, tz or "UTC")
        wide = shape(con, "smi_wide", default_interval_s)
    finally:
        con.close()
    return Parsed(finish(wide, SOURCE, str(path), host_map), SOURCE, {})


class _Fields:
    def __init__(self, names: tuple[str, ...], header: bool) -> None:
        self.names = names
        self.header = header


def _header_fields(con: duckdb.DuckDBPyConnection, path: Path) -> _Fields:
    headers = con.execute(
        "SELECT line_no, f FROM rows WHERE NOT regexp_matches(f[1], '^[0-9]{4}/') ORDER BY line_no"
    ).fetchall()
    if not headers:
        return _Fields(DEFAULT_FIELDS, header=False)
    first = tuple(str(name).split(" [")[0] for name in headers[0][1])
    for line_no, names in headers[1:]:
        if tuple(str(name).split(" [")[0] for name in names) != first:
            raise InputError(
                "header differs from the first header (or a timestamp is malformed)",
                file=path,
                row=int(line_no),
                column="timestamp",
                hint="log each --query-gpu field list to its own file",
            )
    if "timestamp" not in first or ("uuid" not in first and "index" not in first):
        raise InputError(
            "the query must include timestamp and uuid or index",
            file=path,
            row=int(headers[0][0]),
        )
    return _Fields(first, header=True)


def _check_width(con: duckdb.DuckDBPyConnection, path: Path, width: int) -> None:
    bad = con.execute(
        "SELECT line_no, len(f) FROM rows WHERE len(f) <> ? ORDER BY line_no LIMIT 1", [width]
    ).fetchone()
    if bad is not None:
        raise InputError(
            f"{bad[1]} fields where the header has {width}", file=path, row=int(bad[0])
        )


def _stage_values(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Each known field as text with its unit removed; NULL where there is no reading."""
    columns = []
    for position, name in enumerate(names, start=1):
        if name in NUMERIC_FIELDS or name in TEXT_FIELDS or name == "timestamp":
            cleaned = f"regexp_replace(f[{position}], '{_UNIT}', '')"
            columns.append(
                f"CASE WHEN regexp_matches(f[{position}], '{_NOT_A_READING}') THEN NULL "
                f'ELSE {cleaned} END AS "{name}"'
            )
    con.execute(f"CREATE TEMP TABLE smi AS SELECT line_no, {', '.join(columns)} FROM rows")


def _check_values(con: duckdb.DuckDBPyConnection, path: Path, names: tuple[str, ...]) -> None:
    checks = [
        (name, f'TRY_CAST("{name}" AS DOUBLE) IS NULL') for name in names if name in NUMERIC_FIELDS
    ]
    checks.append(("timestamp", f"{_parse_time('timestamp')} IS NULL"))
    for name, failed in checks:
        bad = con.execute(
            f'SELECT line_no, "{name}" FROM smi WHERE "{name}" IS NOT NULL AND {failed} '
            "ORDER BY line_no LIMIT 1"
        ).fetchone()
        if bad is not None:
            raise InputError(
                f"{bad[1]!r} is not a {'time' if name == 'timestamp' else 'number'}",
                file=path,
                row=int(bad[0]),
                column=name,
            )
    missing = con.execute(
        'SELECT line_no FROM smi WHERE "timestamp" IS NULL ORDER BY line_no LIMIT 1'
    ).fetchone()
    if missing is not None:
        raise InputError("no timestamp", file=path, row=int(missing[0]), column="timestamp")


def _parse_time(column: str) -> str:
    return f"try_strptime(\"{column}\", ['%Y/%m/%d %H:%M:%S.%g', '%Y/%m/%d %H:%M:%S'])"


def _create_wide(
    con: duckdb.DuckDBPyConnection, names: tuple[str, ...], host: str, tz: str
) -> None:
    try:
        con.execute("SELECT epoch(timezone(?, TIMESTAMP '2000-01-01'))", [tz]).fetchone()
    except duckdb.Error as error:
        raise ConfigError(f"--tz: unknown time zone {tz!r} (use an IANA name)") from error
    selected = {
        column: (f'CAST("{name}" AS DOUBLE) * {scale}' if name in names else "CAST(NULL AS DOUBLE)")
        for name, (column, scale) in NUMERIC_FIELDS.items()
    }
    texts = {
        column: (f'"{name}"' if name in names else "CAST(NULL AS VARCHAR)")
        for name, column in TEXT_FIELDS.items()
    }
    total = (
        f"coalesce({selected['memory_total_mib']}, "
        f"{selected['memory_used_mib']} + {selected['_memory_free_mib']})"
    )
    nulls = ", ".join(
        f"CAST(NULL AS {kind}) AS {column}"
        for column, kind in (
            ("node", "VARCHAR"),
            ("mig_profile", "VARCHAR"),
            ("mig_instance_id", "VARCHAR"),
            ("namespace", "VARCHAR"),
            ("pod", "VARCHAR"),
            ("container", "VARCHAR"),
            ("job_id", "VARCHAR"),
            ("provider_id", "VARCHAR"),
            ("instance_label", "VARCHAR"),
            ("sm_active", "DOUBLE"),
            ("tensor_active", "DOUBLE"),
            ("gr_engine_active", "DOUBLE"),
        )
    )
    con.execute(
        f"""
        CREATE TEMP TABLE smi_wide AS
        SELECT ? AS host, {", ".join(f"{expr} AS {column}" for column, expr in texts.items())},
               timezone(?, {_parse_time("timestamp")}) AS time,
               {selected["gpu_util_pct"]} AS gpu_util_pct,
               {selected["dram_active"]} AS dram_active,
               {selected["memory_used_mib"]} AS memory_used_mib,
               {total} AS memory_total_mib,
               {selected["power_w"]} AS power_w,
               {nulls}
        FROM smi
        """,
        [host, tz],
    )
