"""Actions that stop the bleeding, registered by type name like Cloud Custodian's actions.

Every action first *plans*: the exact API calls (or argv) it would make. Dry-run (the default)
prints and audits the plan; only an action whose config says `apply: true`, run with
`--apply`, executes it. Every planned or executed call goes to the `action_audit` table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import RootModel, ValidationError, field_validator

from costrail.config import Section, register_section
from costrail.policy.state import AuditRecord
from costrail.registry import Registry


@dataclass(frozen=True)
class Call:
    """One API call (or command line) with its exact parameters."""

    service: str  # ec2, sagemaker, kubernetes, slurm, command
    operation: str  # StopInstances, patch_namespaced_deployment_scale, scancel, run
    parameters: dict[str, Any]

    def describe(self) -> str:
        return f"{self.service}.{self.operation} {json.dumps(self.parameters, sort_keys=True)}"


class ActionSpec(Section):
    """Common keys of every action; each type adds its own."""

    type: str
    #: an action executes only when this is true *and* the run was started with --apply
    apply: bool = False


@dataclass(frozen=True)
class ActionKind:
    spec: type[ActionSpec]
    plan: Callable[[Any], list[Call]]
    execute: Callable[[Any, Call], str]


action_kinds: Registry[ActionKind] = Registry("action type")


def _import_kinds() -> None:
    import costrail.policy.actions.aws
    import costrail.policy.actions.command
    import costrail.policy.actions.kubernetes
    import costrail.policy.actions.slurm  # noqa: F401  (register the kinds)


def kind_of(spec: ActionSpec) -> ActionKind:
    _import_kinds()
    return action_kinds.get(spec.type)


@register_section("actions")
class ActionsSection(RootModel[dict[str, ActionSpec]]):
    """`actions: {name: {type: aws.ec2-stop, apply: false, ...}}`."""

    @field_validator("root", mode="before")
    @classmethod
    def _typed(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        _import_kinds()
        typed: dict[str, ActionSpec] = {}
        for name, entry in value.items():
            if not isinstance(entry, dict) or "type" not in entry:
                raise ValueError(f"action {name!r} needs a `type` (one of {action_kinds.names()})")
            if entry["type"] not in action_kinds:
                known = ", ".join(action_kinds.names())
                raise ValueError(f"action {name!r}: unknown type {entry['type']!r}; known: {known}")
            try:
                typed[name] = action_kinds.get(entry["type"]).spec.model_validate(entry)
            except ValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
                    for item in error.errors()
                )
                raise ValueError(f"action {name!r}: {problems}") from None
        return typed


def run_action(
    name: str, spec: ActionSpec, trigger: str, *, apply: bool, run_id: str
) -> list[AuditRecord]:
    """Plan, then (only if `apply` and `spec.apply`) execute; one audit record per call.

    Never raises for a failing cloud API: the failure is the record's outcome, so one broken
    action does not stop the next.
    """
    kind = kind_of(spec)
    mode = "apply" if apply and spec.apply else "dry-run"

    def record(call: str, parameters: dict[str, Any], outcome: str, detail: str) -> AuditRecord:
        return AuditRecord(
            run_id=run_id,
            action=name,
            action_type=spec.type,
            trigger=trigger,
            mode=mode,
            call=call,
            parameters=parameters,
            outcome=outcome,
            detail=detail,
        )

    try:
        calls = kind.plan(spec)
    except Exception as error:  # any SDK/transport error is an audited outcome
        return [record("plan", {}, "error", f"{type(error).__name__}: {error}")]
    if not calls:
        return [record("plan", {}, "planned" if mode == "dry-run" else "ok", "nothing matched")]
    records: list[AuditRecord] = []
    for call in calls:
        target = f"{call.service}.{call.operation}"
        if mode == "dry-run":
            records.append(record(target, call.parameters, "planned", "dry-run: not executed"))
            continue
        try:
            detail = kind.execute(spec, call)
            records.append(record(target, call.parameters, "ok", detail))
        except Exception as error:  # audited, never fatal
            records.append(
                record(target, call.parameters, "error", f"{type(error).__name__}: {error}")
            )
    return records
