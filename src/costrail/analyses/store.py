"""Persist findings in the warehouse with the run that produced them, so they can be tracked."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from costrail.findings import Finding
from costrail.schema.costs import MONEY, TIMESTAMP
from costrail.warehouse.store import Warehouse

FINDINGS_SCHEMA = ibis.schema(
    {
        "run_id": dt.string,
        "created_at": TIMESTAMP,
        "kind": dt.string,
        "provider": dt.string,
        "title": dt.string,
        "resources": dt.string,  # JSON list
        "monthly_savings_usd": MONEY,
        "confidence": dt.string,
        "finding": dt.string,  # the whole finding as JSON
    }
)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("run-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]


def save_findings(warehouse: Warehouse, findings: list[Finding]) -> str:
    """Append this run's findings to the `findings` table; returns the run id."""
    run_id = new_run_id()
    created_at = datetime.now(UTC)
    rows = [
        {
            "run_id": run_id,
            "created_at": created_at,
            "kind": finding.kind,
            "provider": finding.provider,
            "title": finding.title,
            "resources": json.dumps(list(finding.resources)),
            "monthly_savings_usd": finding.monthly_savings_usd,
            "confidence": finding.confidence,
            "finding": finding.to_json(),
        }
        for finding in findings
    ]
    table = pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA.to_pyarrow())
    warehouse.append("findings", table, FINDINGS_SCHEMA)
    return run_id
