"""Allocation gaps: spend no team or project tag owns, and tag key spellings that should be one key.

An allocation gap saves nothing by itself — it makes every other saving unassignable — so its
findings state a monthly saving of $0 and carry the unallocated spend as `monthly_cost_usd`;
`allocation_coverage` gives the coverage per account to the report directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation

#: Allocation dimensions and the normalised spellings (lower case, no `-`, `_`, `:`, space) of
#: the tag keys that mean them: `team`, `Team`, `owner-team`, `owner_team`, `TeamName` → team.
ALLOCATION_KEYS: dict[str, frozenset[str]] = {
    "team": frozenset({"team", "ownerteam", "teamname", "owningteam"}),
    "project": frozenset({"project", "projectname"}),
}
#: Spellings of the team key seen in real exports, for a finding's scope when the exact
#: spellings of the data are not at hand (CUR 2.0 writes `owner-team` as `owner_team`).
TEAM_KEY_SPELLINGS = ("team", "Team", "owner_team", "owner-team", "TEAM")
#: Charges a tag can sit on: tax, credits and adjustments never carry tags, so they are left out.
TAGGABLE_CHARGES = ("Usage", "Purchase")
#: Untagged resources listed per account in the evidence, biggest first.
TOP_UNTAGGED_RESOURCES = 10


@dataclass(frozen=True)
class KeySpelling:
    """One tag key as written in the bill, with the spend and lines that carry it."""

    key: str
    lines: int
    cost_usd: Decimal


@dataclass(frozen=True)
class AccountCoverage:
    """How much of one account's taggable spend a team / project tag owns, over the window."""

    provider: str
    account_id: str
    account_name: str | None
    spend_usd: Decimal
    lines: int
    team_allocated_usd: Decimal
    project_allocated_usd: Decimal
    untagged_lines: int
    team_spellings: tuple[KeySpelling, ...] = ()
    project_spellings: tuple[KeySpelling, ...] = ()
    untagged_resources: tuple[tuple[str, Decimal], ...] = field(default=())

    @property
    def team_coverage_pct(self) -> Decimal:
        return coverage_pct(self.team_allocated_usd, self.spend_usd)

    @property
    def project_coverage_pct(self) -> Decimal:
        return coverage_pct(self.project_allocated_usd, self.spend_usd)

    @property
    def unallocated_usd(self) -> Decimal:
        return self.spend_usd - self.team_allocated_usd


def coverage_pct(allocated_usd: Decimal, spend_usd: Decimal) -> Decimal:
    """Allocated share in percent, to 0.01; an account with no spend counts as fully covered."""
    if spend_usd <= 0:
        return Decimal("100.00")
    return (allocated_usd * Decimal(100) / spend_usd).quantize(Decimal("0.01"))


def normalised_tag_key(key: str) -> str:
    """`owner-team`, `Owner_Team`, `owner:team` → `ownerteam`: the spelling-free form of a key."""
    return re.sub(r"[^a-z0-9]", "", key.lower())


def spellings_by_dimension(keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Which of the bill's tag keys mean each allocation dimension (sorted, exact spellings)."""
    found: dict[str, set[str]] = {dimension: set() for dimension in ALLOCATION_KEYS}
    for key in keys:
        for dimension, normalised in ALLOCATION_KEYS.items():
            if normalised_tag_key(key) in normalised:
                found[dimension].add(key)
    return {dimension: tuple(sorted(keys)) for dimension, keys in found.items()}


def tag_value(tags: ir.MapValue, spellings: Iterable[str]) -> ir.StringValue:
    """The first non-empty value among `spellings` of a key, else null (portable map lookups)."""
    values = [_non_empty(tags.get(key)) for key in spellings]
    if not values:
        # A column (not a scalar) even when no spelling exists, so aggregates over it work.
        absent: ir.StringValue = tags.get("costrail:no-such-tag")  # type: ignore[assignment]
        return absent
    return ibis.coalesce(*values) if len(values) > 1 else values[0]  # type: ignore[return-value]


def _non_empty(value: ir.Value) -> ir.StringValue:
    text: ir.StringValue = value  # type: ignore[assignment]
    return ibis.ifelse(text.strip() == "", ibis.null("string"), text)  # type: ignore[return-value]


def distinct_tag_keys(costs: ir.Table) -> set[str]:
    """Every tag key in `costs`: the distinct key sets come back (few), never the rows."""
    key_sets = costs.select(keys=costs.Tags.keys()).distinct().to_pyarrow()
    return {key for keys in key_sets.column("keys").to_pylist() if keys for key in keys}


def allocation_coverage(costs: ir.Table) -> list[AccountCoverage]:
    """Team and project coverage of taggable spend (EffectiveCost), per provider and account.

    `costs` is whatever window the caller judges (e.g. `AnalysisContext.in_window()`).
    """
    taggable = costs.filter(costs.ChargeCategory.isin(TAGGABLE_CHARGES))
    spellings = spellings_by_dimension(distinct_tag_keys(taggable))
    team = tag_value(taggable.Tags, spellings["team"])
    project = tag_value(taggable.Tags, spellings["project"])
    rows = _account_totals(taggable, team, project, spellings)
    untagged = _untagged_resources(taggable, team)
    return [_coverage(row, spellings, untagged) for row in rows]


def _account_totals(
    taggable: ir.Table,
    team: ir.StringValue,
    project: ir.StringValue,
    spellings: dict[str, tuple[str, ...]],
) -> list[dict[str, Any]]:
    cost = taggable.EffectiveCost
    zero = ibis.literal(Decimal(0), type=cost.type())
    metrics: dict[str, ir.Value] = {
        "spend": cost.sum(),
        "lines": taggable.count(),
        "team_cost": ibis.ifelse(team.notnull(), cost, zero).sum(),
        "project_cost": ibis.ifelse(project.notnull(), cost, zero).sum(),
        "untagged_lines": team.isnull().cast("int64").sum(),
    }
    for position, key in enumerate(spellings["team"] + spellings["project"]):
        present = _non_empty(taggable.Tags.get(key)).notnull()
        metrics[f"key{position}_cost"] = ibis.ifelse(present, cost, zero).sum()
        metrics[f"key{position}_lines"] = present.cast("int64").sum()
    grouped = taggable.group_by(
        provider=taggable.x_Provider, account_id=taggable.SubAccountId
    ).aggregate(account_name=taggable.SubAccountName.max(), **metrics)
    return grouped.order_by(["provider", "account_id"]).to_pyarrow().to_pylist()


def _untagged_resources(
    taggable: ir.Table, team: ir.StringValue
) -> dict[tuple[str, str], list[tuple[str, Decimal]]]:
    rows = taggable.filter(team.isnull() & taggable.ResourceId.notnull())
    grouped = rows.group_by(
        provider=rows.x_Provider, account_id=rows.SubAccountId, resource=rows.ResourceId
    ).aggregate(cost=rows.EffectiveCost.sum())
    found: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
    for row in grouped.to_pyarrow().to_pylist():
        found.setdefault((row["provider"], row["account_id"]), []).append(
            (row["resource"], row["cost"] or Decimal(0))
        )
    return {
        account: sorted(resources, key=lambda item: (-item[1], item[0]))[:TOP_UNTAGGED_RESOURCES]
        for account, resources in found.items()
    }


def _coverage(
    row: dict[str, Any],
    spellings: dict[str, tuple[str, ...]],
    untagged: dict[tuple[str, str], list[tuple[str, Decimal]]],
) -> AccountCoverage:
    keys = spellings["team"] + spellings["project"]
    present = [
        KeySpelling(key, int(row[f"key{i}_lines"] or 0), row[f"key{i}_cost"] or Decimal(0))
        for i, key in enumerate(keys)
    ]
    used = [spelling for spelling in present if spelling.lines > 0]
    return AccountCoverage(
        provider=row["provider"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        spend_usd=row["spend"] or Decimal(0),
        lines=int(row["lines"]),
        team_allocated_usd=row["team_cost"] or Decimal(0),
        project_allocated_usd=row["project_cost"] or Decimal(0),
        untagged_lines=int(row["untagged_lines"] or 0),
        team_spellings=tuple(s for s in used if s.key in spellings["team"]),
        project_spellings=tuple(s for s in used if s.key in spellings["project"]),
        untagged_resources=tuple(untagged.get((row["provider"], row["account_id"]), [])),
    )


@analyses.register("allocation_gap")
def allocation_gaps(context: AnalysisContext) -> list[Finding]:
    """One finding per account with untagged spend or more than one spelling of a key."""
    found: list[Finding] = []
    for coverage in allocation_coverage(context.in_window()):
        split_keys = len(coverage.team_spellings) > 1 or len(coverage.project_spellings) > 1
        if coverage.unallocated_usd > 0 or split_keys:
            found.append(_finding(context, coverage))
    return found


def _finding(context: AnalysisContext, coverage: AccountCoverage) -> Finding:
    spellings = [s.key for s in coverage.team_spellings]
    unallocated_monthly_usd = context.monthly(coverage.unallocated_usd)
    name = coverage.account_name or coverage.account_id
    title = (
        f"{coverage.team_coverage_pct}% of {name}'s spend has a team tag"
        f" (${unallocated_monthly_usd.quantize(Decimal('0.01'))}/month unallocated)"
    )
    if len(spellings) > 1:
        title += f"; the team key is spelled {len(spellings)} ways"
    return Finding(
        kind="allocation_gap",
        title=title,
        provider=coverage.provider,
        resources=(),
        monthly_savings_usd=Decimal(0),
        monthly_cost_usd=unallocated_monthly_usd,
        confidence="high",
        confidence_reason="read directly from the tags on the bill's usage and purchase lines",
        remediation=_remediation(coverage),
        scope={"account": coverage.account_id},
        evidence=_evidence(coverage),
        assumptions={
            "spend": "EffectiveCost of Usage and Purchase lines (tax, credits carry no tags)",
            "team_keys": sorted(ALLOCATION_KEYS["team"]),
            "project_keys": sorted(ALLOCATION_KEYS["project"]),
            "window_days": str(context.window_days),
            "saving": "none claimed: allocation makes other savings assignable",
        },
    )


def _evidence(coverage: AccountCoverage) -> dict[str, Any]:
    return {
        "spend_usd": coverage.spend_usd,
        "lines": coverage.lines,
        "team_allocated_usd": coverage.team_allocated_usd,
        "team_coverage_pct": coverage.team_coverage_pct,
        "project_allocated_usd": coverage.project_allocated_usd,
        "project_coverage_pct": coverage.project_coverage_pct,
        "unallocated_usd": coverage.unallocated_usd,
        "untagged_lines": coverage.untagged_lines,
        "team_key_spellings": [
            {"key": s.key, "lines": s.lines, "cost_usd": s.cost_usd}
            for s in coverage.team_spellings
        ],
        "project_key_spellings": [
            {"key": s.key, "lines": s.lines, "cost_usd": s.cost_usd}
            for s in coverage.project_spellings
        ],
        "untagged_resources": [
            {"resource": resource, "cost_usd": cost}
            for resource, cost in coverage.untagged_resources
        ],
    }


def _remediation(coverage: AccountCoverage) -> Remediation:
    spellings = [s.key for s in coverage.team_spellings]
    canonical = "team"
    action = "Tag every resource with one team key"
    if len(spellings) > 1:
        action += f" (rename {', '.join(k for k in spellings if k != canonical)} to '{canonical}')"
    action += "; enforce it with a tag policy and tag the untagged resources listed."
    if coverage.provider == "aws":
        snippet = (
            "aws resourcegroupstaggingapi tag-resources --resource-arn-list <arn> "
            f"--tags {canonical}=<team>\n"
            '# Terraform: provider "aws" { default_tags { tags = { team = "<team>" } } }'
        )
        return Remediation(action, snippet, "aws-cli")
    if coverage.provider == "gcp":
        snippet = f"gcloud compute instances add-labels <instance> --labels={canonical}=<team>"
        return Remediation(action, snippet, "gcloud")
    if coverage.provider == "azure":
        snippet = f"az tag update --resource-id <id> --operation Merge --tags {canonical}=<team>"
        return Remediation(action, snippet, "az")
    return Remediation(action)
