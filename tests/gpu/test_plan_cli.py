"""`costrail plan` through the CLI: the 7B acceptance case, JSON equal to the table, errors."""

from __future__ import annotations

import json
import re
from functools import cache

from typer.testing import CliRunner

from costrail.cli.main import app

runner = CliRunner()
SEVEN_B = ["plan", "--model", "llama-2-7b", "--tokens", "20B", "--seq", "4096"]


@cache
def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def _table_rows(output: str) -> list[list[str]]:
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if line.startswith("│") and cells[0].isdigit():
            rows.append(cells)
    return rows


def test_7b_plan_lists_fitting_options_on_at_least_four_clouds_with_prices_and_times() -> None:
    code, output = _run(*SEVEN_B, "--json")

    assert code == 0, output
    plan = json.loads(output)
    clouds = {option["cloud"] for option in plan["options"]}
    assert len(clouds) >= 4
    for option in plan["options"]:
        assert option["fits"] and option["headroom_pct"] >= 0
        assert float(option["cost_usd"]) > 0 and option["hours"] > 0
    assert plan["model"]["parameters"] == 6_738_415_616


def test_7b_plan_explains_why_the_winner_wins() -> None:
    code, output = _run(*SEVEN_B, "--json")
    plan = json.loads(output)
    winner = plan["options"][0]

    assert code == 0
    assert winner["rank"] == 1
    assert f"${float(winner['cost_usd']):,.2f}" in plan["explanation"]
    assert winner["cloud"] in plan["explanation"] and "wins" in plan["explanation"]


def test_json_options_are_the_table_rows_in_the_same_order() -> None:
    _, table_output = _run(*SEVEN_B)
    _, json_output = _run(*SEVEN_B, "--json")

    table = [(int(row[0]), row[1], row[-1]) for row in _table_rows(table_output)]
    options = json.loads(json_output)["options"]
    from_json = [(o["rank"], o["cloud"], f"{float(o['cost_usd']):,.2f}") for o in options]

    assert table == from_json
    assert "Why:" in table_output


def test_money_in_json_is_an_exact_decimal_string() -> None:
    _, output = _run(*SEVEN_B, "--json")

    costs = [option["cost_usd"] for option in json.loads(output)["options"]]
    assert all(isinstance(cost, str) and re.fullmatch(r"\d+\.\d{2}", cost) for cost in costs)


def test_an_impossible_deadline_exits_1_and_says_why() -> None:
    code, output = _run(*SEVEN_B, "--deadline", "1m", "--max-nodes", "1")

    assert code == 1
    assert "deadline" in output


def test_a_bad_token_count_is_a_usage_error() -> None:
    result = runner.invoke(app, ["plan", "--model", "llama-2-7b", "--tokens", "lots"])

    assert result.exit_code == 2
    assert "--tokens" in result.output


def test_lora_fine_tuning_of_a_70b_model_plans_on_the_given_clouds_only() -> None:
    code, output = _run(
        "plan",
        "--model",
        "llama-2-70b",
        "--tokens",
        "100M",
        "--mode",
        "qlora",
        "--clouds",
        "lambda,aws",
        "--json",
    )

    assert code == 0, output
    assert {option["cloud"] for option in json.loads(output)["options"]} <= {"lambda", "aws"}
