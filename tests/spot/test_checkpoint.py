"""Atomic checkpoint store on a local directory and on memory:// (an object-store stand-in)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from costrail.spot import CheckpointCorruptError, CheckpointError, CheckpointStore


@pytest.fixture(params=["local", "memory"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "checkpoints")
        return
    url = f"memory://costrail-tests/{uuid.uuid4().hex}"
    yield url
    fs, root = fsspec.core.url_to_fs(url)
    if fs.exists(root):
        fs.rm(root, recursive=True)


def listing(url: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    return sorted(os.path.basename(p) for p in fs.ls(root, detail=False))


def test_saved_checkpoint_is_the_latest_and_reads_back_byte_for_byte(store_url: str) -> None:
    store = CheckpointStore(store_url)
    payload = os.urandom(4096)

    saved = store.save(payload, step=100, metadata={"loss": 0.25})

    assert store.latest() == saved
    assert store.read(saved) == payload
    assert (saved.step, saved.size_bytes) == (100, 4096)
    assert saved.sha256 == hashlib.sha256(payload).hexdigest()
    assert saved.metadata == {"loss": 0.25}


def test_empty_store_has_no_latest_checkpoint(store_url: str) -> None:
    store = CheckpointStore(store_url)

    assert store.latest() is None
    assert store.restore_latest() is None


def test_only_the_last_k_checkpoints_are_kept(store_url: str) -> None:
    store = CheckpointStore(store_url, keep_last=2)

    for step in (10, 20, 30, 40, 50):
        store.save(f"state at {step}".encode(), step=step)

    assert [c.step for c in store.checkpoints()] == [40, 50]
    assert len(listing(store_url)) == 4  # two data objects, two markers


def test_latest_is_the_highest_step(store_url: str) -> None:
    store = CheckpointStore(store_url, keep_last=5)
    store.save(b"late", step=30)
    store.save(b"early", step=20)

    latest = store.latest()

    assert latest is not None and store.read(latest) == b"late"


def test_a_write_that_fails_midway_never_becomes_latest(store_url: str) -> None:
    store = CheckpointStore(store_url)
    store.save(b"good state", step=10)

    def dies_midway() -> Iterator[bytes]:
        yield b"x" * 1024
        raise OSError("network dropped")

    with pytest.raises(OSError, match="network dropped"):
        store.save(dies_midway(), step=20)

    latest = store.latest()
    assert latest is not None and latest.step == 10
    assert store.read(latest) == b"good state"


def test_data_without_its_completion_marker_is_not_a_checkpoint(store_url: str) -> None:
    store = CheckpointStore(store_url)
    store.save(b"older", step=10)
    newest = store.save(b"newer", step=20)
    fs, root = fsspec.core.url_to_fs(store_url)
    fs.rm_file(f"{root}/{newest.name}.complete.json")  # as if the writer died before the marker

    latest = store.latest()

    assert latest is not None and latest.step == 10


def test_chunked_payload_is_stored_as_its_concatenation(store_url: str) -> None:
    store = CheckpointStore(store_url)
    chunks = [os.urandom(1000) for _ in range(5)]

    saved = store.save(iter(chunks), step=1)

    assert store.read(saved) == b"".join(chunks)
    assert saved.sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()


def test_changed_bytes_are_detected_and_restore_falls_back_to_the_previous_checkpoint(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = CheckpointStore(store_url)
    store.save(b"older state", step=10)
    newest = store.save(b"newer state", step=20)
    fs, root = fsspec.core.url_to_fs(store_url)
    fs.pipe_file(f"{root}/{newest.name}.ckpt", b"NEWER STATE")  # same size, other bytes

    with pytest.raises(CheckpointCorruptError, match="sha256"):
        store.read(newest)
    restored = store.restore_latest()

    assert restored is not None and restored[1] == b"older state"
    assert any(newest.name in r.message for r in caplog.records)


def test_metadata_that_is_not_json_is_refused_before_anything_is_written(store_url: str) -> None:
    store = CheckpointStore(store_url)

    with pytest.raises(CheckpointError, match="JSON"):
        store.save(b"state", step=1, metadata={"when": object()})

    assert store.latest() is None


def test_file_urls_work_like_plain_paths(tmp_path: Path) -> None:
    store = CheckpointStore(f"file://{tmp_path}/run")

    saved = store.save(b"state", step=7)

    assert (tmp_path / "run" / f"{saved.name}.ckpt").read_bytes() == b"state"
    assert saved.data_url.startswith("file://")


STALLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from costrail.spot import CheckpointStore

    store = CheckpointStore(sys.argv[1])
    store.save(b"complete state", step=10)

    def large_payload():
        yield b"\\0" * (8 << 20)
        Path(sys.argv[2]).write_text("half written")
        time.sleep(60)  # killed here, in the middle of the write
        yield b"\\0" * (8 << 20)

    store.save(large_payload(), step=20)
    """
)


def test_a_writer_killed_mid_write_leaves_the_previous_checkpoint_as_latest(
    tmp_path: Path,
) -> None:
    url, flag = str(tmp_path / "run"), tmp_path / "half-written"
    writer = subprocess.Popen([sys.executable, "-c", STALLED_WRITER, url, str(flag)])
    try:
        deadline = time.monotonic() + 20
        while not flag.exists():
            assert writer.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.wait(10)
    store = CheckpointStore(url)

    leftovers = [name for name in listing(url) if name.startswith(".tmp-")]
    latest = store.latest()

    assert writer.returncode == -signal.SIGKILL
    assert len(leftovers) == 1 and os.path.getsize(tmp_path / "run" / leftovers[0]) == 8 << 20
    assert latest is not None and store.read(latest) == b"complete state"


def test_next_save_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    run = tmp_path / "run"
    store = CheckpointStore(str(run))
    store.save(b"one", step=1)
    dead_writer_temp = run / ".tmp-step-000000000002-0000000000000000001.ckpt.dead1234"
    dead_writer_temp.write_bytes(b"partial")

    store.save(b"three", step=3)

    assert not dead_writer_temp.exists()
    assert [c.step for c in store.checkpoints()] == [1, 3]


def test_keep_last_must_keep_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keep_last"):
        CheckpointStore(str(tmp_path), keep_last=0)
