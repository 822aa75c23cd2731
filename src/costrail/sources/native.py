"""Load native export files into the engine as one table, with `__file` and `__row` on every row.

CSV is read with every column as text so that parsing happens in the mapping, where an
unparsable value can be reported with its file, row and column. Parquet keeps its types.
Corrupt, truncated or wrongly-encoded files raise `InputError` before anything is written.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from costrail.engine import register_arrow
from costrail.errors import InputError
from costrail.sources.base import FILE_COLUMN, ROW_COLUMN, FileKind, FilePeek, SourceFile

PARQUET_MAGIC = b"PAR1"


def file_kind(path: Path) -> FileKind:
    """Guess the container from the name, then confirm from the bytes (Parquet magic, JSON '{')."""
    head = _head_bytes(path, 4)
    if head == PARQUET_MAGIC:
        return "parquet"
    name = path.name.lower()
    if name.endswith((".parquet", ".snappy.parquet", ".gz.parquet")):
        raise InputError(
            "not a Parquet file (no PAR1 magic bytes)", file=path, hint="the file may be truncated"
        )
    text_head = _head_text(path, 2048).lstrip("\ufeff").lstrip()
    if name.endswith((".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return "jsonl"
    if text_head.startswith("{"):
        return "jsonl"
    return "csv"


def peek(path: Path) -> FilePeek:
    """Column names without reading the whole file (detection input)."""
    kind = file_kind(path)
    if kind == "parquet":
        try:
            names = tuple(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(f"corrupt Parquet file: {error}", file=path) from error
        return FilePeek(path=path, kind=kind, columns=names)
    if kind == "jsonl":
        first_line = _head_text(path, 1 << 20).lstrip("\ufeff").splitlines()[0:1]
        try:
            record = json.loads(first_line[0]) if first_line else {}
        except json.JSONDecodeError as error:
            raise InputError(f"not JSON lines: {error.msg}", file=path, row=1) from error
        return FilePeek(path=path, kind=kind, columns=tuple(record))
    return FilePeek(path=path, kind=kind, columns=tuple(csv_header(path)))


def csv_header(path: Path) -> list[str]:
    """The header row, decoded on its own so a bad byte further down is reported at its row."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as binary:  # type: ignore[operator]
            first_line: bytes = binary.readline()
    except (OSError, EOFError) as error:
        raise InputError(f"the compressed file is corrupt: {error}", file=path) from error
    if not first_line.strip():
        raise InputError("the file is empty", file=path)
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            "the header is not valid UTF-8", file=path, row=0, hint="export the file as UTF-8"
        ) from error
    try:
        header = next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error) as error:
        raise InputError(f"unreadable header: {error}", file=path, row=0) from error
    return [name.strip() for name in header]


def load(
    con: ibis.BaseBackend,
    files: list[SourceFile],
    options: dict[str, object] | None = None,
) -> ir.Table:
    """All `files` (one kind) as a single engine table named `_native_<id>` (temporary).

    Parquet on DuckDB is scanned by DuckDB itself (fast path for large CUR exports); everything
    else goes through Arrow, which names the offending row when a file is malformed.
    """
    kinds = {source.kind for source in files}
    if len(kinds) != 1:
        raise InputError(f"one load must be one file kind, got {sorted(kinds)}")
    kind = kinds.pop()
    name = f"_native_{uuid.uuid4().hex[:12]}"
    if kind == "parquet" and con.name == "duckdb":
        return _duckdb_parquet(con, files, name)
    arrow_table = _read_arrow(files, kind, options or {})
    return register_arrow(con, name, arrow_table)


def _duckdb_parquet(con: ibis.BaseBackend, files: list[SourceFile], name: str) -> ir.Table:
    for source in files:
        try:
            pq.read_metadata(source.path)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(
                f"corrupt Parquet file: {error}", file=source.path, hint="re-download the export"
            ) from error
    paths = [str(source.path) for source in files]
    path_list = ", ".join("'" + path.replace("'", "''") + "'" for path in paths)
    sql = (
        f'CREATE TEMP VIEW "{name}" AS SELECT * EXCLUDE (filename, file_row_number), '
        f'filename AS "{FILE_COLUMN}", file_row_number + 1 AS "{ROW_COLUMN}" '
        f"FROM read_parquet([{path_list}], filename=true, file_row_number=true, "
        "union_by_name=true, hive_partitioning=false)"
    )
    con.raw_sql(sql)  # type: ignore[attr-defined]
    return con.table(name)


def _read_arrow(files: list[SourceFile], kind: FileKind, options: dict[str, object]) -> pa.Table:
    tables = []
    spellings: dict[str, str] = {}
    for source in files:
        if kind == "csv":
            table = _read_csv(source.path)
        elif kind == "jsonl":
            table = _read_jsonl(source.path, options.get("json_schema"))  # type: ignore[arg-type]
        else:
            table = _read_parquet(source.path)
        table = _unify_case(table, spellings)
        rows = pa.array(range(1, table.num_rows + 1), type=pa.int64())
        files = pa.array([str(source.path)] * table.num_rows, type=pa.string())
        table = table.append_column(FILE_COLUMN, files)
        table = table.append_column(ROW_COLUMN, rows)
        tables.append(table)
    return pa.concat_tables(tables, promote_options="permissive")


def _unify_case(table: pa.Table, spellings: dict[str, str]) -> pa.Table:
    """Spell each column as the load's first file does when names differ only in case.

    DuckDB and Spark match names without regard to case, so `BillingAccountId` (Azure EA) and
    `billingAccountId` (Azure MCA) in one load would otherwise collide.
    """
    names = [spellings.setdefault(name.lower(), name) for name in table.column_names]
    return table if names == table.column_names else table.rename_columns(names)


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"corrupt Parquet file: {error}", file=path) from error


def _read_csv(path: Path) -> pa.Table:
    header = csv_header(path)
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InputError(f"duplicate column names {duplicates}", file=path, row=0)
    read_options = pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    try:
        return pacsv.read_csv(path, read_options=read_options, convert_options=convert_options)
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as error:
        raise _locate_csv_error(path, header, error) from error


def _locate_csv_error(path: Path, header: list[str], error: Exception) -> InputError:
    """Arrow's CSV errors do not name a row; find it by re-reading the file (error path only)."""
    try:
        for row_number, (fields, raw) in enumerate(_csv_rows(path), start=1):
            if raw is not None:
                column = _bad_utf8_column(raw, header)
                return InputError(
                    "text is not valid UTF-8",
                    file=path,
                    row=row_number,
                    column=column,
                    hint="export the file as UTF-8 (or convert it: iconv -f <encoding> -t utf-8)",
                )
            if len(fields) != len(header):
                return InputError(
                    f"expected {len(header)} fields, found {len(fields)}",
                    file=path,
                    row=row_number,
                    hint="the file looks truncated or has an unquoted delimiter; re-download it",
                )
    except (EOFError, OSError, gzip.BadGzipFile) as read_error:
        return InputError(
            f"the compressed file is truncated or corrupt: {read_error}",
            file=path,
            hint="re-download the export",
        )
    except csv.Error as csv_error:
        return InputError(f"malformed CSV: {csv_error}", file=path)
    return InputError(f"unreadable CSV: {error}", file=path)


def _csv_rows(path: Path) -> Iterator[tuple[list[str], bytes | None]]:
    """Yield (fields, None) per data row, or ([], raw bytes) for the first non-UTF-8 line."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as binary:  # type: ignore[operator]
        lines = iter(binary.readline, b"")
        next(lines, None)  # header
        pending = b""
        for raw_line in lines:
            pending += raw_line
            try:
                text = pending.decode("utf-8")
            except UnicodeDecodeError:
                yield [], pending
                return
            fields_list = list(csv.reader(io.StringIO(text)))
            if not fields_list:
                pending = b""
                continue
            if text.count('"') % 2 == 1:
                continue  # a quoted field spans lines
            pending = b""
            yield fields_list[0], None
        if pending:
            yield next(csv.reader(io.StringIO(pending.decode("utf-8", "replace")))), None


def _bad_utf8_column(raw: bytes, header: list[str]) -> str | None:
    text = raw.decode("utf-8", "replace")
    fields = next(csv.reader(io.StringIO(text)), [])
    for name, value in zip(header, fields, strict=False):
        if "\ufffd" in value:
            return name
    return None


def _read_jsonl(path: Path, schema: pa.Schema | None) -> pa.Table:
    parse_options = pajson.ParseOptions(explicit_schema=schema) if schema is not None else None
    try:
        return pajson.read_json(
            path, read_options=pajson.ReadOptions(block_size=1 << 24), parse_options=parse_options
        )
    except (pa.ArrowInvalid, OSError, EOFError) as error:
        raise _locate_json_error(path, error) from error


def _locate_json_error(path: Path, error: Exception) -> InputError:
    try:
        with _open_text(path) as handle:
            for row_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    json.loads(line)
                except json.JSONDecodeError as decode_error:
                    return InputError(
                        f"invalid JSON: {decode_error.msg} at character {decode_error.pos}",
                        file=path,
                        row=row_number,
                    )
    except UnicodeDecodeError:
        return InputError("text is not valid UTF-8", file=path)
    except (EOFError, OSError) as read_error:
        return InputError(f"the compressed file is truncated or corrupt: {read_error}", file=path)
    return InputError(f"unreadable JSON lines: {error}", file=path)


def _open_text(path: Path) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


def _head_bytes(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _head_text(path: Path, size: int) -> str:
    raw = _head_bytes(path, size * 4 if path.name.lower().endswith(".gz") else size)
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as handle:
                raw = handle.read(size)
        except (OSError, EOFError) as error:
            raise InputError(f"the gzip file is corrupt: {error}", file=path) from error
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise InputError(
            "the file is UTF-16 encoded", file=path, hint="export it as UTF-8 and load it again"
        )
    return raw.decode("utf-8", "replace")
