"""AWS's amortised cost (EffectiveCost): commitments spread over the usage they cover."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import MONEY
from costrail.sources.aws.line_items import AwsNative
from costrail.sources.expr import money_literal


@dataclass(frozen=True)
class AmortisationRule:
    """EffectiveCost of one kind of line item, or None where the export lacks its columns."""

    line_item_type: str
    effective_cost: ir.Value | None
    columns: str


def amortisation_rules(rows: AwsNative) -> list[AmortisationRule]:
    """AWS's amortised cost for the rows that commitments touch (all others: billed cost)."""
    ri_unused = [
        rows.preferred(f"reservation_net_unused_{name}", f"reservation_unused_{name}")
        for name in ("amortized_upfront_fee_for_billing_period", "recurring_fee")
    ]
    sp_total = rows.money("savings_plan_total_commitment_to_date")
    sp_used = rows.money("savings_plan_used_commitment")
    return [
        AmortisationRule(
            "SavingsPlanCoveredUsage",
            rows.preferred(
                "savings_plan_net_savings_plan_effective_cost",
                "savings_plan_savings_plan_effective_cost",
            ),
            "savings_plan_savings_plan_effective_cost",
        ),
        AmortisationRule(
            "SavingsPlanRecurringFee",
            None if sp_total is None or sp_used is None else sp_total - sp_used,  # type: ignore[operator]
            "savings_plan_total_commitment_to_date, savings_plan_used_commitment",
        ),
        AmortisationRule(
            "DiscountedUsage",
            rows.preferred("reservation_net_effective_cost", "reservation_effective_cost"),
            "reservation_effective_cost",
        ),
        AmortisationRule(
            "RIFee",
            None if any(part is None for part in ri_unused) else ri_unused[0] + ri_unused[1],  # type: ignore[operator]
            "reservation_unused_amortized_upfront_fee_for_billing_period, "
            "reservation_unused_recurring_fee",
        ),
    ]


def effective_cost(rows: AwsNative, billed: ir.Value, ri_arn: ir.Value | None) -> ir.Value:
    """Amortised cost: commitments spread over the usage they cover, unused parts on the fees.

    SavingsPlanNegation and SavingsPlanUpfrontFee are 0 (the covered usage carries the cost), an
    RI's upfront `Fee` is 0 (amortised into DiscountedUsage/RIFee); everything else is billed.
    """
    line_type = rows.line_item_type()
    branches: list[tuple[ir.Value, ir.Value]] = [
        (line_type.isin(("SavingsPlanNegation", "SavingsPlanUpfrontFee")), money_literal(0)),
    ]
    for rule in amortisation_rules(rows):
        if rule.effective_cost is not None:
            cost = ibis.coalesce(rule.effective_cost, billed)
            branches.append((line_type == rule.line_item_type, cost))
    if ri_arn is not None:
        branches.append(((line_type == "Fee") & ri_arn.notnull(), money_literal(0)))
    return ibis.cases(
        *((condition, value.cast(MONEY)) for condition, value in branches), else_=billed
    )
