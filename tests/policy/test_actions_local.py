"""Kubernetes, Slurm and command actions.

Kubernetes: a small local HTTP server speaking the apps/v1 API, a stand-in for a cluster (list
deployments with a label selector; PATCH `/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale`
with the strategic merge patch the kubernetes client sends). Slurm: a fake `scancel` script
first on PATH that records its argv.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from costrail.config import parse_config
from costrail.policy.actions import ActionsSection, run_action
from tests.alerts.servers import free_port

DEPLOYMENTS = {
    "trainer-a": {"app": "trainer"},
    "trainer-b": {"app": "trainer"},
    "web": {"app": "web"},
}


def spec(**entry: Any) -> Any:
    return (
        parse_config(json.dumps({"actions": {"act": entry}}))
        .section("actions", ActionsSection)
        .root["act"]
    )


@pytest.fixture
def kube_api() -> Iterator[tuple[str, list[tuple[str, str, Any]]]]:
    calls: list[tuple[str, str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            selector = parse_qs(url.query).get("labelSelector", [""])[0]
            key, _, value = selector.partition("=")
            calls.append(("GET", url.path, selector))
            items = [
                {
                    "metadata": {"name": name, "namespace": "ml", "labels": labels},
                    "spec": {"selector": {"matchLabels": labels}, "template": {}},
                }
                for name, labels in DEPLOYMENTS.items()
                if labels.get(key) == value
            ]
            self._reply(
                {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {}, "items": items}
            )

        def do_PATCH(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append(("PATCH", self.path, (self.headers["Content-Type"], body)))
            name = self.path.split("/")[-2]
            self._reply(
                {
                    "kind": "Scale",
                    "apiVersion": "autoscaling/v1",
                    "metadata": {"name": name, "namespace": "ml"},
                    "spec": {"replicas": body["spec"]["replicas"]},
                }
            )

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def test_scale_to_zero_patches_the_scale_of_each_selected_deployment(
    kube_api: tuple[str, list[tuple[str, str, Any]]],
) -> None:
    url, calls = kube_api
    action = spec(
        type="kubernetes.scale-to-zero",
        apply=True,
        namespace="ml",
        label_selector="app=trainer",
        host=url,
    )

    records = run_action("pause", action, "t", apply=True, run_id="r")

    assert [(r.parameters["name"], r.outcome, r.detail) for r in records] == [
        ("trainer-a", "ok", "replicas=0"),
        ("trainer-b", "ok", "replicas=0"),
    ]
    patches = [(path, body) for verb, path, body in calls if verb == "PATCH"]
    assert patches == [
        (
            f"/apis/apps/v1/namespaces/ml/deployments/{name}/scale",
            ("application/strategic-merge-patch+json", {"spec": {"replicas": 0}}),
        )
        for name in ("trainer-a", "trainer-b")
    ]


def test_scale_to_zero_dry_run_lists_but_never_patches(
    kube_api: tuple[str, list[tuple[str, str, Any]]],
) -> None:
    url, calls = kube_api
    action = spec(type="kubernetes.scale-to-zero", namespace="ml", deployment="web", host=url)

    records = run_action("pause", action, "t", apply=True, run_id="r")

    assert [(r.mode, r.outcome) for r in records] == [("dry-run", "planned")]
    assert calls == []


@pytest.fixture
def fake_scancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `scancel` on PATH that appends its argv (one JSON list per line) to a log."""
    log = tmp_path / "scancel.log"
    script = tmp_path / "bin" / "scancel"
    script.parent.mkdir()
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_scancel_apply_cancels_by_user_partition_and_job_ids(fake_scancel: Path) -> None:
    action = spec(
        type="slurm.scancel", apply=True, user="bob", partition="gpu", job_ids=["41", "42"]
    )

    records = run_action("cancel", action, "t", apply=True, run_id="r")

    assert records[0].outcome == "ok"
    lines = fake_scancel.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [["--user=bob", "--partition=gpu", "41", "42"]]


def test_scancel_dry_run_does_not_run_scancel(fake_scancel: Path) -> None:
    records = run_action(
        "cancel", spec(type="slurm.scancel", job_ids=["7"]), "t", apply=True, run_id="r"
    )

    assert records[0].parameters == {"argv": ["scancel", "7"]}
    assert not fake_scancel.exists()


def test_a_failing_command_is_recorded_as_an_error(tmp_path: Path) -> None:
    action = spec(type="command", apply=True, argv=["sh", "-c", "echo no >&2; exit 4"])

    records = run_action("hook", action, "t", apply=True, run_id="r")

    assert (records[0].outcome, records[0].detail) == ("error", "RuntimeError: exit 4: no")


def test_an_action_without_targets_is_a_config_error_naming_the_action() -> None:
    from costrail.config import ConfigError

    with pytest.raises(ConfigError, match=r"action 'act'.*job_ids, user or partition"):
        spec(type="slurm.scancel")


def test_training_job_stop_plans_one_stop_call_per_named_job() -> None:
    """Plan only: moto does not implement StopTrainingJob, and a dry run calls no API."""
    action = spec(type="aws.sagemaker-stop-training-job", region="us-east-1", job_names=["a", "b"])

    records = run_action("stop-jobs", action, "t", apply=False, run_id="r")

    assert [(r.call, r.parameters, r.outcome) for r in records] == [
        ("sagemaker.StopTrainingJob", {"TrainingJobName": "a"}, "planned"),
        ("sagemaker.StopTrainingJob", {"TrainingJobName": "b"}, "planned"),
    ]
