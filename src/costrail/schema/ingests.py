"""The `ingests` table: one row per (load, billing period) so reconciliation is auditable."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from costrail.schema.costs import MONEY, TIMESTAMP

INGESTS_SCHEMA = ibis.schema(
    {
        "ingest_id": dt.string,
        "loaded_at": TIMESTAMP,
        "source_format": dt.string,
        "files": dt.string,  # JSON list of {"path": ..., "sha256": ..., "bytes": ...}
        "provider": dt.string,
        "billing_account_id": dt.string,
        "billing_period_start": TIMESTAMP,
        "rows": dt.int64,
        "source_total": MONEY,
        "loaded_total": MONEY,
        "currency": dt.string,
        "status": dt.string,  # "reconciled" or "replaced" (superseded by a later load)
    }
)
