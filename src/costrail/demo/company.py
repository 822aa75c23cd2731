"""Acme AI: an AI start-up a few months after its cloud credits ran out — accounts, teams, tags.

Tags are spelled the way a real company ends up spelling them: most resources say `team`, some
`Team` (with a capitalised value), some `owner-team`, and some carry no team at all. Each
provider then writes the key its own way (CUR 2.0 `user_team`, GCP lower-case labels, Azure's
tag JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

COMPANY_NAME = "Acme AI"
CURRENCY = "USD"

TagStyle = Literal["team", "Team", "owner-team", "untagged"]

# --- AWS Organization ---------------------------------------------------------------------------
AWS_PAYER_ACCOUNT = "418273645091"
AWS_PAYER_NAME = "acme-ai-management"
AWS_ACCOUNTS: dict[str, str] = {
    "prod": "527384910263",
    "research": "630495827164",
    "dev": "741520938475",
    "data": "852613049586",
}
AWS_ACCOUNT_NAMES: dict[str, str] = {
    AWS_ACCOUNTS["prod"]: "acme-prod",
    AWS_ACCOUNTS["research"]: "acme-research",
    AWS_ACCOUNTS["dev"]: "acme-dev",
    AWS_ACCOUNTS["data"]: "acme-data",
    AWS_PAYER_ACCOUNT: AWS_PAYER_NAME,
}

# --- GCP ----------------------------------------------------------------------------------------
GCP_BILLING_ACCOUNT = "01A7C3-5B9E2D-F04C61"
GCP_PROJECTS: dict[str, tuple[str, str]] = {
    # key: (project id, project number)
    "serving": ("acme-lumen-serving", "482913560217"),
    "research": ("acme-atlas-research", "739104826355"),
    "tools": ("acme-ml-tools", "915067342881"),
}

# --- Azure (Enterprise Agreement) ---------------------------------------------------------------
AZURE_ENROLLMENT = "89314570"
AZURE_ENROLLMENT_NAME = "Acme AI Inc"
AZURE_SUBSCRIPTION = ("4f7e2c1a-9b3d-4e8f-a6c5-2d1b0e9f8a73", "acme-azure-research")
AZURE_ACCOUNT = ("acme-cloud@acme-ai.example", "Acme AI Research")
AZURE_DEPARTMENT = ("113042", "Research")


@dataclass(frozen=True)
class Owner:
    """Who a resource belongs to, and how its tags happen to be spelled."""

    team: str | None
    project: str | None
    env: str | None
    model: str | None = None
    style: TagStyle = "team"
    created_by: str | None = None

    def team_value(self) -> str | None:
        if self.team is None:
            return None
        return self.team.title() if self.style == "Team" else self.team


RESEARCH_ATLAS = Owner("research", "atlas", "research", "atlas-34b", "team", "alice")
APPLIED_ORCA = Owner("applied", "orca", "research", "orca-13b-sft", "Team", "bob")
PLATFORM_LUMEN = Owner("ml-platform", "lumen", "prod", "lumen-chat", "owner-team", "deploy-bot")
DATA_INGEST = Owner("data", "ingest", "prod", None, "team", "etl-bot")


def _team_tag(owner: Owner) -> list[tuple[str, str]]:
    """The team tag as this owner spells it (`team`, `Team`, `owner-team`); none if untagged."""
    team = owner.team_value()
    return [(owner.style, team)] if owner.style != "untagged" and team else []


def _descriptive_tags(owner: Owner) -> list[tuple[str, str]]:
    """`project`, `env` and `model`, the tags an untagged resource lacks along with its team."""
    if owner.style == "untagged":
        return []
    values = (("project", owner.project), ("env", owner.env), ("model", owner.model))
    return [(key, value) for key, value in values if value]


def aws_resource_tags(owner: Owner) -> tuple[tuple[str, str], ...]:
    """CUR 2.0 `resource_tags` entries: user tags as `user_<key>` (non-alphanumerics → `_`)."""
    tags: list[tuple[str, str]] = []
    if owner.created_by:
        tags.append(
            (
                "aws_createdBy",
                f"IAMUser:AIDA{_aws_user_suffix(owner.created_by)}:{owner.created_by}",
            )
        )
    for key, value in _team_tag(owner) + _descriptive_tags(owner):
        tags.append(("user_" + key.replace("-", "_"), value))
    return tuple(tags)


def gcp_labels(owner: Owner) -> tuple[tuple[str, str], ...]:
    """GCP resource labels: keys must be lower case, so `Team` can only happen in the value."""
    team = [(key.lower(), value.lower()) for key, value in _team_tag(owner)]
    return tuple(team + _descriptive_tags(owner))


def azure_tags(owner: Owner) -> tuple[tuple[str, str], ...]:
    """Azure resource tags, written by the EA export as `"key": "value"` pairs."""
    tags = _team_tag(owner) + _descriptive_tags(owner)
    if owner.created_by:
        tags.append(("createdBy", owner.created_by))
    return tuple(tags)


def _aws_user_suffix(user: str) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    code = sum(ord(c) * (i + 7) for i, c in enumerate(user))
    return "".join(letters[(code >> (i * 3)) % 32] for i in range(17))
