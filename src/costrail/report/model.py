"""The report's data: spend, trend, allocation, unit costs and findings, for every renderer.

Everything heavy is an Ibis aggregate over the costs table; only grouped results (one row per
month × provider, per tag value, per training job or endpoint) come back to Python. Money stays
exact (`Decimal`); renderers round for display.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from costrail.findings import Finding
from costrail.schema.costs import MONEY
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS
from costrail.warehouse.store import Warehouse

if TYPE_CHECKING:
    from costrail.analyses.base import Thresholds

#: Team values compare case-insensitively, so `Research` and `research` are one team.
MODEL_TAG_KEYS = ("model", "Model")
ALLOCATION_TAG_KEYS: dict[str, tuple[str, ...]] = {
    "team": TEAM_TAG_KEYS,
    "project": PROJECT_TAG_KEYS,
    "model": MODEL_TAG_KEYS,
}
UNTAGGED = "(untagged)"
#: ResourceId patterns (regular expressions over the lower-cased ID) that identify one unit of
#: work: a SageMaker / Vertex AI training job is one training run; a SageMaker / Vertex AI /
#: Azure ML online endpoint is one endpoint. (Log groups named after an endpoint do not match.)
UNIT_PATTERNS: dict[str, tuple[str, ...]] = {
    "training run": (
        r"^arn:aws:sagemaker:[^:]*:[^:]*:training-job/",
        r"aiplatform\.googleapis\.com/.*/(customjobs|trainingpipelines|hyperparametertuningjobs)/",
    ),
    "endpoint": (
        r"^arn:aws:sagemaker:[^:]*:[^:]*:endpoint/",
        r"aiplatform\.googleapis\.com/.*/endpoints/",
        r"microsoft\.machinelearningservices/workspaces/[^/]+/onlineendpoints/",
    ),
}
TOP_FINDINGS = 5
#: the warehouse's money scale (decimal(38,12)): a mean is rounded to it
MONEY_QUANTUM = Decimal("1e-12")


@dataclass(frozen=True)
class Spend:
    """Billed and effective cost of one group (a provider, a team, …) over the whole warehouse."""

    name: str
    billed_cost_usd: Decimal
    effective_cost_usd: Decimal


@dataclass(frozen=True)
class MonthSpend:
    """One billing period: billed cost, its split by provider, the change from the month before."""

    month: str
    billed_cost_usd: Decimal
    effective_cost_usd: Decimal
    billed_by_provider_usd: dict[str, Decimal]
    change_pct: Decimal | None


@dataclass(frozen=True)
class Allocation:
    """Spend by one tag dimension; `tagged_usage_pct`: share of usage cost carrying the tag."""

    dimension: str
    tag_keys: tuple[str, ...]
    groups: tuple[Spend, ...]
    tagged_usage_pct: Decimal | None


@dataclass(frozen=True)
class UnitCost:
    """What one training run or endpoint cost over its life in the warehouse."""

    unit: str
    resource_id: str
    provider: str
    team: str
    project: str
    model: str
    cost_usd: Decimal
    first_charge: datetime
    last_charge: datetime

    @property
    def name(self) -> str:
        """The last path segment of the ID: the job or endpoint name a person recognises."""
        return self.resource_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class UnitCostSummary:
    """Cost per unit of work for one (unit, project, model): count, total, mean, the dearest."""

    unit: str
    project: str
    model: str
    units: int
    total_usd: Decimal
    mean_usd: Decimal
    max_usd: Decimal


@dataclass(frozen=True)
class KindSavings:
    """The monthly saving of every finding of one kind."""

    kind: str
    findings: int
    monthly_savings_usd: Decimal


@dataclass(frozen=True)
class Report:
    """Everything the report shows. Findings come biggest saving first (as `analyses.run` gives)."""

    generated_at: datetime
    warehouse: str
    engine: str
    first_charge: datetime | None
    last_charge: datetime | None
    total: Spend
    months: tuple[MonthSpend, ...]
    providers: tuple[Spend, ...]
    service_categories: tuple[Spend, ...]
    allocations: tuple[Allocation, ...]
    unit_costs: tuple[UnitCost, ...]
    unit_cost_summaries: tuple[UnitCostSummary, ...]
    savings_by_kind: tuple[KindSavings, ...]
    findings: tuple[Finding, ...]

    @property
    def monthly_savings_usd(self) -> Decimal:
        return sum((f.monthly_savings_usd for f in self.findings), Decimal(0))

    @property
    def top_findings(self) -> tuple[Finding, ...]:
        return self.findings[:TOP_FINDINGS]

    @property
    def latest_month(self) -> MonthSpend | None:
        return self.months[-1] if self.months else None


def report_for(warehouse: Warehouse, thresholds: Thresholds | None = None) -> Report:
    """Run every registered analysis on the warehouse (storing the run's findings in its
    `findings` table) and collect the report around them."""
    from costrail.analyses import context_for, run
    from costrail.analyses.gpu_cost import gpu_samples_of
    from costrail.analyses.llm_common import llm_requests_of
    from costrail.analyses.store import save_findings

    costs = warehouse.costs()
    context = context_for(
        costs,
        warehouse.engine,
        thresholds,
        gpu_samples=gpu_samples_of(warehouse),
        llm_requests=llm_requests_of(warehouse),
    )
    findings = run(context)
    save_findings(warehouse, findings)
    return build_report(costs, findings, warehouse=warehouse.url, engine=warehouse.engine)


def build_report(
    costs: ir.Table,
    findings: Sequence[Finding],
    *,
    warehouse: str,
    engine: str,
    generated_at: datetime | None = None,
) -> Report:
    """The report over `costs` with the given findings (sorted here, biggest saving first)."""
    first_charge, last_charge = _charge_span(costs)
    ordered = tuple(sorted(findings, key=lambda f: f.monthly_savings_usd, reverse=True))
    unit_costs = tuple(unit_costs_of(costs))
    return Report(
        generated_at=generated_at or datetime.now(UTC),
        warehouse=warehouse,
        engine=engine,
        first_charge=first_charge,
        last_charge=last_charge,
        total=_total(costs),
        months=tuple(months_of(costs)),
        providers=tuple(spend_by(costs, costs.x_Provider)),
        service_categories=tuple(spend_by(costs, costs.ServiceCategory)),
        allocations=tuple(allocation_of(costs, name) for name in ALLOCATION_TAG_KEYS),
        unit_costs=unit_costs,
        unit_cost_summaries=tuple(summarise_unit_costs(unit_costs)),
        savings_by_kind=tuple(savings_by_kind(ordered)),
        findings=ordered,
    )


def tag_value(costs: ir.Table, keys: Sequence[str]) -> ir.StringValue:
    """The first non-empty value among tag `keys`, trimmed and lower-cased; null when none."""
    candidates = [costs.Tags.get(key).strip().lower().nullif("") for key in keys]
    return ibis.coalesce(*candidates)  # type: ignore[return-value]


def team_expression(costs: ir.Table) -> ir.Value:
    """The team a row belongs to (every spelling of the team key); '(untagged)' otherwise."""
    return ibis.coalesce(tag_value(costs, TEAM_TAG_KEYS), ibis.literal(UNTAGGED))


def spend_by(costs: ir.Table, expression: ir.Value) -> list[Spend]:
    """Billed and effective cost per value of `expression`, largest billed cost first."""
    grouped = costs.group_by(group=expression).aggregate(
        billed=costs.BilledCost.sum().cast(MONEY), effective=costs.EffectiveCost.sum().cast(MONEY)
    )
    rows = grouped.order_by([ibis.desc("billed"), "group"]).to_pyarrow().to_pylist()
    return [
        Spend(
            name=UNTAGGED if row["group"] is None else str(row["group"]),
            billed_cost_usd=_money(row["billed"]),
            effective_cost_usd=_money(row["effective"]),
        )
        for row in rows
    ]


def months_of(costs: ir.Table) -> list[MonthSpend]:
    """Billing periods in order, each split by provider, with the change from the month before."""
    grouped = costs.group_by(
        month=costs.BillingPeriodStart.strftime("%Y-%m"), provider=costs.x_Provider
    ).aggregate(
        billed=costs.BilledCost.sum().cast(MONEY), effective=costs.EffectiveCost.sum().cast(MONEY)
    )
    billed: dict[str, dict[str, Decimal]] = defaultdict(dict)
    effective: dict[str, Decimal] = defaultdict(Decimal)
    for row in grouped.to_pyarrow().to_pylist():
        month = str(row["month"])
        billed[month][str(row["provider"])] = _money(row["billed"])
        effective[month] += _money(row["effective"])
    months: list[MonthSpend] = []
    previous: Decimal | None = None
    for month in sorted(billed):
        total = sum(billed[month].values(), Decimal(0))
        change = None if not previous else _pct(total - previous, abs(previous))
        months.append(MonthSpend(month, total, effective[month], dict(billed[month]), change))
        previous = total
    return months


def allocation_of(costs: ir.Table, dimension: str) -> Allocation:
    """Spend by one tag dimension (team, project or model), with its tag coverage of usage cost."""
    keys = ALLOCATION_TAG_KEYS[dimension]
    value = tag_value(costs, keys)
    groups = spend_by(costs, value)
    usage = costs.filter(costs.ChargeCategory == "Usage")
    coverage = usage.aggregate(
        tagged=usage.BilledCost.sum(where=value.notnull()).cast(MONEY),
        all=usage.BilledCost.sum().cast(MONEY),
    )
    row = coverage.to_pyarrow().to_pylist()[0]
    usage_total = _money(row["all"])
    pct = None if usage_total == 0 else _pct(_money(row["tagged"]), usage_total)
    return Allocation(dimension, keys, tuple(groups), pct)


def unit_costs_of(costs: ir.Table) -> list[UnitCost]:
    """Every training run and endpoint, by ResourceId, dearest first within each unit."""
    resource = costs.ResourceId.lower()
    unit: Any = ibis.null("string")
    for name, patterns in reversed(UNIT_PATTERNS.items()):
        matches = ibis.or_(*[resource.re_search(pattern) for pattern in patterns])
        unit = ibis.ifelse(matches, ibis.literal(name), unit)
    labelled = costs.mutate(
        unit=unit,
        team=tag_value(costs, TEAM_TAG_KEYS),
        project=tag_value(costs, PROJECT_TAG_KEYS),
        model=tag_value(costs, MODEL_TAG_KEYS),
    )
    labelled = labelled.filter(labelled.unit.notnull())
    grouped = labelled.group_by("unit", "ResourceId").aggregate(
        provider=labelled.x_Provider.max(),
        team=labelled.team.max(),
        project=labelled.project.max(),
        model=labelled.model.max(),
        cost=labelled.BilledCost.sum().cast(MONEY),
        first_charge=labelled.ChargePeriodStart.min(),
        last_charge=labelled.ChargePeriodEnd.max(),
    )
    rows = grouped.order_by(["unit", ibis.desc("cost"), "ResourceId"]).to_pyarrow().to_pylist()
    return [
        UnitCost(
            unit=row["unit"],
            resource_id=row["ResourceId"],
            provider=row["provider"] or "",
            team=row["team"] or UNTAGGED,
            project=row["project"] or UNTAGGED,
            model=row["model"] or UNTAGGED,
            cost_usd=_money(row["cost"]),
            first_charge=row["first_charge"],
            last_charge=row["last_charge"],
        )
        for row in rows
    ]


def summarise_unit_costs(unit_costs: Sequence[UnitCost]) -> list[UnitCostSummary]:
    """Mean and dearest cost per unit for each (unit, project, model), largest total first."""
    grouped: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    for item in unit_costs:
        grouped[(item.unit, item.project, item.model)].append(item.cost_usd)
    summaries = [
        UnitCostSummary(
            unit=unit,
            project=project,
            model=model,
            units=len(amounts),
            total_usd=sum(amounts, Decimal(0)),
            mean_usd=(sum(amounts, Decimal(0)) / len(amounts)).quantize(MONEY_QUANTUM),
            max_usd=max(amounts),
        )
        for (unit, project, model), amounts in grouped.items()
    ]
    return sorted(summaries, key=lambda s: (s.unit, -s.total_usd, s.project, s.model))


def savings_by_kind(findings: Sequence[Finding]) -> list[KindSavings]:
    """Monthly savings per finding kind, largest first."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        totals[finding.kind] += finding.monthly_savings_usd
        counts[finding.kind] += 1
    ordered = sorted(totals, key=lambda kind: (-totals[kind], kind))
    return [KindSavings(kind, counts[kind], totals[kind]) for kind in ordered]


def _total(costs: ir.Table) -> Spend:
    row = (
        costs.aggregate(
            billed=costs.BilledCost.sum().cast(MONEY),
            effective=costs.EffectiveCost.sum().cast(MONEY),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return Spend("total", _money(row["billed"]), _money(row["effective"]))


def _charge_span(costs: ir.Table) -> tuple[datetime | None, datetime | None]:
    row = (
        costs.aggregate(first=costs.ChargePeriodStart.min(), last=costs.ChargePeriodEnd.max())
        .to_pyarrow()
        .to_pylist()[0]
    )
    return row["first"], row["last"]


def _money(value: object) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    """Percent to two decimals (a display figure, not money)."""
    return (part / whole * 100).quantize(Decimal("0.01"))
