"""Alert and action state in the warehouse: what was sent (once, across restarts) and what acted.

Both tables are append-only logs (`Warehouse.append`), so the history of every attempt stays
readable; "already sent" is simply "a `sent` row exists for this key".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from costrail.schema.costs import TIMESTAMP
from costrail.warehouse.store import Warehouse

ALERTS_TABLE = "alerts"
ACTION_AUDIT_TABLE = "action_audit"

ALERTS_SCHEMA = ibis.schema(
    {
        "alert_key": dt.string,  # subject|threshold|period|channel
        "subject": dt.string,  # budget:<name> or anomaly:<scope>
        "threshold": dt.string,  # actual:80, forecast:100, anomaly
        "period": dt.string,  # 2026-09-01..2026-09-30, or the anomaly's first day
        "channel": dt.string,
        "status": dt.string,  # sent | failed
        "attempts": dt.int32,
        "at": TIMESTAMP,
        "summary": dt.string,
        "error": dt.string,
    }
)

ACTION_AUDIT_SCHEMA = ibis.schema(
    {
        "run_id": dt.string,
        "at": TIMESTAMP,
        "action": dt.string,  # the name in costrail.yaml
        "action_type": dt.string,  # aws.ec2-stop, …
        "trigger": dt.string,  # budget:<name>|actual:100|<period>
        "mode": dt.string,  # dry-run | apply
        "call": dt.string,  # ec2.StopInstances, kubernetes.patch_namespaced_deployment_scale, argv
        "parameters": dt.string,  # JSON
        "outcome": dt.string,  # planned | ok | error
        "detail": dt.string,
    }
)


def alert_key(subject: str, threshold: str, period: str, channel: str) -> str:
    return "|".join((subject, threshold, period, channel))


@dataclass(frozen=True)
class AlertRecord:
    subject: str
    threshold: str
    period: str
    channel: str
    status: str
    attempts: int
    summary: str
    error: str | None = None

    @property
    def key(self) -> str:
        return alert_key(self.subject, self.threshold, self.period, self.channel)


@dataclass(frozen=True)
class AuditRecord:
    run_id: str
    action: str
    action_type: str
    trigger: str
    mode: str
    call: str
    parameters: dict[str, object]
    outcome: str
    detail: str = ""


class PolicyState:
    """Reads and appends the `alerts` and `action_audit` tables of one warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def sent_keys(self) -> set[str]:
        """Keys with a `sent` row: these never alert again."""
        table = self.warehouse.read(ALERTS_TABLE, ALERTS_SCHEMA)
        rows = table.filter(table.status == "sent").select("alert_key").distinct().to_pyarrow()
        return {str(key) for key in rows.column("alert_key").to_pylist()}

    def record_alerts(self, records: list[AlertRecord]) -> None:
        if not records:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "alert_key": record.key,
                "subject": record.subject,
                "threshold": record.threshold,
                "period": record.period,
                "channel": record.channel,
                "status": record.status,
                "attempts": record.attempts,
                "at": now,
                "summary": record.summary,
                "error": record.error,
            }
            for record in records
        ]
        table = pa.Table.from_pylist(rows, schema=ALERTS_SCHEMA.to_pyarrow())
        self.warehouse.append(ALERTS_TABLE, table, ALERTS_SCHEMA)

    def done_triggers(self, mode: str) -> set[tuple[str, str]]:
        """(action, trigger) pairs that already ran in `mode` without error."""
        table = self.warehouse.read(ACTION_AUDIT_TABLE, ACTION_AUDIT_SCHEMA)
        rows = (
            table.filter((table.mode == mode) & table.outcome.isin(["planned", "ok"]))
            .select("action", "trigger")
            .distinct()
            .to_pyarrow()
            .to_pylist()
        )
        return {(str(row["action"]), str(row["trigger"])) for row in rows}

    def record_actions(self, records: list[AuditRecord]) -> None:
        if not records:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "run_id": record.run_id,
                "at": now,
                "action": record.action,
                "action_type": record.action_type,
                "trigger": record.trigger,
                "mode": record.mode,
                "call": record.call,
                "parameters": json.dumps(record.parameters, sort_keys=True, default=str),
                "outcome": record.outcome,
                "detail": record.detail,
            }
            for record in records
        ]
        table = pa.Table.from_pylist(rows, schema=ACTION_AUDIT_SCHEMA.to_pyarrow())
        self.warehouse.append(ACTION_AUDIT_TABLE, table, ACTION_AUDIT_SCHEMA)
