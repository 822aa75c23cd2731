"""The shipped FOCUS 1.2 requirements model and costrail's errata to it."""

from __future__ import annotations

from costrail.conformance import load_model
from costrail.conformance.errata import ERRATA
from costrail.conformance.model import national_currency_codes


def test_model_holds_the_621_focus_1_2_rules() -> None:
    model = load_model()

    assert (model.focus_version, len(model.rules)) == ("1.2", 621)
    assert model.rule("ChargeCategory-C-002-M").keyword == "MUST NOT"


def test_every_erratum_names_a_rule_of_the_model_and_is_applied() -> None:
    model = load_model()

    for rule_id, erratum in ERRATA.items():
        assert model.rule(rule_id).erratum == erratum.reason


def test_composites_know_their_parents() -> None:
    model = load_model()

    assert model.parents["ChargeCategory-C-003-M"] == ("ChargeCategory-C-000-M",)
    assert "CostAndUsage-D-002-M" in model.parents["ChargeCategory-C-000-M"]


def test_national_currency_codes_include_usd_and_eur_only_as_codes() -> None:
    codes = national_currency_codes()

    assert {"USD", "EUR", "JPY"} <= codes
    assert "usd" not in codes and "currency_codes" not in codes
