"""Fixtures for the guard: both state stores (a real redis-server), a local upstream."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from costrail.guard.state import GuardStore
from costrail.guard.store_sqlite import SqliteStore
from tests.guard.upstream import create_upstream

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"{REDIS_SERVER} is not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GuardStore]:
    if request.param == "sqlite":
        made: GuardStore = SqliteStore(tmp_path / "guard.sqlite")
    else:
        from costrail.guard.store_redis import RedisStore

        url = request.getfixturevalue("redis_url")
        made = RedisStore(url)
        made._redis.flushdb()  # type: ignore[attr-defined]
    yield made
    made.close()


@pytest.fixture(scope="session")
def upstream_url() -> Iterator[str]:
    """The local stand-in for the providers, served by uvicorn on 127.0.0.1."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_upstream(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


class RowSink:
    """Collects the rows the recorder would write to the warehouse."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, rows: Any) -> None:
        self.rows.extend(dict(row) for row in rows)
