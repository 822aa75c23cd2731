"""Run a command (argv, no shell) — the escape hatch for anything without a built-in action."""

from __future__ import annotations

import subprocess
from typing import Literal

from pydantic import Field

from costrail.policy.actions import ActionKind, ActionSpec, Call, action_kinds


class CommandSpec(ActionSpec):
    type: Literal["command"]
    argv: list[str] = Field(min_length=1)
    timeout_s: float = 300.0


def _plan(spec: CommandSpec) -> list[Call]:
    return [Call("command", "run", {"argv": list(spec.argv)})]


def _execute(spec: CommandSpec, call: Call) -> str:
    done = subprocess.run(
        call.parameters["argv"], capture_output=True, text=True, timeout=spec.timeout_s, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[:300]}")
    return f"exit 0 {done.stdout.strip()[:200]}".strip()


action_kinds.register("command")(ActionKind(CommandSpec, _plan, _execute))
