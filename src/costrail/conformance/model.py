"""The FOCUS 1.2 requirements model (shipped as package data) as typed rules, errata applied."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from costrail.conformance.errata import ERRATA

#: A check function call from the model: `{"CheckFunction": "CheckValue", "ColumnName": …}`.
Spec = Mapping[str, Any]

#: Keywords whose failure breaks conformance; the others (SHOULD, RECOMMENDED, …) only warn.
ERROR_KEYWORDS = frozenset({"MUST", "MUST NOT", "REQUIRED", "SHALL", "SHALL NOT"})
#: Keywords that permit something: such a rule can never be violated.
PERMISSIVE_KEYWORDS = frozenset({"MAY", "OPTIONAL"})

MODEL_FILE = "model-1.2.json"
CURRENCY_FILE = "currency_codes.csv"


@dataclass(frozen=True)
class ModelRule:
    """One entry of the model's `ModelRules`.

    `requirement` and `condition` are the model's check-function trees (after errata). A rule
    whose requirement is empty is *dynamic*: it needs knowledge outside the data (invoices, the
    provider's documentation) and cannot be evaluated from a file.
    """

    rule_id: str
    function: str
    reference: str
    entity_type: str
    keyword: str
    must_satisfy: str
    applicability: tuple[str, ...]
    requirement: Spec
    condition: Spec
    erratum: str | None = None

    @property
    def is_dynamic(self) -> bool:
        return not self.requirement

    @property
    def severity(self) -> str:
        return "error" if self.keyword in ERROR_KEYWORDS else "warning"

    @property
    def check_function(self) -> str | None:
        name = self.requirement.get("CheckFunction")
        return str(name) if name is not None else None

    def references(self) -> tuple[str, ...]:
        """Rule ids this rule's requirement refers to through `CheckModelRule`."""
        found: list[str] = []
        _collect_references(self.requirement, found)
        return tuple(found)


@dataclass(frozen=True)
class RequirementsModel:
    """All rules of one FOCUS version, indexed by id, with the parent links composites create."""

    focus_version: str
    model_version: str
    rules: Mapping[str, ModelRule]
    applicability_criteria: Mapping[str, str]
    parents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def rule(self, rule_id: str) -> ModelRule:
        return self.rules[rule_id]


@cache
def load_model() -> RequirementsModel:
    """The shipped FOCUS 1.2 model, errata applied (cached: the model is immutable)."""
    text = resources.files("costrail.conformance").joinpath("data", MODEL_FILE).read_text("utf-8")
    return parse_model(json.loads(text))


def parse_model(document: Mapping[str, Any]) -> RequirementsModel:
    """A model from its JSON document (the validator's `model-<version>.json` layout)."""
    details = document.get("Details", {})
    rules: dict[str, ModelRule] = {}
    for rule_id, entry in document["ModelRules"].items():
        rules[rule_id] = _rule(rule_id, entry)
    parents: dict[str, list[str]] = {}
    for rule in rules.values():
        for child in rule.references():
            parents.setdefault(child, []).append(rule.rule_id)
    criteria = {
        name: str(entry.get("Description", ""))
        for name, entry in document.get("ApplicabilityCriteria", {}).items()
    }
    return RequirementsModel(
        focus_version=str(details.get("FOCUSVersion", "")),
        model_version=str(details.get("ModelVersion", "")),
        rules=MappingProxyType(rules),
        applicability_criteria=MappingProxyType(criteria),
        parents=MappingProxyType({key: tuple(value) for key, value in parents.items()}),
    )


@cache
def national_currency_codes() -> frozenset[str]:
    """ISO 4217 national currency codes (for `CheckNationalCurrency`)."""
    text = (
        resources.files("costrail.conformance").joinpath("data", CURRENCY_FILE).read_text("utf-8")
    )
    rows = csv.DictReader(text.splitlines())
    return frozenset(row["currency_codes"].strip() for row in rows if row.get("currency_codes"))


def _rule(rule_id: str, entry: Mapping[str, Any]) -> ModelRule:
    criteria = entry.get("ValidationCriteria", {})
    requirement: Spec = criteria.get("Requirement") or {}
    condition: Spec = criteria.get("Condition") or {}
    note: str | None = None
    erratum = ERRATA.get(rule_id)
    if erratum is not None:
        requirement = erratum.requirement if erratum.requirement is not None else requirement
        condition = erratum.condition if erratum.condition is not None else condition
        note = erratum.reason
    return ModelRule(
        rule_id=rule_id,
        function=str(entry.get("Function", "")),
        reference=str(entry.get("Reference", "")),
        entity_type=str(entry.get("EntityType", "")),
        keyword=str(criteria.get("Keyword", "")),
        must_satisfy=str(criteria.get("MustSatisfy", "")),
        applicability=tuple(entry.get("ApplicabilityCriteria") or ()),
        requirement=requirement,
        condition=condition,
        erratum=note,
    )


def _collect_references(spec: Spec, found: list[str]) -> None:
    if spec.get("CheckFunction") == "CheckModelRule":
        found.append(str(spec["ModelRuleId"]))
    for item in spec.get("Items", ()):
        _collect_references(item, found)
