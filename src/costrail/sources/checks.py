"""Checks shared by readers: mandatory columns present, every value parsable — before any write."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import ibis.expr.types as ir

from costrail.errors import InputError
from costrail.sources.base import FILE_COLUMN, ROW_COLUMN, FilePeek
from costrail.sources.expr import first_unparsable

Parser = Callable[[ir.Value], ir.Value]


def require_columns(peek: FilePeek, required: Iterable[str], what: str) -> None:
    """Raise naming the first missing column when a file lacks columns its format must have."""
    missing = [name for name in required if name not in peek.columns]
    reject_missing_columns(peek, missing, what)


def reject_missing_columns(
    peek: FilePeek,
    missing: Sequence[str],
    what: str,
    hint: str = "export with all columns included, or pass --format if the format was misdetected",
) -> None:
    """Raise naming every missing column (the first as the error's column), if there are any.

    For formats whose mandatory columns go by other names in the file than in the check.
    """
    if missing:
        raise InputError(
            f"missing mandatory column(s) for {what}: {', '.join(missing)}",
            file=peek.path,
            column=missing[0],
            hint=hint,
        )


def require_parsable(native: ir.Table, parsers: Mapping[str, Parser], expected: str) -> None:
    """Raise at the first row (by file, row) whose value in one of `parsers`' columns won't parse.

    One aggregate query counts failures in every column; only on failure is the first bad row
    looked up. `expected` describes the accepted forms in the error message.
    """
    present = {column: parser for column, parser in parsers.items() if column in native.columns}
    if not present:
        return
    failures = native.aggregate(
        **{
            f"bad_{index}": _unparsable(native, column, parser).cast("int64").sum()
            for index, (column, parser) in enumerate(present.items())
        }
    )
    counts = failures.to_pyarrow().to_pylist()[0]
    for index, (column, parser) in enumerate(present.items()):
        if not counts[f"bad_{index}"]:
            continue
        bad = first_unparsable(native, column, parser(native[column]), FILE_COLUMN, ROW_COLUMN)
        if bad is not None:
            raise InputError(
                f"cannot parse {bad['value']!r} as {expected}",
                file=str(bad["file"]),
                row=int(str(bad["row"])),
                column=column,
                hint="fix or remove the row and load the file again; nothing was loaded",
            )


def _unparsable(native: ir.Table, column: str, parser: Parser) -> ir.BooleanValue:
    raw = native[column]
    has_text = raw.notnull()
    if raw.type().is_string():
        has_text = has_text & (raw.strip() != "")
    return has_text & parser(raw).isnull()  # type: ignore[no-any-return]
