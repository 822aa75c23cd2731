"""The reader contract: discover and check native files, then map them to FOCUS with pure Ibis.

A reader never walks billing rows in Python. It receives the native rows as an Ibis table (with
`__file` and `__row` columns naming where each row came from) and returns an Ibis expression.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

import ibis
import ibis.expr.types as ir

from costrail.registry import Registry

FileKind = Literal["parquet", "csv", "jsonl"]

#: Columns added to every native table by the loader.
FILE_COLUMN = "__file"
ROW_COLUMN = "__row"

#: What a re-load replaces: every reader sets these on every row and totals its source by them.
LOAD_KEY = ("x_Provider", "BillingAccountId", "BillingPeriodStart")


@dataclass(frozen=True)
class SourceFile:
    """One native file that took part in a load, with its content hash for the `ingests` table."""

    path: Path
    kind: FileKind
    sha256: str
    size_bytes: int

    @classmethod
    def from_path(cls, path: Path, kind: FileKind) -> SourceFile:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return cls(path=path, kind=kind, sha256=digest.hexdigest(), size_bytes=path.stat().st_size)


@dataclass(frozen=True)
class FilePeek:
    """What detection may look at: the file kind and its column (or top-level field) names."""

    path: Path
    kind: FileKind
    columns: tuple[str, ...]

    def has(self, *names: str) -> bool:
        present = set(self.columns)
        return all(name in present for name in names)

    def has_prefix(self, prefix: str) -> bool:
        return any(name.startswith(prefix) for name in self.columns)


@dataclass
class LoadWarnings:
    """Counted warnings: a quirk in the input is reported once with how often it occurred."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, message: str, count: int = 1) -> None:
        if count > 0:
            self.counts[message] += count

    def lines(self) -> list[str]:
        return [f"{message} ({count:,} rows)" for message, count in self.counts.items()]


@dataclass(frozen=True)
class MappingContext:
    """What a mapping may depend on besides the native rows.

    `engine` is the Ibis backend name ("duckdb", "pyspark", …): a few functions (JSON → map)
    have no portable Ibis spelling, and `costrail.sources.expr` picks the engine's builtin.
    """

    engine: str
    ingest_id: str
    source_format: str


class Reader(ABC):
    """One native export format.

    Subclasses register with `register_reader`, which sets the three class attributes below and
    adds the class to `readers`.
    """

    #: registry name, also accepted by `--format`
    name: ClassVar[str]
    #: one line for `costrail ingest --help` and error messages
    description: ClassVar[str]
    #: the file kinds this reader accepts
    file_kinds: ClassVar[tuple[FileKind, ...]]

    @abstractmethod
    def detect(self, peek: FilePeek) -> bool:
        """True when the file's content (its columns) is this format."""

    def expand(self, path: Path) -> list[Path] | None:
        """Turn a non-data path (e.g. an export manifest) into data files; None when not handled."""
        return None

    def validate_peek(self, peek: FilePeek) -> None:
        """Raise `InputError` when a file of this format lacks a column the mapping needs."""

    def arrow_read_options(self, kind: FileKind) -> dict[str, object]:
        """Per-format options for the native loader (e.g. an explicit JSON schema)."""
        return {}

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        """Raise `InputError` for rows that cannot be mapped; add counted warnings for quirks.

        Runs before anything is written. The default checks nothing.
        """

    @abstractmethod
    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        """Pure mapping: native rows → FOCUS columns (any subset of the costs schema).

        Must carry `x_SourceFile` and `x_SourceRow` from the native `__file` and `__row` and set
        `x_Provider`, `BillingAccountId` and `BillingPeriodStart` on every row: they are the key
        that a re-load replaces.
        """

    @abstractmethod
    def source_totals(self, native: ir.Table) -> ir.Table:
        """The source's own billed total per load key, computed from the native columns.

        Columns: `x_Provider`, `BillingAccountId`, `BillingPeriodStart`, `source_rows` (int64),
        `source_total` (decimal). Reconciliation compares this with the loaded `BilledCost`.
        """


readers: Registry[type[Reader]] = Registry("reader")

ReaderClass = TypeVar("ReaderClass", bound=type[Reader])


def register_reader(
    name: str, *, description: str, file_kinds: tuple[FileKind, ...]
) -> Callable[[ReaderClass], ReaderClass]:
    """Class decorator: give a reader its name, description and file kinds, and register it.

    The name is stated once, so the registry key and `Reader.name` cannot disagree. Readers
    register in import order, which is detection order (see `costrail.sources`).
    """

    def register(reader: ReaderClass) -> ReaderClass:
        reader.name = name
        reader.description = description
        reader.file_kinds = file_kinds
        readers.register(name)(reader)
        return reader

    return register


def literal_string(value: str) -> ir.StringScalar:
    """A typed string literal (keeps mypy and every backend happy about the type)."""
    return ibis.literal(value, type="string")


def source_position(table: ir.Table) -> dict[str, ir.Value]:
    """`x_SourceFile` and `x_SourceRow` from the loader's `__file` and `__row`: a row's origin."""
    return {"x_SourceFile": table[FILE_COLUMN], "x_SourceRow": table[ROW_COLUMN]}


def totals_per_load_key(
    keyed: ir.Table, amount: ir.NumericValue, counted: ir.IntegerValue | None = None
) -> ir.Table:
    """What `Reader.source_totals` returns: row count and summed amount per load key.

    `keyed` has the `LOAD_KEY` columns and `amount` (a column of it, at the source's own
    precision). Every row counts once, unless `counted` says how much each row counts (GCP
    credits add to the total without being source rows of their own).
    """
    return keyed.group_by(list(LOAD_KEY)).aggregate(
        source_rows=keyed.count() if counted is None else counted.sum(),
        source_total=amount.sum(),
    )
