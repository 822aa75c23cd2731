"""From budget statuses and anomalies to alerts and actions, deduplicated in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from costrail.alerts.model import Alert
from costrail.alerts.settings import AlertsSection
from costrail.config import Config, ConfigError
from costrail.policy.actions import ActionSpec, ActionsSection, run_action
from costrail.policy.budgets import Budget, BudgetsSection, BudgetStatus
from costrail.policy.state import AuditRecord, PolicyState


@dataclass(frozen=True)
class Policy:
    """The validated budgets, alerts and actions sections, cross-referenced."""

    budgets: list[Budget]
    alerts: AlertsSection
    actions: dict[str, ActionSpec]


def load_policy(config: Config) -> Policy:
    """Validated sections; every channel/action a budget names must exist (error has the line)."""
    policy = Policy(
        budgets=config.section("budgets", BudgetsSection).root,
        alerts=config.section("alerts", AlertsSection),
        actions=config.section("actions", ActionsSection).root,
    )
    where = str(config.path or "costrail.yaml")
    for index, budget in enumerate(policy.budgets):
        for key, names, known in (
            ("channels", budget.channels, policy.alerts.channels),
            ("actions", budget.actions, policy.actions),
        ):
            for position, name in enumerate(names):
                if name not in known:
                    line = config.lines.get(("budgets", index, key, position)) or config.lines.get(
                        ("budgets", index)
                    )
                    defined = ", ".join(sorted(known)) or "none"
                    section = "alerts.channels" if key == "channels" else "actions"
                    raise ConfigError(
                        f"{where}:{line}: budgets.{index}.{key}: {name!r} is not defined under "
                        f"{section} (defined: {defined})"
                    )
    for name in policy.alerts.anomalies.channels:
        if name not in policy.alerts.channels:
            raise ConfigError(f"{where}: alerts.anomalies.channels: {name!r} is not a channel")
    return policy


def budget_alerts(status: BudgetStatus) -> list[Alert]:
    """One alert per crossed threshold (actual and forecast); dedup decides what is new."""
    budget = status.budget
    alerts: list[Alert] = []
    more = f"costrail budgets check --as-of {status.as_of.isoformat()}"
    explore = f"costrail explore --by ServiceName --since {status.period_start.isoformat()}"
    for pct, day in status.crossed_actual.items():
        alerts.append(
            Alert(
                kind="budget",
                subject=f"budget:{budget.name}",
                threshold=f"actual:{pct}",
                period=status.period_label,
                title=(
                    f"Budget {budget.name}: {status.actual_pct} % used "
                    f"(crossed {pct} % of ${budget.amount:,.2f})"
                ),
                severity=_severity(pct),
                amount_usd=status.actual_usd,
                reference_usd=budget.amount,
                since=day,
                root_causes=(f"scope: {budget.scope.describe()}",),
                more_command=f"{explore}  ·  {more}",
                channels=tuple(budget.channels),
                details=status.to_dict(),
            )
        )
    for pct in status.crossed_forecast:
        assert status.forecast is not None
        alerts.append(
            Alert(
                kind="budget",
                subject=f"budget:{budget.name}",
                threshold=f"forecast:{pct}",
                period=status.period_label,
                title=(
                    f"Budget {budget.name}: forecast ${status.forecast.expected_usd:,.2f} by "
                    f"{status.period_end.isoformat()} is {status.forecast_pct} % of "
                    f"${budget.amount:,.2f} (95 % interval ${status.forecast.lo95_usd:,.2f}–"
                    f"${status.forecast.hi95_usd:,.2f})"
                ),
                severity="warning",
                amount_usd=status.forecast.expected_usd,
                reference_usd=budget.amount,
                since=status.as_of,
                root_causes=(f"scope: {budget.scope.describe()}",),
                more_command=f"{explore}  ·  {more}",
                channels=tuple(budget.channels),
                details=status.to_dict(),
            )
        )
    return alerts


def _severity(pct: Any) -> str:
    return "critical" if pct >= 100 else "warning" if pct >= 80 else "info"


def anomaly_alerts(anomalies: list[Any], settings: AlertsSection) -> list[Alert]:
    """Anomalies from `costrail.timeseries.detect_anomalies`; key = scope + first day seen."""
    channels = tuple(settings.anomalies.channels or settings.channels)
    alerts: list[Alert] = []
    for anomaly in anomalies:
        first_seen: date = getattr(anomaly, "first_seen", None) or anomaly.ds
        causes = tuple(
            f"{cause.dimension}={cause.value} ${cause.impact_usd:,.2f} ({cause.share:.0%})"
            for cause in list(anomaly.root_causes)[:3]
        )
        change_pct = float(anomaly.relative_change) * 100
        alerts.append(
            Alert(
                kind="anomaly",
                subject=f"anomaly:{anomaly.scope}",
                threshold="anomaly",
                period=first_seen.isoformat(),
                title=(
                    f"Spend anomaly in {anomaly.scope} on {_day(anomaly.ds)}: "
                    f"${anomaly.actual_usd:,.2f} vs ${anomaly.expected_usd:,.2f} expected "
                    f"({change_pct:+.0f} %)"
                ),
                severity="error",
                amount_usd=anomaly.impact_usd,
                reference_usd=anomaly.expected_usd,
                since=first_seen,
                root_causes=causes,
                more_command=(
                    f"costrail explore --by ServiceName --since {first_seen.isoformat()}"
                ),
                channels=channels,
                details={"detector": anomaly.detector, "score": str(anomaly.score)},
            )
        )
    return alerts


def _day(value: Any) -> str:
    return value.isoformat()[:10] if hasattr(value, "isoformat") else str(value)


def budget_actions(
    statuses: list[BudgetStatus],
    policy: Policy,
    state: PolicyState,
    *,
    apply: bool,
    run_id: str,
) -> list[AuditRecord]:
    """Run each due budget's actions once per (action, budget, period) and mode; audit all."""
    done = {mode: state.done_triggers(mode) for mode in ("dry-run", "apply")}
    records: list[AuditRecord] = []
    for status in statuses:
        if not status.actions_due:
            continue
        trigger = (
            f"budget:{status.budget.name}|actual:{status.budget.actions_at_pct}|"
            f"{status.period_label}"
        )
        for name in status.budget.actions:
            spec = policy.actions[name]
            mode = "apply" if apply and spec.apply else "dry-run"
            if (name, trigger) in done[mode]:
                continue
            records += run_action(name, spec, trigger, apply=apply, run_id=run_id)
    state.record_actions(records)
    return records
