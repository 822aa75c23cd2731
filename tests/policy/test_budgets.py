"""Budgets: validated YAML with file:line errors, scopes on FOCUS columns and tags, exact actual
spend, crossed thresholds, and `costrail budgets check` exit codes for CI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costrail.cli.main import app
from costrail.config import ConfigError, parse_config
from costrail.policy.budgets import Budget, BudgetsSection, evaluate
from costrail.policy.engine import load_policy
from costrail.warehouse import Warehouse
from costrail.warehouse.load import ingest
from tests.watch.focus_days import HEADER, day_rows


def budgets(text: str) -> list[Budget]:
    return parse_config(text).section("budgets", BudgetsSection).root


def load_rows(warehouse: Warehouse, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    ingest(warehouse, [path])


def test_a_budget_gets_the_documented_defaults() -> None:
    [budget] = budgets("budgets:\n  - {name: all, amount: 1000.10}\n")

    assert budget.amount == Decimal("1000.10")
    assert (budget.period, budget.metric) == ("month", "EffectiveCost")
    assert budget.thresholds.actual == [50, 80, 100]
    assert budget.thresholds.forecast == [100]


def test_a_bad_amount_names_file_line_and_key() -> None:
    text = "budgets:\n  - name: a\n    amount: lots\n"
    with pytest.raises(ConfigError, match=r"costrail.yaml:3: budgets.0.amount"):
        parse_config(text)


def test_an_unknown_scope_column_is_refused_with_the_known_ones_suggested() -> None:
    text = "budgets:\n  - name: a\n    amount: 1\n    scope: {Service: X}\n"
    with pytest.raises(
        ConfigError, match=r"costrail.yaml:4: budgets.0.scope.*'Service'.*ServiceName"
    ):
        parse_config(text)


def test_a_channel_that_is_not_defined_names_its_line() -> None:
    config = parse_config("budgets:\n  - name: a\n    amount: 1\n    channels:\n      - slack\n")
    with pytest.raises(
        ConfigError, match=r"costrail.yaml:5: .*'slack' is not defined under alerts"
    ):
        load_policy(config)


def test_quarter_and_custom_periods_cover_the_right_days() -> None:
    [quarter, custom] = budgets(
        "budgets:\n  - {name: q, amount: 1, period: quarter}\n"
        "  - {name: c, amount: 1, period: {start: 2026-01-15, end: 2026-02-14}}\n"
    )

    assert quarter.window(date(2026, 11, 3)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert custom.window(date(2026, 2, 1)) == (date(2026, 1, 15), date(2026, 2, 14))


def test_scope_filters_on_columns_tags_and_not_in(warehouse: Warehouse, tmp_path: Path) -> None:
    day = date(2026, 9, 1)
    load_rows(
        warehouse,
        tmp_path,
        [
            day_rows(day, Decimal("10.01"), service="Amazon SageMaker", team="ml"),
            day_rows(day, Decimal("20.02"), service="Amazon SageMaker", team="web"),
            day_rows(day, Decimal("40.04"), service="Amazon EC2", team="ml"),
        ],
    )
    [ml, not_web] = budgets(
        "budgets:\n"
        "  - {name: ml, amount: 100, scope: {ServiceName: Amazon SageMaker, tags: {team: ml}}}\n"
        "  - {name: nw, amount: 100, scope: {tags: {team: {not_in: [web]}}}}\n"
    )

    assert evaluate(warehouse.costs(), ml, day).actual_usd == Decimal("10.01")
    assert evaluate(warehouse.costs(), not_web, day).actual_usd == Decimal("50.05")


def test_crossed_thresholds_carry_the_day_spend_reached_them(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    rows = [day_rows(date(2026, 9, d), Decimal("30")) for d in range(1, 4)]
    load_rows(warehouse, tmp_path, rows)
    [budget] = budgets("budgets:\n  - {name: b, amount: 100}\n")

    status = evaluate(warehouse.costs(), budget, date(2026, 9, 3))

    assert status.actual_usd == Decimal("90")
    assert status.crossed_actual == {Decimal(50): date(2026, 9, 2), Decimal(80): date(2026, 9, 3)}
    assert not status.breached


def _check(tmp_path: Path, warehouse_path: Path, amount: str, *extra: str) -> tuple[int, str]:
    config = tmp_path / "costrail.yaml"
    config.write_text(f"budgets:\n  - {{name: b, amount: {amount}}}\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["budgets", "check", "--config", str(config), "--warehouse", str(warehouse_path), *extra],
    )
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def month_of_spend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Aug and Sep 1–10 at $10/day: $100 spent in September by the 10th (read-only here)."""
    from costrail.warehouse import connect

    folder = tmp_path_factory.mktemp("spend")
    path = folder / "w.duckdb"
    store = connect(str(path))
    rows = [day_rows(date(2026, 8, d), Decimal("10")) for d in range(1, 32)]
    load_rows(store, folder, rows)
    september = folder / "sep.csv"
    september.write_text(
        HEADER + "".join(day_rows(date(2026, 9, d), Decimal("10")) for d in range(1, 11)),
        encoding="utf-8",
    )
    ingest(store, [september])
    store.close()
    return path


def test_check_exits_1_when_actual_spend_reached_the_amount(
    tmp_path: Path, month_of_spend: Path
) -> None:
    code, _ = _check(tmp_path, month_of_spend, "100")
    assert code == 1


def test_check_exits_3_when_only_the_forecast_breaches(
    tmp_path: Path, month_of_spend: Path
) -> None:
    code, _ = _check(tmp_path, month_of_spend, "250")  # $100 spent, ~$300 forecast
    assert code == 3


def test_check_exits_0_and_reports_json_when_within_budget(
    tmp_path: Path, month_of_spend: Path
) -> None:
    code, out = _check(tmp_path, month_of_spend, "1000", "--json")

    payload = json.loads(out)
    assert code == 0
    [status] = payload["budgets"]
    assert (status["actual_usd"], status["actual_pct"], status["as_of"]) == (
        "100.000000000000",
        "10.0",
        "2026-09-10",
    )
    forecast = status["forecast"]
    assert (
        Decimal(forecast["lo95_usd"])
        <= Decimal(forecast["expected_usd"])
        <= Decimal(forecast["hi95_usd"])
    )


def test_check_as_of_an_earlier_day_counts_only_spend_until_then(
    tmp_path: Path, month_of_spend: Path
) -> None:
    _, out = _check(tmp_path, month_of_spend, "1000", "--json", "--as-of", "2026-09-04")
    assert json.loads(out)["budgets"][0]["actual_usd"] == "40.000000000000"


def test_init_writes_a_starter_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "costrail.yaml"
    runner = CliRunner()

    first = runner.invoke(app, ["init", "--path", str(target)])
    second = runner.invoke(app, ["init", "--path", str(target)])

    assert first.exit_code == 0
    policy = load_policy(parse_config(target.read_text(encoding="utf-8"), target))
    assert [budget.name for budget in policy.budgets] == ["total-monthly"]
    assert second.exit_code == 2
