"""Runaway LLM traffic: retry storms and loops, and sudden spend spikes, per API key.

A loop is one key sending the same prompt prefix at a machine's pace (≥ 30 a minute by default);
a retry storm is a minute of mostly errors and their retries. A spike is an hour of a key's
spend far above its mean active hour over the previous 7 days. The monthly saving is the cost
of the excess — every storm-minute request beyond the first with that prefix, and spike-hour
spend above the baseline — scaled to 30 days: traffic a loop guard or a budget would have
stopped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, Thresholds, analyses
from costrail.analyses.llm_common import (
    LlmWindow,
    key_resource,
    llm_findings,
    money,
    window_evidence,
)
from costrail.findings import Finding, Remediation
from costrail.schema.costs import MONEY

KIND = "llm_runaway"
BASELINE_HOURS = 7 * 24
#: a key younger than this, or with fewer active hours before, has no baseline to spike against
MIN_HISTORY_HOURS = 24
MIN_ACTIVE_HOURS = 3


def _last_prefix(table: ir.Table) -> ir.StringValue:
    hashes = table.prefix_hashes
    last: ir.StringValue = (hashes.length() > 0).ifelse(
        hashes[hashes.length() - 1], ibis.null("string")
    )
    return last


def storm_minutes(window: LlmWindow, thresholds: Thresholds) -> list[dict[str, Any]]:
    """Minutes in which one key sent one prefix in a loop, or mostly errors and retries."""
    table = window.requests
    ok = table.status.isnull() | (table.status == "ok")
    table = table.mutate(
        _prefix=_last_prefix(table).fill_null("(none)"),
        _minute=(table.time.epoch_seconds() // 60).cast("int64"),
        _error=(~ok).cast("int64"),
        _cost=table.cost_usd.fill_null(0).cast(MONEY),
    )
    minutes = table.group_by(["api_key", "provider", "model", "_prefix", "_minute"]).aggregate(
        requests=table.count(),
        errors=table._error.sum(),
        cost_usd=table._cost.sum(),
        first_seen=table.time.min(),
        last_seen=table.time.max(),
    )
    rate = thresholds.llm_storm_requests_per_minute
    is_loop = (minutes._prefix != "(none)") & (minutes.requests >= rate)
    is_retry_storm = (minutes.errors * 3 >= rate) & (minutes.errors * 2 >= minutes.requests)
    rows: list[dict[str, Any]] = minutes.filter(is_loop | is_retry_storm).to_pyarrow().to_pylist()
    return rows


def spike_hours(window: LlmWindow, thresholds: Thresholds) -> list[dict[str, Any]]:
    """Hours whose spend on a key is far above its mean active hour over the previous 7 days."""
    table = window.requests
    table = table.mutate(
        _hour=(table.time.epoch_seconds() // 3600).cast("int64"),
        _cost=table.cost_usd.fill_null(0).cast(MONEY),
    )
    hours = table.group_by(["api_key", "_hour"]).aggregate(
        cost_usd=table._cost.sum(),
        requests=table.count(),
        provider=table.provider.max(),
    )
    trailing = ibis.range_window(
        group_by="api_key", order_by="_hour", preceding=BASELINE_HOURS, following=0
    )
    first_hour = hours._hour.min().over(ibis.window(group_by="api_key"))
    # the key's active hours in [h-168, h), i.e. the range [h-168, h] less hour h itself
    prior_hours = hours.count().over(trailing) - 1
    prior_usd = hours.cost_usd.sum().over(trailing) - hours.cost_usd
    hours = hours.mutate(
        baseline_usd=(prior_hours > 0).ifelse(
            (prior_usd / prior_hours).cast(MONEY), ibis.null(MONEY)
        ),
        prior_active_hours=prior_hours,
        history_hours=hours._hour - first_hour,
    )
    spikes = hours.filter(
        hours.history_hours >= MIN_HISTORY_HOURS,
        hours.prior_active_hours >= MIN_ACTIVE_HOURS,
        hours.cost_usd >= hours.baseline_usd * float(thresholds.llm_spike_multiple),
        hours.cost_usd - hours.baseline_usd >= float(thresholds.llm_spike_min_excess_usd),
    )
    rows: list[dict[str, Any]] = spikes.to_pyarrow().to_pylist()
    return rows


def _per_key(
    storms: list[dict[str, Any]], spikes: list[dict[str, Any]]
) -> dict[str | None, dict[str, Any]]:
    keys: dict[str | None, dict[str, Any]] = defaultdict(
        lambda: {"storm": [], "spike": [], "storm_hours": set()}
    )
    for row in storms:
        keys[row["api_key"]]["storm"].append(row)
        keys[row["api_key"]]["storm_hours"].add(int(row["_minute"]) // 60)
    for row in spikes:
        if int(row["_hour"]) not in keys[row["api_key"]]["storm_hours"]:
            keys[row["api_key"]]["spike"].append(row)
    return keys


def _storm_excess_usd(row: dict[str, Any]) -> Decimal:
    """A loop's minute costs all its requests but the first; errors are usually unbilled."""
    requests = int(row["requests"])
    cost = Decimal(row["cost_usd"] or 0)
    return cost * (requests - 1) / requests if requests else Decimal(0)


def _finding(
    window: LlmWindow, thresholds: Thresholds, api_key: str | None, found: dict[str, Any]
) -> Finding | None:
    storms, spikes = found["storm"], found["spike"]
    storm_usd = sum((_storm_excess_usd(r) for r in storms), Decimal(0))
    spike_usd = sum(
        (Decimal(r["cost_usd"]) - Decimal(r["baseline_usd"]) for r in spikes), Decimal(0)
    )
    monthly = money(window.monthly(storm_usd + spike_usd))
    if monthly < thresholds.min_monthly_savings_usd:
        return None
    times: list[datetime] = [r["first_seen"] for r in storms] + [r["last_seen"] for r in storms]
    storm_requests = sum(int(r["requests"]) for r in storms)
    errors = sum(int(r["errors"]) for r in storms)
    providers = [r["provider"] for r in storms] + [r["provider"] for r in spikes]
    prefixes = sorted({r["_prefix"] for r in storms})
    what = "retry storm / loop" if storms else "spend spike"
    return Finding(
        kind=KIND,
        title=f"Runaway traffic on key {api_key}: {what}, ${money(storm_usd + spike_usd):,} "
        "of excess spend",
        provider=max(set(providers), key=providers.count),
        resources=(key_resource(api_key),),
        monthly_savings_usd=monthly,
        confidence="high" if storms else "medium",
        confidence_reason=(
            f"{storm_requests:,} requests in {len(storms)} minutes at ≥ "
            f"{thresholds.llm_storm_requests_per_minute}/min with the same prompt prefix"
            if storms
            else f"{len(spikes)} hours at ≥ {thresholds.llm_spike_multiple}× the key's "
            "mean active hour over the previous 7 days; may be a legitimate launch — "
            "confirm with the owner"
        ),
        remediation=Remediation(
            action="Stop the loop (cap retries with exponential backoff and a retry budget; "
            "break agent loops after N identical calls) and put a budget and rate limit on the "
            "key in the costrail guard so the next one is refused, not billed.",
            snippet=(
                "# costrail.yaml\n"
                "guard:\n"
                "  budgets:\n"
                f'    - {{key: "{api_key}", period: day, limit_usd: 50}}\n'
                "  rate_limits:\n"
                f'    - {{key: "{api_key}", requests_per_minute: 20}}'
            ),
            snippet_kind="yaml",
        ),
        scope={"api_key": api_key or "(none)"},
        evidence={
            **window_evidence(window),
            "storm_minutes": len(storms),
            "storm_requests": storm_requests,
            "storm_errors": errors,
            "storm_peak_requests_per_minute": max((int(r["requests"]) for r in storms), default=0),
            "storm_excess_usd": money(storm_usd),
            "storm_prefixes": prefixes[:5],
            "first_seen": min(times) if times else None,
            "last_seen": max(times) if times else None,
            "spike_hours": [
                {
                    "hour_start": datetime.fromtimestamp(int(r["_hour"]) * 3600, UTC),
                    "cost_usd": money(Decimal(r["cost_usd"])),
                    "baseline_usd": money(Decimal(r["baseline_usd"])),
                    "requests": int(r["requests"]),
                }
                for r in sorted(spikes, key=lambda r: r["_hour"])[:24]
            ],
            "spike_excess_usd": money(spike_usd),
        },
        assumptions={
            "storm_requests_per_minute": thresholds.llm_storm_requests_per_minute,
            "spike_multiple": thresholds.llm_spike_multiple,
            "spike_min_excess_usd": thresholds.llm_spike_min_excess_usd,
            "baseline": "the key's mean spend per active hour (an hour with any request) over "
            "the previous 7 days, so nightly jobs and office-hours apps are judged against "
            "their own busy hours",
            "excess": "storm minutes: all requests but the first; spike hours: spend above "
            "the baseline (hours holding a storm counted once, as storm)",
        },
    )


def _findings(window: LlmWindow, thresholds: Thresholds) -> list[Finding | None]:
    keys = _per_key(storm_minutes(window, thresholds), spike_hours(window, thresholds))
    return [_finding(window, thresholds, key, found) for key, found in keys.items()]


@analyses.register(KIND)
def llm_runaway(context: AnalysisContext) -> list[Finding]:
    """Per API key: the cost of its loops, retry storms and spend spikes."""
    return llm_findings(context, _findings)
