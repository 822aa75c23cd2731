"""Commitments: unused Savings Plans and reservations, and the hourly commitment worth buying."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation

CENT = Decimal("0.01")
LOOKBACKS_DAYS = (30, 60, 90)
USAGE_DROPS = (Decimal("0.25"), Decimal("0.5"))

#: on-demand usage a commitment can cover: (provider, service code or None for any) → plan name
COMMITMENT_FAMILIES = {
    ("aws", "AmazonEC2"): "Compute Savings Plan",
    ("aws", "AmazonSageMaker"): "SageMaker Savings Plan",
    ("gcp", None): "Committed use discount",
    ("azure", None): "Azure savings plan for compute",
}


# --- unused commitments --------------------------------------------------------------------------


def _unused_rows(context: AnalysisContext) -> ir.Table:
    """Rows whose EffectiveCost is commitment paid but not used.

    FOCUS marks them `CommitmentDiscountStatus = Unused` (Azure UnusedReservation /
    UnusedSavingsPlan); AWS bills used and unused on one fee row (RIFee,
    SavingsPlanRecurringFee) whose EffectiveCost holds only the unused part.
    """
    costs = context.in_window()
    aws_fee = (
        (costs.x_Provider == "aws")
        & (costs.ChargeCategory == "Purchase")
        & (costs.ChargeFrequency == "Recurring")
    )
    return costs.filter(
        costs.CommitmentDiscountId.notnull(),
        (costs.CommitmentDiscountStatus == "Unused") | aws_fee,
    )


@analyses.register("unused_commitment")
def unused_commitments(context: AnalysisContext) -> list[Finding]:
    """One finding per commitment with unused hours: the dollars paid for nothing."""
    rows = _unused_rows(context)
    positive = rows.EffectiveCost > 0
    grouped = rows.group_by(["x_Provider", "CommitmentDiscountId"]).aggregate(
        commitment_type=rows.CommitmentDiscountType.max(),
        name=rows.CommitmentDiscountName.max(),
        account=rows.SubAccountId.max(),
        billing_account=rows.BillingAccountId.max(),
        unused_usd=rows.EffectiveCost.sum(),
        fee_usd=rows.BilledCost.sum(),
        line_items=rows.count(),
        hours_with_unused=positive.sum(),
    )
    records = grouped.order_by("CommitmentDiscountId").to_pyarrow().to_pylist()
    return [_unused_finding(context, r) for r in records if Decimal(r["unused_usd"] or 0) > 0]


def _unused_finding(context: AnalysisContext, record: dict[str, Any]) -> Finding:
    unused = Decimal(record["unused_usd"])
    is_plan = "savings plan" in (record["commitment_type"] or "").lower()
    kind = "unused_savings_plan_commitment" if is_plan else "unused_reservation"
    label = "Savings Plan" if is_plan else "reservation"
    fee = Decimal(record["fee_usd"] or 0)
    evidence: dict[str, Any] = {
        "unused_commitment_usd": unused.quantize(CENT),
        "line_items": record["line_items"],
        "line_items_with_unused": record["hours_with_unused"],
        "window_days": context.window_days,
    }
    if record["x_Provider"] == "aws" and fee > 0:
        evidence |= {"commitment_billed_usd": fee.quantize(CENT), "utilisation": 1 - unused / fee}
    monthly = context.monthly(unused).quantize(CENT)
    return Finding(
        kind=kind,
        title=f"Unused {label} commitment: {monthly} USD/month paid for nothing",
        provider=record["x_Provider"],
        resources=(record["CommitmentDiscountId"],),
        monthly_savings_usd=monthly,
        confidence="high",
        confidence_reason="the provider's own fee rows state the unused commitment",
        remediation=_unused_remediation(record["x_Provider"], is_plan),
        scope={
            key: str(value)
            for key, value in (
                ("account", record["account"] or record["billing_account"]),
                ("commitment", record["name"]),
            )
            if value
        },
        evidence=evidence,
        assumptions={"unused_from": "EffectiveCost of the commitment's unused / fee rows"},
        monthly_cost_usd=monthly,
    )


def _unused_remediation(provider: str, is_plan: bool) -> Remediation:
    if provider == "azure":
        return Remediation(
            "Move eligible usage under the commitment (scope it to the shared scope), or "
            "exchange / trade in the reservation.",
            "az reservations reservation update --reservation-order-id <order> "
            "--reservation-id <id> --applied-scope-type Shared",
            "az",
        )
    if is_plan:
        return Remediation(
            "Move steady eligible usage under the plan (it applies across families and regions); "
            "size the next plan to the used commitment and let this one expire.",
            "aws savingsplans describe-savings-plans-utilization ... ; "
            "aws ce get-savings-plans-utilization --time-period Start=<d>,End=<d>",
            "aws-cli",
        )
    return Remediation(
        "Run matching instances on the reservation, modify it to a size in use, or sell it on "
        "the Reserved Instance Marketplace.",
        "aws ec2 modify-reserved-instances --reserved-instances-ids <id> "
        "--target-configurations InstanceType=<in-use-type>,InstanceCount=<n>",
        "aws-cli",
    )


# --- commitment opportunity ----------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentOutcome:
    """What an hourly commitment of `level_usd_per_hour` (at committed prices) would have done."""

    level_usd_per_hour: Decimal
    covered_on_demand_usd: Decimal
    commitment_usd: Decimal
    unused_usd: Decimal
    savings_usd: Decimal
    utilisation: Decimal


def simulate(
    hourly_on_demand_usd: list[Decimal], level_usd_per_hour: Decimal, discount: Decimal
) -> CommitmentOutcome:
    """Savings of an hourly commitment against the on-demand spend of each hour.

    A commitment of L $/h at a discount d covers up to L/(1−d) of on-demand spend each hour;
    saving = covered on-demand × d − unused commitment = covered − L × hours.
    """
    capacity = level_usd_per_hour / (1 - discount)
    covered = sum((min(spend, capacity) for spend in hourly_on_demand_usd), Decimal(0))
    commitment = level_usd_per_hour * len(hourly_on_demand_usd)
    used = covered * (1 - discount)
    return CommitmentOutcome(
        level_usd_per_hour=level_usd_per_hour,
        covered_on_demand_usd=covered,
        commitment_usd=commitment,
        unused_usd=commitment - used,
        savings_usd=covered - commitment,
        utilisation=used / commitment if commitment else Decimal(0),
    )


def best_level(hourly_on_demand_usd: list[Decimal], discount: Decimal) -> CommitmentOutcome:
    """The level maximising savings, tried at every observed hourly spend (the breakpoints).

    Savings are piecewise linear in the level with kinks at each hour's spend × (1−d), so the
    grid of observed spends holds the optimum; prefix sums make each try O(log n).
    """
    spends = sorted(hourly_on_demand_usd)
    prefix = [Decimal(0)]
    for spend in spends:
        prefix.append(prefix[-1] + spend)
    best = CommitmentOutcome(Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0))
    for capacity in sorted(set(spends)):
        below = bisect.bisect_right(spends, capacity)
        covered = prefix[below] + capacity * (len(spends) - below)
        level = capacity * (1 - discount)
        saving = covered - level * len(spends)
        if saving > best.savings_usd:
            best = simulate(spends, level, discount)
    return best


def _eligible_hourly(context: AnalysisContext, days: int) -> dict[tuple[str, str], list[Decimal]]:
    """On-demand instance spend per hour of the last `days`, per commitment family, net of
    commitment credits billed beside it (never below 0 in an hour).

    Daily rows (Azure) are spread evenly over their hours; hours without spend count as 0.
    """
    start = context.window_end - timedelta(days=days)
    costs = context.costs
    # Usage already covered by a commitment billed as a separate credit (GCP CUD credits)
    # is not eligible: those credits are netted against the usage of the same hour.
    on_demand_usage = (costs.ChargeCategory == "Usage") & (costs.x_PurchaseOption == "OnDemand")
    commitment_credit = (costs.ChargeCategory == "Credit") & (
        costs.x_PurchaseOption == "CommittedUse"
    )
    rows = costs.filter(
        costs.ChargePeriodStart >= start,
        costs.ChargePeriodStart < context.window_end,
        on_demand_usage | commitment_credit,
        costs.x_InstanceType.notnull(),
    )
    family = _family_expr(rows)
    buckets = (
        rows.mutate(family=family)
        .filter(ibis._.family.notnull())
        .group_by(["x_Provider", "family", "ChargePeriodStart", "ChargePeriodEnd"])
        .aggregate(spend=ibis._.EffectiveCost.sum())
    )
    hours = days * 24
    series: dict[tuple[str, str], list[Decimal]] = {}
    for record in buckets.to_pyarrow().to_pylist():
        key = (record["x_Provider"], record["family"])
        spend_by_hour = series.setdefault(key, [Decimal(0)] * hours)
        first = int((record["ChargePeriodStart"] - start).total_seconds() // 3600)
        length = max(
            1,
            int((record["ChargePeriodEnd"] - record["ChargePeriodStart"]).total_seconds() // 3600),
        )
        per_hour = Decimal(record["spend"]) / length
        for hour in range(first, min(first + length, hours)):
            spend_by_hour[hour] += per_hour
    return {
        key: [max(spend, Decimal(0)) for spend in spend_by_hour]
        for key, spend_by_hour in series.items()
    }


def _family_expr(rows: ir.Table) -> ir.StringValue:
    cases = [
        (
            (rows.x_Provider == provider)
            & (rows.x_ServiceCode == service if service else ibis.literal(True)),
            ibis.literal(name),
        )
        for (provider, service), name in COMMITMENT_FAMILIES.items()
    ]
    return ibis.cases(*cases, else_=ibis.null("string"))  # type: ignore[return-value]


@analyses.register("commitment_opportunity")
def commitment_opportunity(context: AnalysisContext) -> list[Finding]:
    """The hourly commitment that would have saved most, sized to the least of 30/60/90 days."""
    discount = context.thresholds.commitment_term_discount
    by_lookback = {days: _eligible_hourly(context, days) for days in LOOKBACKS_DAYS}
    findings = []
    for key, recent in by_lookback[LOOKBACKS_DAYS[0]].items():
        best = {
            days: best_level(series[key], discount)
            for days, series in by_lookback.items()
            if key in series
        }
        level = min(outcome.level_usd_per_hour for outcome in best.values())
        if level <= 0:
            continue
        findings.append(_opportunity(context, key, recent, level, best, discount))
    return findings


def _opportunity(
    context: AnalysisContext,
    key: tuple[str, str],
    recent: list[Decimal],
    level: Decimal,
    best: dict[int, CommitmentOutcome],
    discount: Decimal,
) -> Finding:
    provider, family = key
    outcome = simulate(recent, level, discount)
    hours = Decimal(len(recent))
    monthly = (outcome.savings_usd * Decimal(720) / hours).quantize(CENT)
    risks = {
        f"usage_drop_{int(drop * 100)}pct_monthly_savings_usd": (
            simulate([s * (1 - drop) for s in recent], level, discount).savings_usd
            * Decimal(720)
            / hours
        ).quantize(CENT)
        for drop in USAGE_DROPS
    }
    evidence: dict[str, Any] = {
        "commitment_usd_per_hour": level.quantize(Decimal("0.0001")),
        "on_demand_covered_usd_per_hour": (level / (1 - discount)).quantize(Decimal("0.0001")),
        "on_demand_spend_last_30d_usd": sum(recent, Decimal(0)).quantize(CENT),
        "covered_on_demand_last_30d_usd": outcome.covered_on_demand_usd.quantize(CENT),
        "unused_commitment_last_30d_usd": outcome.unused_usd.quantize(CENT),
        "expected_utilisation": outcome.utilisation.quantize(Decimal("0.001")),
        "break_even_utilisation": 1 - discount,
        "best_level_usd_per_hour_by_lookback_days": {
            str(days): o.level_usd_per_hour.quantize(Decimal("0.0001")) for days, o in best.items()
        },
        "commitment_if_usage_stops_monthly_usd": (level * 720).quantize(CENT),
        **risks,
    }
    return Finding(
        kind="commitment_opportunity",
        title=f"Commit {level.quantize(CENT)} USD/hour ({family}) to on-demand usage",
        provider=provider,
        resources=(f"commitment:{provider}:{family}",),
        monthly_savings_usd=max(monthly, Decimal(0)),
        confidence="medium",
        confidence_reason=(
            "sized to the smallest of the 30/60/90-day optima; the real discount depends on "
            "term, payment option and instance family"
        ),
        remediation=_opportunity_remediation(provider, level),
        scope={"family": family},
        evidence=evidence,
        assumptions={
            "commitment_discount": discount,
            "lookbacks_days": list(LOOKBACKS_DAYS),
            "eligible": "on-demand instance usage (x_InstanceType set) of the family",
        },
    )


def _opportunity_remediation(provider: str, level: Decimal) -> Remediation:
    commitment = level.quantize(Decimal("0.001"))
    if provider == "aws":
        return Remediation(
            "Buy a 1-year No Upfront Savings Plan at this hourly commitment; review monthly.",
            "aws savingsplans create-savings-plan --savings-plan-offering-id <offering> "
            f"--commitment {commitment}",
            "aws-cli",
        )
    if provider == "gcp":
        return Remediation(
            "Buy a 1-year spend-based (flexible) committed use discount at this hourly amount.",
            "gcloud beta billing ... (Console: Billing › Committed use discounts › Purchase)",
            "gcloud",
        )
    return Remediation(
        "Buy a 1-year Azure savings plan for compute at this hourly commitment.",
        f"az billing-benefits savings-plan-order-alias create --commitment amount={commitment} "
        "grain=Hourly --term P1Y --billing-scope-id <scope>",
        "az",
    )
