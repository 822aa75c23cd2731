"""The analysis contract: a registered function from a context to findings, and the run that
de-duplicates savings across findings on the same resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from costrail.findings import Finding
from costrail.registry import Registry


@dataclass(frozen=True)
class Thresholds:
    """Documented defaults for every analysis; each finding records the ones it used."""

    #: a finding below this monthly saving is not reported (noise)
    min_monthly_savings_usd: Decimal = Decimal("50")
    #: days of history the analyses look at, ending at the newest charge in the warehouse
    lookback_days: int = 30
    #: spot: interruptions per instance-hour assumed when pricing spot (AWS Spot Advisor's
    #: "<5 %" bucket per month for large GPU instances ≈ 0.0001/h; we assume a cautious 0.01/h)
    spot_interruptions_per_hour: Decimal = Decimal("0.01")
    #: spot: minutes to write one checkpoint, and to restart after an interruption
    checkpoint_minutes: Decimal = Decimal("5")
    restart_minutes: Decimal = Decimal("10")
    #: always-on: share of the week's hours that a dev/staging resource may run before it counts
    #: as always-on (business hours are 50 of 168 hours)
    always_on_hours_share: Decimal = Decimal("0.9")
    #: hours of a working week a scheduled dev resource runs (10 h × 5 days)
    scheduled_hours_per_week: Decimal = Decimal("50")
    #: commitments: hourly coverage levels simulated, as fractions of the hourly on-demand p-levels
    commitment_term_discount: Decimal = Decimal("0.28")
    #: regions workloads may move to (region price differences); empty = don't suggest moves
    movable_regions: tuple[str, ...] = ()
    #: internet egress: monthly cost per resource above which it is listed (information only,
    #: no saving is claimed: the fix — a CDN, compression, caching — is not visible in the bill)
    internet_egress_info_monthly_usd: Decimal = Decimal("1000")
    #: storage growth: consecutive latest monthly averages of stored GB that must each be above
    #: the one before for a bucket (or a snapshot set) to count as growing without limit
    sprawl_growth_months: int = 3
    #: storage growth: age (days) beyond which a lifecycle expiration rule deletes objects
    sprawl_retention_days: int = 90
    #: snapshot accumulation: days of snapshots a lifecycle policy keeps
    snapshot_retention_days: int = 30
    #: environments treated as non-production (tag values, case-insensitive)
    non_production_envs: tuple[str, ...] = (
        "dev",
        "development",
        "staging",
        "stage",
        "test",
        "sandbox",
    )


@dataclass(frozen=True)
class AnalysisContext:
    """What an analysis may read: the canonical tables and the window it should judge.

    `gpu_samples` and `llm_requests` are None when the warehouse has no such data; an analysis
    that needs them then returns no findings.
    """

    costs: ir.Table
    engine: str
    window_start: datetime
    window_end: datetime
    thresholds: Thresholds = field(default_factory=Thresholds)
    gpu_samples: ir.Table | None = None
    llm_requests: ir.Table | None = None

    @property
    def window_days(self) -> Decimal:
        return Decimal((self.window_end - self.window_start).total_seconds()) / Decimal(86400)

    def in_window(self) -> ir.Table:
        """Costs whose charge period starts inside the window."""
        costs = self.costs
        return costs.filter(
            costs.ChargePeriodStart >= self.window_start, costs.ChargePeriodStart < self.window_end
        )

    def monthly(self, amount_in_window: Decimal) -> Decimal:
        """Scale an amount observed over the window to a 30-day month."""
        if self.window_days == 0:
            return Decimal(0)
        return amount_in_window * Decimal(30) / self.window_days


Analysis = Callable[[AnalysisContext], list[Finding]]

#: Findings that report a problem without a dollar saving of their own (allocation coverage,
#: large internet egress): kept whatever their saving, and never counted in savings totals.
INFORMATIONAL_KINDS = frozenset({"allocation_gap", "internet_egress"})
analyses: Registry[Analysis] = Registry("analysis")


def context_for(
    costs: ir.Table,
    engine: str,
    thresholds: Thresholds | None = None,
    *,
    gpu_samples: ir.Table | None = None,
    llm_requests: ir.Table | None = None,
) -> AnalysisContext:
    """A context whose window is the last `lookback_days` before the newest charge."""
    chosen = thresholds or Thresholds()
    newest = costs.ChargePeriodEnd.max().to_pyarrow().as_py()
    if newest is None:
        newest = datetime(1970, 1, 1)
    return AnalysisContext(
        costs=costs,
        engine=engine,
        window_start=newest - timedelta(days=chosen.lookback_days),
        window_end=newest,
        thresholds=chosen,
        gpu_samples=gpu_samples,
        llm_requests=llm_requests,
    )


def run(context: AnalysisContext, names: list[str] | None = None) -> list[Finding]:
    """Run the named analyses (all by default); biggest savings first, none counted twice."""
    found: list[Finding] = []
    for name, analysis in analyses.items():
        if names is None or name in names:
            found.extend(analysis(context))
    return deduplicate(found, context.thresholds.min_monthly_savings_usd)


def deduplicate(findings: list[Finding], minimum_usd: Decimal) -> list[Finding]:
    """A resource's saving counts once: in the biggest finding that names it.

    A later finding on an already-claimed resource keeps only the saving of its unclaimed
    resources (pro rata by `evidence["savings_by_resource"]` when given, else all-or-nothing)
    and says so in its warnings.
    """
    claimed: dict[str, str] = {}
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: f.monthly_savings_usd, reverse=True):
        overlap = [resource for resource in finding.resources if resource in claimed]
        adjusted = finding
        if overlap:
            adjusted = _without_overlap(finding, overlap, claimed)
        if adjusted.monthly_savings_usd < minimum_usd and not _always_kept(finding):
            continue
        for resource in adjusted.resources:
            claimed.setdefault(resource, adjusted.kind)
        kept.append(adjusted)
    return kept


def _always_kept(finding: Finding) -> bool:
    """Informational kinds, and findings whose saving could not be priced (a missing catalog
    price is a loud warning on the finding, never a silent $0 that the filter would hide)."""
    if finding.kind in INFORMATIONAL_KINDS:
        return True
    return any("missing" in warning and "price" in warning for warning in finding.warnings)


def _without_overlap(finding: Finding, overlap: list[str], claimed: dict[str, str]) -> Finding:
    by_resource: dict[str, Any] = finding.evidence.get("savings_by_resource", {})
    if by_resource:
        removed = sum((Decimal(str(by_resource.get(r, 0))) for r in overlap), Decimal(0))
    else:
        removed = (
            finding.monthly_savings_usd if len(overlap) == len(finding.resources) else Decimal(0)
        )
    notes = tuple(
        f"saving on {resource} already counted under {claimed[resource]}" for resource in overlap
    )
    return replace(
        finding,
        monthly_savings_usd=max(finding.monthly_savings_usd - removed, Decimal(0)),
        warnings=finding.warnings + notes,
    )
