"""Cancel Slurm jobs with `scancel` (found on PATH), by job id, user and/or partition."""

from __future__ import annotations

import shutil
import subprocess
from typing import Literal

from pydantic import Field, model_validator

from costrail.policy.actions import ActionKind, ActionSpec, Call, action_kinds


class ScancelSpec(ActionSpec):
    type: Literal["slurm.scancel"]
    job_ids: list[str] = Field(default_factory=list)
    user: str | None = None
    partition: str | None = None
    timeout_s: float = 60.0

    @model_validator(mode="after")
    def _targets(self) -> ScancelSpec:
        if not self.job_ids and self.user is None and self.partition is None:
            raise ValueError("give job_ids, user or partition: scancel with none would do nothing")
        return self


def _plan(spec: ScancelSpec) -> list[Call]:
    argv = ["scancel"]
    if spec.user is not None:
        argv.append(f"--user={spec.user}")
    if spec.partition is not None:
        argv.append(f"--partition={spec.partition}")
    argv += spec.job_ids
    return [Call("slurm", "scancel", {"argv": argv})]


def _execute(spec: ScancelSpec, call: Call) -> str:
    argv: list[str] = list(call.parameters["argv"])
    program = shutil.which(argv[0])
    if program is None:
        raise FileNotFoundError("scancel is not on PATH (run costrail watch on a Slurm login node)")
    done = subprocess.run(
        [program, *argv[1:]], capture_output=True, text=True, timeout=spec.timeout_s, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"scancel exited {done.returncode}: {done.stderr.strip()[:300]}")
    return f"exit 0 {done.stdout.strip()[:200]}".strip()


action_kinds.register("slurm.scancel")(ActionKind(ScancelSpec, _plan, _execute))
