"""`run()`: every analysis together — an empty warehouse, and the one-saving-per-resource rule."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses import context_for, run
from costrail.analyses.base import deduplicate
from costrail.findings import Finding, Remediation
from costrail.warehouse import Warehouse


def _finding(kind: str, resources: tuple[str, ...], savings: str, **evidence: object) -> Finding:
    return Finding(
        kind=kind,
        title=kind,
        provider="aws",
        resources=resources,
        monthly_savings_usd=Decimal(savings),
        confidence="high",
        confidence_reason="test",
        remediation=Remediation(action="fix it"),
        evidence=dict(evidence),
    )


def test_an_empty_warehouse_has_no_findings(warehouse: Warehouse) -> None:
    assert run(context_for(warehouse.costs(), warehouse.engine)) == []


def test_a_resource_saving_counts_only_in_the_biggest_finding() -> None:
    big = _finding("a", ("i-1", "i-2"), "300")
    overlapping = _finding(
        "b", ("i-2", "i-3"), "200", savings_by_resource={"i-2": "150", "i-3": "50"}
    )

    kept = deduplicate([overlapping, big], minimum_usd=Decimal("10"))

    assert [(f.kind, f.monthly_savings_usd) for f in kept] == [
        ("a", Decimal("300")),
        ("b", Decimal("50")),
    ]
    assert kept[1].warnings == ("saving on i-2 already counted under a",)


def test_a_finding_fully_claimed_by_a_bigger_one_is_dropped() -> None:
    kept = deduplicate(
        [_finding("a", ("i-1",), "300"), _finding("b", ("i-1",), "100")], Decimal("10")
    )

    assert [f.kind for f in kept] == ["a"]


def test_findings_below_the_floor_are_dropped_unless_informational_or_unpriced() -> None:
    small = _finding("a", ("i-1",), "5")
    allocation = _finding("allocation_gap", (), "0")
    unpriced = Finding(
        **{
            **small.__dict__,
            "kind": "c",
            "resources": ("i-9",),
            "warnings": ("missing catalog price: no spot price for x",),
        }
    )

    kept = deduplicate([small, allocation, unpriced], Decimal("50"))

    assert sorted(f.kind for f in kept) == ["allocation_gap", "c"]
