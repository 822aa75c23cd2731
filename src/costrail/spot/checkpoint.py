"""Atomic checkpoints on any fsspec URL: data first, a small completion marker last; keep K.

Layout under the store URL (one writer per URL):

    step-000000001200-1767225600123456789.ckpt            the payload, exactly the caller's bytes
    step-000000001200-1767225600123456789.complete.json   the marker, written only after the data
    .tmp-step-…ckpt.<random>                              local only: a write in progress

A checkpoint exists once its marker exists. On local disks both files are written under a
temporary name, fsynced and renamed (atomic on POSIX); on object stores (s3://, gs://, az://,
memory://) a rename is a copy and delete, so the data object is written in place and the marker
— a single small PUT, atomic on every object store — is written last. Either way a writer
killed mid-write leaves no marker, and its leftovers are never returned and are removed by the
next successful save.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import posixpath
import re
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from costrail.spot.errors import CheckpointCorruptError, CheckpointError

logger = logging.getLogger("costrail.spot")

FORMAT = "costrail.checkpoint/1"
DATA_SUFFIX = ".ckpt"
MARKER_SUFFIX = ".complete.json"
TEMP_PREFIX = ".tmp-"
Chunk = bytes | bytearray | memoryview
_NAME = re.compile(r"step-(\d{12})-(\d{19})")
_ANY_ENTRY = re.compile(rf"(?:{re.escape(TEMP_PREFIX)})?(step-\d{{12}}-\d{{19}})")


@dataclass(frozen=True)
class CheckpointInfo:
    """One complete checkpoint, as its marker describes it."""

    name: str
    step: int
    written_at: datetime
    sha256: str
    size_bytes: int
    data_url: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


class CheckpointStore:
    """Writes, lists and reads checkpoints under one fsspec URL.

    `url` is a local path, `file://…`, `memory://…`, `s3://bucket/prefix`, `gs://…` or any URL
    fsspec knows (the matching package — s3fs, gcsfs, adlfs — must be installed);
    `storage_options` go to that filesystem (credentials, endpoint). `keep_last` complete
    checkpoints survive each save. Payloads are bytes or an iterable of byte chunks (so a large
    checkpoint need not sit in memory twice); callers serialise their own state.
    """

    def __init__(
        self,
        url: str,
        *,
        keep_last: int = 3,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        if keep_last < 1:
            raise ValueError(f"keep_last must be >= 1, got {keep_last}")
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem

        self.url = url
        self.keep_last = keep_last
        self.fs, root = url_to_fs(url, **dict(storage_options or {}))
        self.root = str(root).rstrip("/") or "/"
        self.is_local = isinstance(self.fs, LocalFileSystem)

    # ---- writing -------------------------------------------------------------------------

    def save(
        self,
        payload: bytes | bytearray | memoryview | Iterable[bytes],
        *,
        step: int,
        metadata: Mapping[str, Any] | None = None,
    ) -> CheckpointInfo:
        """Write one checkpoint and return it once it is complete; then prune old ones.

        `metadata` must be JSON-serialisable; it is checked before any byte is written. If
        writing fails or the process dies, no marker exists and the previous checkpoint stays
        the latest.
        """
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        user_metadata = _json_checked(metadata or {})
        name = f"step-{step:012d}-{time.time_ns():019d}"
        self.fs.makedirs(self.root, exist_ok=True)
        data_path = self._path(name + DATA_SUFFIX)
        sha256, size_bytes = self._write(data_path, _chunks(payload))
        written_at = datetime.now(UTC)
        marker = {
            "format": FORMAT,
            "name": name,
            "data": name + DATA_SUFFIX,
            "step": step,
            "written_at": written_at.isoformat(),
            "sha256": sha256,
            "size_bytes": size_bytes,
            "metadata": user_metadata,
        }
        self._write_marker(self._path(name + MARKER_SUFFIX), json.dumps(marker).encode())
        self._prune(newest=name)
        return CheckpointInfo(
            name=name,
            step=step,
            written_at=written_at,
            sha256=sha256,
            size_bytes=size_bytes,
            data_url=self.fs.unstrip_protocol(data_path),
            metadata=user_metadata,
        )

    def _write(self, path: str, chunks: Iterator[Chunk]) -> tuple[str, int]:
        return _write_local(path, chunks) if self.is_local else self._write_object(path, chunks)

    def _write_object(self, path: str, chunks: Iterator[Chunk]) -> tuple[str, int]:
        hasher = hashlib.sha256()
        size_bytes = 0
        try:
            with self.fs.open(path, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                    hasher.update(chunk)
                    size_bytes += len(chunk)
        except BaseException:
            # Some stores publish what was written when the file closes; without a marker it is
            # ignored anyway, so removing it is only tidiness.
            with contextlib.suppress(Exception):
                self.fs.rm_file(path)
            raise
        return hasher.hexdigest(), size_bytes

    def _write_marker(self, path: str, document: bytes) -> None:
        if self.is_local:
            _write_local(path, iter((document,)))
        else:
            self.fs.pipe_file(path, document)

    # ---- reading -------------------------------------------------------------------------

    def checkpoints(self) -> list[CheckpointInfo]:
        """Every complete checkpoint, oldest first (by step, then write time)."""
        entries = self._entries()
        return [
            info
            for name in _complete_names(entries)
            if (info := self._info(name, entries)) is not None
        ]

    def latest(self) -> CheckpointInfo | None:
        """The newest complete checkpoint, or None. Reads only as many markers as needed."""
        entries = self._entries()
        for name in reversed(_complete_names(entries)):
            info = self._info(name, entries)
            if info is not None:
                return info
        return None

    def read(self, info: CheckpointInfo) -> bytes:
        """The payload of `info`, checked against the size and sha256 in its marker."""
        try:
            payload = bytes(self.fs.cat_file(self._path(info.name + DATA_SUFFIX)))
        except FileNotFoundError as error:
            raise CheckpointCorruptError(info.data_url, "the data object is gone") from error
        if len(payload) != info.size_bytes:
            raise CheckpointCorruptError(
                info.data_url, f"{len(payload)} bytes, marker says {info.size_bytes}"
            )
        if hashlib.sha256(payload).hexdigest() != info.sha256:
            raise CheckpointCorruptError(info.data_url, "sha256 differs from the marker")
        return payload

    def restore_latest(self) -> tuple[CheckpointInfo, bytes] | None:
        """The newest checkpoint whose bytes verify, with its payload; None if there is none.

        A corrupt checkpoint is skipped with a warning naming it, and the next older one tried.
        """
        for info in reversed(self.checkpoints()):
            try:
                return info, self.read(info)
            except CheckpointCorruptError as error:
                logger.warning("skipping checkpoint: %s", error)
        return None

    def _info(self, name: str, entries: Mapping[str, int]) -> CheckpointInfo | None:
        marker_path = self._path(name + MARKER_SUFFIX)
        try:
            document = json.loads(self.fs.cat_file(marker_path))
            info = self._parse_marker(name, document)
        except FileNotFoundError:
            return None  # pruned between listing and reading
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("ignoring unreadable checkpoint marker %s: %s", marker_path, error)
            return None
        data_size = entries.get(name + DATA_SUFFIX)
        if data_size is None or data_size != info.size_bytes:
            logger.warning(
                "ignoring checkpoint %s: data object %s (marker says %s bytes)",
                name,
                "missing" if data_size is None else f"has {data_size} bytes",
                info.size_bytes,
            )
            return None
        return info

    def _parse_marker(self, name: str, document: Any) -> CheckpointInfo:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} marker")
        if document["name"] != name:
            raise ValueError(f"marker names {document['name']!r}")
        written_at = datetime.fromisoformat(str(document["written_at"]))
        metadata = document.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ValueError("metadata is not an object")
        return CheckpointInfo(
            name=name,
            step=int(document["step"]),
            written_at=written_at,
            sha256=str(document["sha256"]),
            size_bytes=int(document["size_bytes"]),
            data_url=self.fs.unstrip_protocol(self._path(name + DATA_SUFFIX)),
            metadata=metadata,
        )

    # ---- housekeeping --------------------------------------------------------------------

    def _entries(self) -> dict[str, int]:
        """Base name → size of everything directly under the root (fresh, not cached)."""
        self.fs.invalidate_cache(self.root)
        try:
            listing = self.fs.ls(self.root, detail=True)
        except FileNotFoundError:
            return {}
        return {
            posixpath.basename(str(entry["name"]).rstrip("/")): int(entry.get("size") or 0)
            for entry in listing
            if entry.get("type") != "directory"
        }

    def _prune(self, *, newest: str) -> None:
        """Keep the last `keep_last` complete checkpoints; drop leftovers of dead writers.

        Markers go before their data, so a half-pruned checkpoint is never 'complete'. Leftovers
        (data without a marker, temporary files) are removed only when older than `newest`, so a
        save still in flight elsewhere is not touched. Failures are logged: the new checkpoint is
        already safe.
        """
        entries = self._entries()
        complete = _complete_names(entries)
        doomed: list[str] = []
        for name in complete[: -self.keep_last]:
            doomed += [name + MARKER_SUFFIX, name + DATA_SUFFIX]
        complete_set = set(complete)
        for entry in entries:
            match = _ANY_ENTRY.match(entry)
            if match is None or match.group(1) in complete_set or match.group(1) >= newest:
                continue
            if entry.startswith(TEMP_PREFIX) or entry.endswith((DATA_SUFFIX, MARKER_SUFFIX)):
                doomed.append(entry)
        for entry in doomed:
            if entry not in entries:
                continue
            try:
                self.fs.rm_file(self._path(entry))
            except (OSError, ValueError) as error:
                logger.warning("could not remove old checkpoint file %s: %s", entry, error)

    def _path(self, basename: str) -> str:
        return f"{self.root}/{basename}" if self.root != "/" else f"/{basename}"


def _complete_names(entries: Mapping[str, int]) -> list[str]:
    """Names with both a marker and a data object, oldest first (names sort by step, time)."""
    names = [
        entry[: -len(MARKER_SUFFIX)]
        for entry in entries
        if entry.endswith(MARKER_SUFFIX) and _NAME.fullmatch(entry[: -len(MARKER_SUFFIX)])
    ]
    return sorted(name for name in names if name + DATA_SUFFIX in entries)


def _chunks(payload: bytes | bytearray | memoryview | Iterable[bytes]) -> Iterator[Chunk]:
    """The payload as byte chunks, without copying a buffer the caller already holds."""
    if isinstance(payload, bytes):
        yield payload
    elif isinstance(payload, bytearray | memoryview):
        yield memoryview(payload).cast("B")
    else:
        for chunk in payload:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise CheckpointError(f"payload chunks must be bytes, got {type(chunk).__name__}")
            yield chunk


def _json_checked(metadata: Mapping[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(dict(metadata), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint metadata must be JSON (str, int, float, bool, None, lists, objects): "
            f"{error}"
        ) from error
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _write_local(path: str, chunks: Iterator[Chunk]) -> tuple[str, int]:
    """Write under a temporary name in the same directory, fsync, rename; fsync the directory."""
    directory, basename = os.path.split(path)
    temp_path = os.path.join(directory, f"{TEMP_PREFIX}{basename}.{uuid.uuid4().hex[:8]}")
    hasher = hashlib.sha256()
    size_bytes = 0
    try:
        with open(temp_path, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
                hasher.update(chunk)
                size_bytes += len(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp_path)
        raise
    _fsync_directory(directory)
    return hasher.hexdigest(), size_bytes


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; not every platform can open a directory, which is fine."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
