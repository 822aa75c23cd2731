"""The watch cycle: new and changed exports are ingested once, a corrupt file is set aside
without stopping the cycle, due actions run dry unless allowed, and anomalies alert once.
(The waste analyses run in the first test only, for speed.)"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from costrail.config import parse_config
from costrail.policy.engine import load_policy
from costrail.policy.state import ACTION_AUDIT_SCHEMA
from costrail.warehouse import Warehouse
from costrail.watch.cycle import run_cycle
from tests.alerts.servers import http_server
from tests.watch.focus_days import HEADER, day_rows, write_days, write_month


def policy(text: str = "") -> object:
    return load_policy(parse_config(text))


def total_usd(warehouse: Warehouse) -> Decimal:
    return Decimal(warehouse.costs().EffectiveCost.sum().execute() or 0)


def test_an_unchanged_file_is_not_ingested_or_analysed_again(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    write_month(tmp_path / "src", date(2026, 9, 1), [Decimal("5")] * 20)

    first = run_cycle(warehouse, policy(), [tmp_path / "src"])
    second = run_cycle(warehouse, policy(), [tmp_path / "src"])

    assert len(first.ingest.ingested) == 1
    assert first.findings is not None and "analyses" not in first.errors
    assert (second.ingest.ingested, second.ingest.unchanged) == ([], 1)
    assert second.findings is None
    assert warehouse.ingests().count().execute() == 1


def test_a_rewritten_export_replaces_its_month(warehouse: Warehouse, tmp_path: Path) -> None:
    write_month(tmp_path / "src", date(2026, 9, 1), [Decimal("5")] * 2)
    run_cycle(warehouse, policy(), [tmp_path / "src"], analyses=False)
    write_month(tmp_path / "src", date(2026, 9, 1), [Decimal("5")] * 3)

    run_cycle(warehouse, policy(), [tmp_path / "src"], analyses=False)

    assert total_usd(warehouse) == Decimal("15")


def test_a_corrupt_file_is_skipped_and_the_next_good_file_still_loads(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    write_days(source, date(2026, 9, 1), 1, Decimal("5"))
    corrupt = source / "2026-09" / "focus-broken.csv"
    corrupt.write_text(
        HEADER + day_rows(date(2026, 9, 2), Decimal("5")).replace(",5,5,", ",5,five,")
    )

    first = run_cycle(warehouse, policy(), [source], analyses=False)
    write_days(source, date(2026, 9, 3), 1, Decimal("7"))
    second = run_cycle(warehouse, policy(), [source], analyses=False)

    assert corrupt.resolve() in first.ingest.failed
    assert "EffectiveCost" in first.ingest.failed[corrupt.resolve()]
    assert second.ingest.failed == {}  # unchanged and known bad: not retried
    assert total_usd(warehouse) == Decimal("12")


ACTIONS = """
budgets:
  - {{name: b, amount: 10, actions: [note]}}
actions:
  note: {{type: command, apply: {apply}, argv: [sh, -c, "echo stopped >> {log}"]}}
"""


def _breach(tmp_path: Path) -> Path:
    write_days(tmp_path / "src", date(2026, 9, 1), 1, Decimal("12"))
    return tmp_path / "src"


def test_a_due_action_runs_dry_once_and_is_audited(warehouse: Warehouse, tmp_path: Path) -> None:
    log = tmp_path / "actions.log"
    rules = policy(ACTIONS.format(apply="true", log=log))
    source = _breach(tmp_path)

    first = run_cycle(warehouse, rules, [source], analyses=False)  # no --apply
    second = run_cycle(warehouse, rules, [source], analyses=False)

    assert [(r.mode, r.outcome) for r in first.actions] == [("dry-run", "planned")]
    assert second.actions == []
    assert not log.exists()


def test_a_due_action_runs_with_apply_only_when_its_config_allows(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    log = tmp_path / "actions.log"
    source = _breach(tmp_path)

    refused = run_cycle(
        warehouse,
        policy(ACTIONS.format(apply="false", log=log)),
        [source],
        apply=True,
        analyses=False,
    )
    applied = run_cycle(
        warehouse,
        policy(ACTIONS.format(apply="true", log=log)),
        [source],
        apply=True,
        analyses=False,
    )

    assert [r.mode for r in refused.actions] == ["dry-run"]
    assert [(r.mode, r.outcome) for r in applied.actions] == [("apply", "ok")]
    assert log.read_text() == "stopped\n"
    audit = warehouse.read("action_audit", ACTION_AUDIT_SCHEMA).to_pyarrow().to_pylist()
    assert [(row["mode"], json.loads(row["parameters"])["argv"][0]) for row in audit] == [
        ("dry-run", "sh"),
        ("apply", "sh"),
    ]


def test_a_spike_alerts_once_with_its_root_cause(warehouse: Warehouse, tmp_path: Path) -> None:
    source = tmp_path / "src"
    start = date(2026, 8, 1)
    rows = [day_rows(start + timedelta(days=i), Decimal("100")) for i in range(40)]
    spike_day = start + timedelta(days=40)
    rows.append(day_rows(spike_day, Decimal("2500"), service="Amazon EC2"))
    rows.append(day_rows(spike_day, Decimal("100")))
    (source / "all").mkdir(parents=True)
    (source / "all" / "focus.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    with http_server() as hook:
        rules = policy(f"alerts:\n  channels: {{hook: {{type: webhook, url: '{hook.url}'}}}}\n")
        run_cycle(warehouse, rules, [source], analyses=False)
        run_cycle(warehouse, rules, [source], analyses=False)

    totals = [body for body in hook.recorder.bodies() if body["subject"] == "anomaly:total"]
    assert len(totals) == 1
    assert totals[0]["since"] == spike_day.isoformat()
    # every dimension of the one spiking row explains it fully; the ranking among ties is the
    # detector's, the alert carries its top causes with dollars and share
    assert totals[0]["root_causes"][0].endswith("$2,500.00 (100%)")
