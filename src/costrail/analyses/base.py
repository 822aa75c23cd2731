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
    #: cost anomalies (costrail.timeseries): a flag needs both this dollar impact and this
    #: relative change over the expected spend; detector "seasonal" or "trailing7"
    anomaly_min_impact_usd: Decimal = Decimal("100")
    anomaly_min_relative_change: Decimal = Decimal("0.2")
    anomaly_detector: str = "seasonal"
    #: environments treated as non-production (tag values, case-insensitive)
    non_production_envs: tuple[str, ...] = (
        "dev",
        "development",
        "staging",
        "stage",
        "test",
        "sandbox",
    )
    #: GPU telemetry: an hour is idle when its best busy signal averages below this (percent),
    #: and idle hours count only in runs of at least gpu_idle_min_hours consecutive hours
    gpu_idle_busy_pct: float = 5.0
    gpu_idle_min_hours: int = 4
    #: GPU zombie: a pod holds the GPU with at most this much memory in use, no busy signal and
    #: no process (where process counts are known) for at least gpu_zombie_min_hours in a row
    gpu_zombie_memory_mib: float = 64.0
    gpu_zombie_min_hours: int = 4
    #: GPU low utilisation: mean and p95 of the best busy signal below these (percent)
    gpu_low_mean_pct: float = 30.0
    gpu_low_p95_pct: float = 50.0
    #: GPU consolidation / right-sizing: busy share a GPU may be driven to after the change
    gpu_target_busy_pct: float = 70.0
    #: GPU right-sizing: memory headroom above the observed peak, and the share of the GPU's
    #: memory the peak (with headroom) must stay under for the GPU to count as oversized
    gpu_memory_headroom_pct: float = 20.0
    gpu_oversized_memory_share: float = 0.5
    #: GPU right-sizing: clouds whose catalogs may supply the smaller GPU; empty = the host's own
    gpu_rightsize_clouds: tuple[str, ...] = ()
    #: GPU pricing when no bill covers a host: spec id of the GPU for samples without a model
    #: label, and a $/GPU-hour that replaces the catalog price (`gpu` section / CLI flags)
    gpu_default_model: str | None = None
    gpu_default_usd_per_gpu_hour: Decimal | None = None
    #: LLM caching: seconds a provider keeps a prompt prefix after its last use. Anthropic: 5 min,
    #: refreshed on every hit (a 1-hour TTL costs 2× input to write); OpenAI: in-memory 5–10 min,
    #: up to 1 h off-peak — the cautious 5 min by default. Providers not listed use 300 s.
    llm_cache_ttl_s: tuple[tuple[str, int], ...] = (("anthropic", 300), ("openai", 300))
    #: LLM caching: shortest cacheable prefix (tokens), and for Haiku-class models (Anthropic)
    llm_cache_min_tokens: int = 1024
    llm_cache_min_tokens_haiku: int = 2048
    #: LLM batch: callers known to tolerate 24-hour batch latency ("feature=…", "user=…", "key=…")
    llm_batch_tolerant: tuple[str, ...] = ()
    #: LLM batch: a feature counts as machine-paced when ≥ this share of its requests come outside
    #: business hours (or from service accounts), none are streamed, and its inter-arrival gaps
    #: (those under an hour) vary little (coefficient of variation ≤ llm_batch_max_gap_cv)
    llm_batch_offhours_share: Decimal = Decimal("0.8")
    llm_batch_max_gap_cv: Decimal = Decimal("0.5")
    #: LLM batch: business hours are 09:00–19:00 on weekdays at this offset from UTC
    llm_local_utc_offset_hours: int = 0
    #: LLM downgrade: a feature is classification-like when its p95 output is ≤ this many tokens
    llm_downgrade_max_p95_output_tokens: int = 20
    #: LLM downgrade: premium model (name prefix) → cheaper model of the same provider and family
    llm_downgrade_map: tuple[tuple[str, str], ...] = (
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4.1", "gpt-4.1-mini"),
        ("gpt-5", "gpt-5-mini"),
        ("claude-opus-4", "claude-haiku-4-5"),
        ("claude-sonnet-4", "claude-haiku-4-5"),
        ("claude-3-7-sonnet", "claude-haiku-4-5"),
        ("gemini-2.5-pro", "gemini-2.5-flash"),
    )
    #: LLM runaway: requests per minute from one key with one prompt prefix that make a loop
    llm_storm_requests_per_minute: int = 30
    #: LLM runaway: an hour of a key's spend is a spike when above this multiple of the key's
    #: mean active hour (one with requests) over the previous 7 days, and above it by at least
    #: llm_spike_min_excess_usd
    llm_spike_multiple: Decimal = Decimal("10")
    llm_spike_min_excess_usd: Decimal = Decimal("5")


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
INFORMATIONAL_KINDS = frozenset(
    {"allocation_gap", "internet_egress", "llm_spend", "gpu_fleet_efficiency", "cost_anomaly"}
)
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
