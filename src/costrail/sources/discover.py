"""Find data files under the given paths and pick a reader for each from its content."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from costrail.errors import InputError, UnknownFormatError
from costrail.sources import native
from costrail.sources.base import FileKind, Reader, SourceFile, readers

DATA_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".parquet",
    ".jsonl",
    ".jsonl.gz",
    ".json",
    ".json.gz",
    ".ndjson",
)


@dataclass(frozen=True)
class FileGroup:
    """Files that one reader loads together (one file kind)."""

    reader: Reader
    kind: FileKind
    files: tuple[SourceFile, ...]


@dataclass(frozen=True)
class Discovery:
    """The groups to load, and files found in directories that no reader recognised."""

    groups: list[FileGroup]
    skipped: list[Path]


def discover(paths: list[Path], format_name: str | None = None) -> Discovery:
    """Expand directories and manifests, detect each file's format, group by (reader, kind).

    A file named on the command line must be recognised; one found while walking a directory
    is skipped (and listed) when no reader recognises it.
    """
    forced = readers.get(format_name)() if format_name else None
    candidates = [reader_class() for _, reader_class in readers.items()]
    grouped: dict[tuple[str, FileKind], list[SourceFile]] = defaultdict(list)
    reader_by_name: dict[str, Reader] = {}
    skipped: list[Path] = []
    for path, explicit in _expand(paths, candidates):
        try:
            peek = native.peek(path)
        except InputError:
            if explicit or not _is_plain_json(path):
                raise
            skipped.append(path)  # a JSON document (e.g. a manifest or truth.json), not JSON lines
            continue
        try:
            reader = forced or _detect(peek, candidates)
        except UnknownFormatError:
            if explicit:
                raise
            skipped.append(path)
            continue
        if forced is not None and peek.kind not in forced.file_kinds:
            raise InputError(f"format {forced.name} does not read {peek.kind} files", file=path)
        reader.validate_peek(peek)
        reader_by_name[reader.name] = reader
        grouped[(reader.name, peek.kind)].append(SourceFile.from_path(path, peek.kind))
    groups = [
        FileGroup(reader=reader_by_name[name], kind=kind, files=tuple(files))
        for (name, kind), files in grouped.items()
    ]
    if not groups:
        raise InputError(
            f"no billing files recognised under {', '.join(map(str, paths))}",
            hint="pass --format to name the format",
        )
    return Discovery(groups=groups, skipped=skipped)


def _detect(peek: native.FilePeek, candidates: list[Reader]) -> Reader:
    for reader in candidates:
        if peek.kind in reader.file_kinds and reader.detect(peek):
            return reader
    known = ", ".join(reader.name for reader in candidates)
    raise UnknownFormatError(
        f"unknown billing format (columns start {list(peek.columns[:6])})",
        file=peek.path,
        hint=f"pass --format with one of: {known}",
    )


def _expand(paths: list[Path], candidates: list[Reader]) -> list[tuple[Path, bool]]:
    files: list[tuple[Path, bool]] = []
    for path in paths:
        if not path.exists():
            raise InputError("no such file or directory", file=path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and _is_data_file(child):
                    files.append((child, False))
            continue
        expanded = _expand_manifest(path, candidates)
        files.extend(
            [(file, True) for file in expanded] if expanded is not None else [(path, True)]
        )
    if not files:
        raise InputError(f"no data files found under {', '.join(map(str, paths))}")
    # Deduplicate by the resolved path, but keep the path as the user gave it (for messages).
    given: dict[Path, Path] = {}
    explicit_by_path: dict[Path, bool] = {}
    for file, explicit in files:
        resolved = file.resolve()
        given.setdefault(resolved, file)
        explicit_by_path[resolved] = explicit_by_path.get(resolved, False) or explicit
    return [(given[resolved], explicit_by_path[resolved]) for resolved in given]


def _expand_manifest(path: Path, candidates: list[Reader]) -> list[Path] | None:
    for reader in candidates:
        expanded = reader.expand(path)
        if expanded is not None:
            return expanded
    return None


def _is_plain_json(path: Path) -> bool:
    return path.name.lower().endswith((".json", ".json.gz"))


def _is_data_file(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith((".", "_")) or "manifest" in name:
        return False
    return name.endswith(DATA_SUFFIXES)
