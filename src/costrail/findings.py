"""The Finding model: what is wasted, where, the evidence, the monthly saving and the fix.

Every analysis returns findings of this one shape, so the CLI, the report and the warehouse
treat them alike. Money is an exact `Decimal`; assumptions record the thresholds and prices used.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Remediation:
    """What to do, and a snippet (CLI, Terraform or kubectl) where one applies."""

    action: str
    snippet: str | None = None
    snippet_kind: str | None = None  # "aws-cli", "gcloud", "az", "terraform", "kubectl"


@dataclass(frozen=True)
class Finding:
    """One piece of waste with its saving.

    `resources` are IDs exactly as the bill has them (they key de-duplication across
    findings); `evidence` holds the figures behind the saving (JSON-able values; money as
    strings); `monthly_savings_usd` is what fixing it saves per 30-day month.
    """

    kind: str
    title: str
    provider: str
    resources: tuple[str, ...]
    monthly_savings_usd: Decimal
    confidence: Confidence
    confidence_reason: str
    remediation: Remediation
    scope: dict[str, str] = field(default_factory=dict)  # account, team, project, env …
    evidence: dict[str, Any] = field(default_factory=dict)
    assumptions: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    monthly_cost_usd: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["resources"] = list(self.resources)
        record["warnings"] = list(self.warnings)
        record["monthly_savings_usd"] = format(self.monthly_savings_usd, "f")
        record["monthly_cost_usd"] = (
            None if self.monthly_cost_usd is None else format(self.monthly_cost_usd, "f")
        )
        record["evidence"] = _jsonable(self.evidence)
        record["assumptions"] = _jsonable(self.assumptions)
        return record

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
