"""Scale Kubernetes deployments to zero replicas (by name or label selector), official client."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from costrail.alerts.settings import expand_env
from costrail.policy.actions import ActionKind, ActionSpec, Call, action_kinds


class ScaleToZeroSpec(ActionSpec):
    type: Literal["kubernetes.scale-to-zero"]
    namespace: str
    deployment: str | None = None
    label_selector: str | None = None
    #: API server URL; when absent, in-cluster config or ~/.kube/config is used
    host: str | None = None
    token: str | None = None
    verify_ssl: bool = True

    @model_validator(mode="after")
    def _targets(self) -> ScaleToZeroSpec:
        if (self.deployment is None) == (self.label_selector is None):
            raise ValueError("give exactly one of deployment or label_selector")
        return self


def _apps_api(spec: ScaleToZeroSpec) -> Any:
    from kubernetes import client, config

    if spec.host is not None:
        configuration = client.Configuration()
        configuration.host = spec.host
        configuration.verify_ssl = spec.verify_ssl
        if spec.token is not None:
            configuration.api_key = {"authorization": expand_env(spec.token)}
            configuration.api_key_prefix = {"authorization": "Bearer"}
        return client.AppsV1Api(client.ApiClient(configuration))
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.AppsV1Api()


def _plan(spec: ScaleToZeroSpec) -> list[Call]:
    """A label selector is resolved with a read-only list call, also in dry-run."""
    names = [spec.deployment] if spec.deployment is not None else []
    if spec.label_selector is not None:
        listed = _apps_api(spec).list_namespaced_deployment(
            spec.namespace, label_selector=spec.label_selector
        )
        names = sorted(item.metadata.name for item in listed.items)
    return [
        Call(
            "kubernetes",
            "patch_namespaced_deployment_scale",
            {"name": name, "namespace": spec.namespace, "body": {"spec": {"replicas": 0}}},
        )
        for name in names
    ]


def _execute(spec: ScaleToZeroSpec, call: Call) -> str:
    parameters = call.parameters
    scale = _apps_api(spec).patch_namespaced_deployment_scale(
        parameters["name"], parameters["namespace"], parameters["body"]
    )
    return f"replicas={scale.spec.replicas}"


action_kinds.register("kubernetes.scale-to-zero")(ActionKind(ScaleToZeroSpec, _plan, _execute))
