"""One watch cycle, and the loop that repeats it until SIGINT/SIGTERM.

Every stage is isolated: a failing source, analysis, forecaster or channel is logged with its
reason and the cycle goes on to the next stage.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from costrail.alerts.deliver import DeliveryReport, deliver
from costrail.alerts.model import Alert
from costrail.analyses.store import new_run_id
from costrail.errors import CostrailError
from costrail.policy.budgets import BudgetStatus, evaluate, newest_charge_day
from costrail.policy.engine import Policy, anomaly_alerts, budget_actions, budget_alerts
from costrail.policy.state import AuditRecord, PolicyState
from costrail.warehouse.store import Warehouse
from costrail.watch.ingest import IngestOutcome, ingest_changes

log = logging.getLogger("costrail.watch")


@dataclass
class CycleReport:
    """What one cycle did; `errors` holds each stage that failed and why."""

    ingest: IngestOutcome = field(default_factory=IngestOutcome)
    findings: int | None = None
    statuses: list[BudgetStatus] = field(default_factory=list)
    anomalies: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    actions: list[AuditRecord] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def run_cycle(
    warehouse: Warehouse,
    policy: Policy,
    sources: list[Path],
    *,
    apply: bool = False,
    analyses: bool = True,
    as_of: date | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CycleReport:
    """One pass; `analyses=False` skips re-running the waste analyses after an ingest."""
    report = CycleReport()
    report.ingest = ingest_changes(warehouse, sources)
    if analyses and report.ingest.changed:
        _stage(report, "analyses", lambda: _analyse(warehouse, report))
    costs = warehouse.costs()
    day = as_of or newest_charge_day(costs)
    alerts: list[Alert] = []
    if day is not None:
        for budget in policy.budgets:
            _stage(report, f"budget {budget.name}", partial(_budget, costs, budget, day, report))
        for status in report.statuses:
            alerts += budget_alerts(status)
        if policy.alerts.anomalies.enabled and policy.alerts.channels:
            _stage(
                report, "anomalies", lambda: alerts.extend(_anomalies(costs, policy, day, report))
            )
    state = PolicyState(warehouse)
    _stage(report, "alerts", lambda: _deliver(alerts, policy, state, sleep, report))
    run_id = new_run_id()
    _stage(
        report,
        "actions",
        lambda: report.actions.extend(
            budget_actions(report.statuses, policy, state, apply=apply, run_id=run_id)
        ),
    )
    return report


def _stage(report: CycleReport, name: str, work: Callable[[], Any]) -> None:
    try:
        work()
    except (CostrailError, OSError, ValueError, ArithmeticError, LookupError) as error:
        log.warning("%s failed: %s", name, error)
        report.errors[name] = f"{type(error).__name__}: {error}"


def _analyse(warehouse: Warehouse, report: CycleReport) -> None:
    from costrail.analyses import context_for, run
    from costrail.analyses.store import save_findings

    findings = run(context_for(warehouse.costs(), warehouse.engine))
    save_findings(warehouse, findings)
    report.findings = len(findings)


def _budget(costs: Any, budget: Any, day: date, report: CycleReport) -> None:
    report.statuses.append(evaluate(costs, budget, day))


def _anomalies(costs: Any, policy: Policy, day: date, report: CycleReport) -> list[Alert]:
    from costrail.timeseries import AnomalySettings, detect_anomalies

    since = day - timedelta(days=policy.alerts.anomalies.lookback_days - 1)
    found: list[Any] = []
    for by in [None, *([[name] for name in policy.alerts.anomalies.by])]:
        found += detect_anomalies(costs, AnomalySettings(), by=by, since=since).anomalies
    report.anomalies = len(found)
    return anomaly_alerts(found, policy.alerts)


def _deliver(
    alerts: list[Alert],
    policy: Policy,
    state: PolicyState,
    sleep: Callable[[float], None],
    report: CycleReport,
) -> None:
    report.delivery = deliver(alerts, policy.alerts, state, sleep=sleep)


class StopFlag:
    """Set by SIGINT/SIGTERM; the loop finishes the current cycle's stage and exits."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received signal %d; stopping after this cycle", signum)
        self.event.set()


def watch_loop(
    cycle: Callable[[], CycleReport],
    every_s: float,
    *,
    once: bool,
    stop: StopFlag,
    on_report: Callable[[CycleReport], None],
) -> None:
    """Run `cycle` now and every `every_s` seconds (measured start to start) until stopped."""
    while not stop.event.is_set():
        started = time.monotonic()
        on_report(cycle())
        if once:
            return
        stop.event.wait(max(0.0, every_s - (time.monotonic() - started)))
