"""`costrail ingest prometheus` against a real Prometheus server scraping a local exporter.

The exporter is a small local HTTP server that serves dcgm-exporter's exposition layout (we
cannot run DCGM without a GPU); Prometheus itself is the real Debian `prometheus` binary.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.warehouse import connect

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
GPUS = {
    "GPU-0d1e2f30-4152-6374-8596-a7b8c9d0e1f2": {
        "gpu": "0",
        "util": 83,
        "used": 30001,
        "free": 10959,
    },
    "GPU-f1e2d3c4-b5a6-9788-6950-413223140506": {"gpu": "1", "util": 0, "used": 4, "free": 40956},
}
HOST = "dcgm-test-node"


def exposition() -> bytes:
    """One dcgm-exporter scrape (newer exporter: lowercase `hostname`)."""
    lines = []
    for metric, field in (
        ("DCGM_FI_DEV_GPU_UTIL", "util"),
        ("DCGM_FI_DEV_FB_USED", "used"),
        ("DCGM_FI_DEV_FB_FREE", "free"),
    ):
        lines += [f"# HELP {metric} {metric}.", f"# TYPE {metric} gauge"]
        for uuid, gpu in GPUS.items():
            index = gpu["gpu"]
            lines.append(
                f'{metric}{{gpu="{index}",UUID="{uuid}",pci_bus_id="00000000:1{index}:00.0",'
                f'device="nvidia{index}",modelName="NVIDIA A100-PCIE-40GB",hostname="{HOST}"}} '
                f"{gpu[field]}"
            )
    return ("\n".join(lines) + "\n").encode()


class _Exporter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = exposition()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def exporter() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def prometheus(exporter: str, tmp_path: Path) -> Iterator[str]:
    if not Path(PROMETHEUS).exists():
        pytest.skip("the `prometheus` binary is not installed (Debian package `prometheus`)")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: dcgm\n    static_configs:\n"
        f"      - targets: ['{exporter}']\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_samples(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_samples(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until two scrapes of both GPUs are stored (20 s at most)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited with {process.returncode}")
        try:
            answer = httpx.get(
                f"{url}/api/v1/query",
                params={"query": "count_over_time(DCGM_FI_DEV_FB_FREE[1m])"},
                timeout=2,
            ).json()
            counts = [int(s["value"][1]) for s in answer["data"]["result"]]
            if len(counts) == len(GPUS) and min(counts) >= 2:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail("prometheus stored no samples within 20 s")


def test_ingest_prometheus_reads_back_what_the_exporter_served(
    prometheus: str, tmp_path: Path
) -> None:
    url = str(tmp_path / "w.duckdb")
    result = CliRunner().invoke(
        app,
        [
            *("ingest", "prometheus", "--url", prometheus),
            *("--since", "5m", "--step", "1s", "-w", url, "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)["routes"]["prometheus"]["sources"]["prometheus"]
    assert (summary["hosts"], summary["gpus"]) == (1, 2)
    store = connect(url)
    rows = store.read("gpu_samples", GPU_SAMPLES_SCHEMA).to_pyarrow().to_pylist()
    store.close()
    assert len(rows) == summary["rows"] >= 4
    for row in rows:
        served = GPUS[row["gpu_uuid"]]
        assert row["host"] == HOST
        assert row["gpu_index"] == int(served["gpu"])
        assert row["gpu_util_pct"] == served["util"]
        assert row["memory_used_mib"] == served["used"]
        assert row["memory_total_mib"] == served["used"] + served["free"]
        assert row["interval_s"] == 1.0
        assert row["source"] == "prometheus"
