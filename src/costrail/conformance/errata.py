"""Corrections to FOCUS 1.2 model rules whose encoding contradicts their own text or the spec.

The model's `MustSatisfy` sentence is the normative text; the `Requirement`/`Condition` tree is a
machine encoding of it. Where the two disagree, evaluating the encoding as written would report
conformant data as failing (or miss real failures), so costrail evaluates the corrected encoding
instead and says so on the rule's result. Each entry names what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Erratum:
    """A replacement requirement and/or condition (None keeps the model's own)."""

    reason: str
    requirement: Mapping[str, Any] | None = None
    condition: Mapping[str, Any] | None = None


def _value(column: str, value: object) -> dict[str, Any]:
    return {"CheckFunction": "CheckValue", "ColumnName": column, "Value": value}


def _not_value(column: str, value: object) -> dict[str, Any]:
    return {"CheckFunction": "CheckNotValue", "ColumnName": column, "Value": value}


def _all_of(*items: Mapping[str, Any]) -> dict[str, Any]:
    return {"CheckFunction": "AND", "Items": list(items)}


def _any_of(*items: Mapping[str, Any]) -> dict[str, Any]:
    return {"CheckFunction": "OR", "Items": list(items)}


def _usage_with(column: str) -> dict[str, Any]:
    """`column` is not null and ChargeCategory is "Usage": usage that a commitment or a capacity
    reservation applies to."""
    return _all_of(_not_value(column, None), _value("ChargeCategory", "Usage"))


def _model_rule(rule_id: str) -> dict[str, Any]:
    return {"CheckFunction": "CheckModelRule", "ModelRuleId": rule_id}


ERRATA: dict[str, Erratum] = {
    "CommitmentDiscountStatus-C-003-C": Erratum(
        reason="the model requires 'not null' where the text says 'MUST be null'",
        requirement=_value("CommitmentDiscountStatus", None),
    ),
    "CommitmentDiscountStatus-C-004-C": Erratum(
        reason="the model's condition is 'CommitmentDiscountId is null'; the text says "
        "'CommitmentDiscountId is not null and ChargeCategory is \"Usage\"'",
        condition=_usage_with("CommitmentDiscountId"),
    ),
    "CommitmentDiscountStatus-C-005-M": Erratum(
        reason="the model lists Active/Expired/Pending; FOCUS 1.2 CommitmentDiscountStatus "
        "allows 'Used' and 'Unused' (as in the FOCUS 1.2 specification's examples)",
        requirement=_any_of(
            _value("CommitmentDiscountStatus", "Used"), _value("CommitmentDiscountStatus", "Unused")
        ),
    ),
    "ConsumedQuantity-C-006-C": Erratum(
        reason="the model's condition is 'ChargeClass is \"Correction\"'; the text says "
        "'ChargeClass is not \"Correction\"'",
        condition=_not_value("ChargeClass", "Correction"),
    ),
    "CommitmentDiscountQuantity-C-010-C": Erratum(
        reason="the model's condition is 'ChargeCategory is null'; the text says "
        "'ChargeCategory is \"Purchase\"'",
        condition=_value("ChargeCategory", "Purchase"),
    ),
    "Tags-C-003-C": Erratum(
        reason="the model's condition is 'Tags is null'; the text says 'When Tags is not null'",
        condition=_not_value("Tags", None),
    ),
    "ResourceName-C-005-C": Erratum(
        reason="the model's condition is 'ResourceId is null'; the text says "
        "'ResourceId is not null'",
        condition=_not_value("ResourceId", None),
    ),
    "ResourceId-C-006-C": Erratum(
        reason="the model's condition names its column under 'CheckCondition' instead of "
        "'ColumnName'; the text says 'When ResourceId is not null'",
        condition=_not_value("ResourceId", None),
    ),
    "ResourceType-C-005-C": Erratum(
        reason="the model's condition names its column under 'CheckCondition' instead of "
        "'ColumnName'; the text says 'when ResourceId is not null'",
        condition=_not_value("ResourceId", None),
    ),
    "CapacityReservationStatus-C-003-C": Erratum(
        reason="the model's condition is malformed ({'AND': {...}} without a CheckFunction)",
        condition=_value("CapacityReservationId", None),
    ),
    "CapacityReservationStatus-C-004-C": Erratum(
        reason="the model's condition is malformed ({'AND': [...]} without a CheckFunction)",
        condition=_usage_with("CapacityReservationId"),
    ),
    "SubAccountType-C-003-C": Erratum(
        reason="the model joins the two nullability rules with OR, which would pass a file "
        "that breaks one of them; both apply, each under its own condition",
        requirement=_all_of(
            _model_rule("SubAccountType-C-004-C"), _model_rule("SubAccountType-C-005-C")
        ),
    ),
    "InvoiceId-C-004-C": Erratum(
        reason="the model drops the condition (the charge is not on an invoice), which the data "
        "cannot show; as encoded it would require every InvoiceId to be null",
        requirement={},
    ),
    "InvoiceId-C-005-C": Erratum(
        reason="the model drops the condition (the charge is on an invoice), which the data "
        "cannot show; as encoded it would forbid any null InvoiceId",
        requirement={},
    ),
    "BilledCost-C-005-C": Erratum(
        reason="whether a third party received the payment is not in the data; the model's "
        "proxy (ProviderName differs from InvoiceIssuerName) flags every provider whose brand "
        "and legal names differ, e.g. 'AWS' and 'Amazon Web Services, Inc.' in the FOCUS "
        "sample data",
        requirement={},
    ),
    "PricingCurrencyEffectiveCost-C-004-M": Erratum(
        reason="the model checks PricingCurrencyListUnitPrice >= 0; the text says "
        "'PricingCurrencyEffectiveCost MUST be a valid decimal value'",
        requirement={
            "CheckFunction": "CheckDecimalValue",
            "ColumnName": "PricingCurrencyEffectiveCost",
        },
    ),
}
