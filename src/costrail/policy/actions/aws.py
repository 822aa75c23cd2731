"""AWS actions over boto3: stop EC2 instances, stop SageMaker jobs/notebooks, shrink or delete
an endpoint. `endpoint_url` points boto3 at another endpoint (tests use moto in server mode)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from costrail.policy.actions import ActionKind, ActionSpec, Call, action_kinds

if TYPE_CHECKING:
    from botocore.client import BaseClient


class AwsSpec(ActionSpec):
    region: str | None = None
    endpoint_url: str | None = None


def _client(spec: AwsSpec, service: str) -> BaseClient:
    import boto3

    return boto3.client(service, region_name=spec.region, endpoint_url=spec.endpoint_url)


def _execute(spec: AwsSpec, call: Call) -> str:
    """Run exactly the planned call: `ec2.StopInstances` → `client.stop_instances(**params)`."""
    from botocore import xform_name

    client = _client(spec, call.service)
    response: dict[str, Any] = getattr(client, xform_name(call.operation))(**call.parameters)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    changes = response.get("StoppingInstances")
    if changes:
        moves = [
            f"{item['InstanceId']} {item['PreviousState']['Name']}→{item['CurrentState']['Name']}"
            for item in changes
        ]
        return "; ".join(moves)
    return f"HTTP {status}"


class Ec2StopSpec(AwsSpec):
    type: Literal["aws.ec2-stop"]
    instance_ids: list[str] = Field(default_factory=list)
    #: tag key → value; running instances carrying every tag are stopped
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _targets(self) -> Ec2StopSpec:
        if not self.instance_ids and not self.tags:
            raise ValueError("give instance_ids or tags to choose the instances to stop")
        return self


def _plan_ec2_stop(spec: Ec2StopSpec) -> list[Call]:
    """Tag targets are resolved with a read-only DescribeInstances, also in dry-run."""
    instance_ids = list(spec.instance_ids)
    if spec.tags:
        filters = [{"Name": f"tag:{key}", "Values": [value]} for key, value in spec.tags.items()]
        filters.append({"Name": "instance-state-name", "Values": ["pending", "running"]})
        pages = _client(spec, "ec2").get_paginator("describe_instances").paginate(Filters=filters)
        for page in pages:
            for reservation in page["Reservations"]:
                instance_ids += [item["InstanceId"] for item in reservation["Instances"]]
    unique = sorted(set(instance_ids))
    return [Call("ec2", "StopInstances", {"InstanceIds": unique})] if unique else []


class TrainingJobStopSpec(AwsSpec):
    type: Literal["aws.sagemaker-stop-training-job"]
    job_names: list[str] = Field(min_length=1)


class NotebookStopSpec(AwsSpec):
    type: Literal["aws.sagemaker-stop-notebook"]
    notebook_names: list[str] = Field(min_length=1)


class EndpointScaleSpec(AwsSpec):
    type: Literal["aws.sagemaker-endpoint-scale"]
    endpoint_name: str
    #: variants to shrink; all variants of the endpoint when empty (read with DescribeEndpoint)
    variant_names: list[str] = Field(default_factory=list)
    min_instance_count: int = Field(default=1, ge=0)


class EndpointDeleteSpec(AwsSpec):
    type: Literal["aws.sagemaker-endpoint-delete"]
    endpoint_name: str


def _plan_training_stop(spec: TrainingJobStopSpec) -> list[Call]:
    return [Call("sagemaker", "StopTrainingJob", {"TrainingJobName": n}) for n in spec.job_names]


def _plan_notebook_stop(spec: NotebookStopSpec) -> list[Call]:
    return [
        Call("sagemaker", "StopNotebookInstance", {"NotebookInstanceName": name})
        for name in spec.notebook_names
    ]


def _plan_endpoint_scale(spec: EndpointScaleSpec) -> list[Call]:
    variants = list(spec.variant_names)
    if not variants:
        described = _client(spec, "sagemaker").describe_endpoint(EndpointName=spec.endpoint_name)
        variants = [item["VariantName"] for item in described.get("ProductionVariants", [])]
    capacities = [
        {"VariantName": name, "DesiredInstanceCount": spec.min_instance_count} for name in variants
    ]
    parameters = {"EndpointName": spec.endpoint_name, "DesiredWeightsAndCapacities": capacities}
    return [Call("sagemaker", "UpdateEndpointWeightsAndCapacities", parameters)]


def _plan_endpoint_delete(spec: EndpointDeleteSpec) -> list[Call]:
    return [Call("sagemaker", "DeleteEndpoint", {"EndpointName": spec.endpoint_name})]


action_kinds.register("aws.ec2-stop")(ActionKind(Ec2StopSpec, _plan_ec2_stop, _execute))
action_kinds.register("aws.sagemaker-stop-training-job")(
    ActionKind(TrainingJobStopSpec, _plan_training_stop, _execute)
)
action_kinds.register("aws.sagemaker-stop-notebook")(
    ActionKind(NotebookStopSpec, _plan_notebook_stop, _execute)
)
action_kinds.register("aws.sagemaker-endpoint-scale")(
    ActionKind(EndpointScaleSpec, _plan_endpoint_scale, _execute)
)
action_kinds.register("aws.sagemaker-endpoint-delete")(
    ActionKind(EndpointDeleteSpec, _plan_endpoint_delete, _execute)
)
