"""AWS actions against moto running in server mode (`moto.server.ThreadedMotoServer` on
127.0.0.1, a local HTTP endpoint speaking the EC2 and SageMaker APIs); boto3 reaches it through
`endpoint_url`, exactly as it would reach AWS. We cannot call real AWS from tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from costrail.config import parse_config
from costrail.policy.actions import ActionsSection, run_action
from costrail.policy.state import ACTION_AUDIT_SCHEMA, PolicyState
from costrail.warehouse import Warehouse
from tests.alerts.servers import free_port

REGION = "us-east-1"
#: one of the AMIs moto serves by default
AMI = "ami-12c6146b"


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def moto_url(moto_server: str) -> str:
    """A fresh fake AWS per test (moto keeps its state per process)."""
    httpx.post(f"{moto_server}/moto-api/reset")
    return moto_server


def ec2(url: str) -> Any:
    return boto3.client("ec2", region_name=REGION, endpoint_url=url)


def launch(url: str, count: int, tags: dict[str, str]) -> list[str]:
    launched = ec2(url).run_instances(
        ImageId=AMI,
        MinCount=count,
        MaxCount=count,
        InstanceType="p4d.24xlarge",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
    )
    return [item["InstanceId"] for item in launched["Instances"]]


def states(url: str) -> dict[str, str]:
    pages = ec2(url).describe_instances()["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in pages for i in r["Instances"]}


def spec(url: str, **entry: Any) -> Any:
    entry = {"region": REGION, "endpoint_url": url, **entry}
    text = json.dumps({"actions": {"act": entry}})
    return parse_config(text).section("actions", ActionsSection).root["act"]


def test_dry_run_plans_the_stop_of_tagged_instances_and_changes_nothing(
    moto_url: str, warehouse: Warehouse
) -> None:
    dev = launch(moto_url, 2, {"env": "dev"})
    launch(moto_url, 1, {"env": "prod"})
    before = states(moto_url)

    records = run_action(
        "stop-dev",
        spec(moto_url, type="aws.ec2-stop", apply=True, tags={"env": "dev"}),
        "budget:x|actual:100|p",
        apply=False,
        run_id="r1",
    )
    PolicyState(warehouse).record_actions(records)

    assert [(r.mode, r.call, r.outcome) for r in records] == [
        ("dry-run", "ec2.StopInstances", "planned")
    ]
    assert records[0].parameters == {"InstanceIds": sorted(dev)}
    assert states(moto_url) == before
    audit = warehouse.read("action_audit", ACTION_AUDIT_SCHEMA).to_pyarrow().to_pylist()
    assert [(row["mode"], row["outcome"]) for row in audit] == [("dry-run", "planned")]


def test_apply_stops_exactly_the_tagged_instances_and_audits_them(
    moto_url: str, warehouse: Warehouse
) -> None:
    dev = launch(moto_url, 2, {"env": "dev"})
    prod = launch(moto_url, 2, {"env": "prod"})

    records = run_action(
        "stop-dev",
        spec(moto_url, type="aws.ec2-stop", apply=True, tags={"env": "dev"}),
        "budget:x|actual:100|p",
        apply=True,
        run_id="r1",
    )
    PolicyState(warehouse).record_actions(records)

    after = states(moto_url)
    assert {after[i] for i in dev} == {"stopped"}
    assert {after[i] for i in prod} == {"running"}
    audit = warehouse.read("action_audit", ACTION_AUDIT_SCHEMA).to_pyarrow().to_pylist()
    assert [(row["mode"], row["call"], row["outcome"]) for row in audit] == [
        ("apply", "ec2.StopInstances", "ok")
    ]
    assert json.loads(audit[0]["parameters"]) == {"InstanceIds": sorted(dev)}


def test_apply_without_apply_true_in_the_config_stays_a_dry_run(moto_url: str) -> None:
    ids = launch(moto_url, 1, {"env": "dev"})

    records = run_action(
        "stop", spec(moto_url, type="aws.ec2-stop", instance_ids=ids), "t", apply=True, run_id="r"
    )

    assert records[0].mode == "dry-run"
    assert states(moto_url)[ids[0]] == "running"


def _notebook(url: str, name: str) -> None:
    client = boto3.client("sagemaker", region_name=REGION, endpoint_url=url)
    client.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.p3.2xlarge",
        RoleArn="arn:aws:iam::123456789012:role/sagemaker",
    )


def _notebook_status(url: str, name: str) -> str:
    client = boto3.client("sagemaker", region_name=REGION, endpoint_url=url)
    return str(
        client.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
    )


def test_apply_stops_only_the_named_sagemaker_notebook(moto_url: str) -> None:
    _notebook(moto_url, "idle-notebook")
    _notebook(moto_url, "busy-notebook")

    records = run_action(
        "nb",
        spec(
            moto_url,
            type="aws.sagemaker-stop-notebook",
            apply=True,
            notebook_names=["idle-notebook"],
        ),
        "t",
        apply=True,
        run_id="r",
    )

    assert [(r.call, r.outcome) for r in records] == [("sagemaker.StopNotebookInstance", "ok")]
    assert _notebook_status(moto_url, "idle-notebook") == "Stopped"
    assert _notebook_status(moto_url, "busy-notebook") == "InService"


def test_endpoint_scale_plans_every_variant_down_to_the_minimum(moto_url: str) -> None:
    client = boto3.client("sagemaker", region_name=REGION, endpoint_url=moto_url)
    client.create_model(
        ModelName="m",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:1"},
    )
    client.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": name,
                "ModelName": "m",
                "InitialInstanceCount": 4,
                "InstanceType": "ml.g4dn.12xlarge",
            }
            for name in ("blue", "green")
        ],
    )
    client.create_endpoint(EndpointName="llm", EndpointConfigName="c")

    records = run_action(
        "shrink",
        spec(moto_url, type="aws.sagemaker-endpoint-scale", endpoint_name="llm"),
        "t",
        apply=False,
        run_id="r",
    )

    assert records[0].call == "sagemaker.UpdateEndpointWeightsAndCapacities"
    assert records[0].parameters == {
        "EndpointName": "llm",
        "DesiredWeightsAndCapacities": [
            {"VariantName": "blue", "DesiredInstanceCount": 1},
            {"VariantName": "green", "DesiredInstanceCount": 1},
        ],
    }


def test_an_unreachable_api_is_an_audited_error_not_a_crash() -> None:
    records = run_action(
        "stop",
        spec(f"http://127.0.0.1:{free_port()}", type="aws.ec2-stop", apply=True, tags={"a": "b"}),
        "t",
        apply=True,
        run_id="r",
    )

    assert [(r.call, r.outcome) for r in records] == [("plan", "error")]
