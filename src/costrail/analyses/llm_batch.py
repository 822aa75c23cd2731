"""Batch-eligible LLM traffic: latency-tolerant callers paying interactive prices.

A (provider, model, feature) is batch-eligible when the configuration says its feature, user or
key tolerates batch latency (`Thresholds.llm_batch_tolerant`), or when its traffic looks machine
paced: nothing streamed, most requests outside business hours or from service accounts, and
steady arrivals (the gaps between requests vary little — people arrive at random, loops don't).
The saving is priced at each model's own batch rates from the catalog; a model without batch
prices is reported with no saving rather than an invented discount. Requests already sent
through a batch API are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.base import AnalysisContext, Thresholds, analyses
from costrail.analyses.llm_common import (
    LlmWindow,
    TokenTotals,
    catalog,
    feature_resource,
    feature_scope,
    llm_findings,
    lookup,
    money,
    python_rows,
    rate_evidence,
    rates_for,
    seen_bounds,
    token_sums,
    window_evidence,
)
from costrail.findings import Finding, Remediation

KIND = "llm_batch_eligible"
#: gaps longer than this are pauses between runs, not the pace of a run
MAX_PACE_GAP_S = 3600
SERVICE_ACCOUNT_PREFIXES = ("svc-", "svc_", "service-", "sa-", "system:serviceaccount")
SERVICE_ACCOUNT_SUFFIXES = ("-bot", "[bot]", "-svc", ".iam.gserviceaccount.com")
GROUP = ["provider", "model", "feature"]


def _is_service_account(user: ir.StringValue) -> ir.BooleanValue:
    name = user.lower()
    tests = [name.startswith(p) for p in SERVICE_ACCOUNT_PREFIXES]
    tests += [name.endswith(s) for s in SERVICE_ACCOUNT_SUFFIXES]
    result: ir.BooleanValue = ibis.or_(*tests).fill_null(False)
    return result


def _off_hours(time: ir.TimestampValue, offset_hours: int) -> ir.BooleanValue:
    local = time + ibis.interval(hours=offset_hours)
    hour = local.hour()
    weekday = local.day_of_week.index()  # Monday = 0
    result: ir.BooleanValue = (hour < 9) | (hour >= 19) | (weekday >= 5)
    return result


def _tolerant(table: ir.Table, thresholds: Thresholds) -> ir.BooleanValue:
    """Requests whose feature, user or key the configuration marks batch-tolerant."""
    tests: list[ir.BooleanValue] = []
    for entry in thresholds.llm_batch_tolerant:
        field, _, value = entry.partition("=")
        column = {"feature": "feature", "user": "user", "key": "api_key"}.get(field.strip())
        if column:
            tests.append(table[column] == value.strip())
    if not tests:
        return ibis.literal(False)
    result: ir.BooleanValue = ibis.or_(*tests).fill_null(False)
    return result


def group_rows(window: LlmWindow, thresholds: Thresholds) -> list[dict[str, Any]]:
    """Per (provider, model, feature) of unbatched requests: pace, hours, streaming, tokens."""
    table = window.requests
    table = table.filter(
        ~table.batch.fill_null(False), table.status.isnull() | (table.status == "ok")
    )
    previous = table.time.lag().over(ibis.window(group_by=GROUP, order_by="time"))
    gap_s = (table.time.epoch_seconds() - previous.epoch_seconds()).cast("float64")
    table = table.mutate(
        _gap_s=(gap_s < MAX_PACE_GAP_S).ifelse(gap_s, ibis.null("float64")),
        _off=_off_hours(table.time, thresholds.llm_local_utc_offset_hours).cast("int64"),
        _svc=_is_service_account(table.user).cast("int64"),
        _streamed=table.streamed.fill_null(False).cast("int64"),
        _tolerant=_tolerant(table, thresholds).cast("int64"),
    )
    grouped = table.group_by(GROUP).aggregate(
        requests=table.count(),
        off_hours_requests=table._off.sum(),
        service_account_requests=table._svc.sum(),
        streamed_requests=table._streamed.sum(),
        tolerant_requests=table._tolerant.sum(),
        gap_mean_s=table._gap_s.mean(),
        gap_std_s=table._gap_s.std(),
        users=table.user.nunique(),
        api_keys=table.api_key.nunique(),
        **seen_bounds(table),
        **token_sums(table),
    )
    return python_rows(grouped)


def eligibility(row: dict[str, Any], thresholds: Thresholds) -> str | None:
    """Why the group may wait for a batch (None when it should stay interactive)."""
    requests = int(row["requests"])
    if row["tolerant_requests"] and int(row["tolerant_requests"]) == requests:
        return "configured as batch-tolerant"
    if int(row["streamed_requests"] or 0) > 0 or requests < 2:
        return None
    share = Decimal(max(int(row["off_hours_requests"]), int(row["service_account_requests"])))
    mean, std = row["gap_mean_s"], row["gap_std_s"]
    if share < thresholds.llm_batch_offhours_share * requests or not mean:
        return None
    cv = Decimal(str(std or 0)) / Decimal(str(mean))
    if cv > thresholds.llm_batch_max_gap_cv:
        return None
    return (
        f"machine-paced: {share / requests:.0%} of requests outside business hours or from "
        f"service accounts, none streamed, inter-arrival gaps vary by {cv:.2f}× their mean"
    )


def _finding(
    window: LlmWindow, thresholds: Thresholds, row: dict[str, Any], reason: str
) -> Finding | None:
    price = lookup(catalog(), row["provider"], row["model"])
    if price is None or (
        price.batch_input_usd_per_token is None and price.batch_output_usd_per_token is None
    ):
        return None
    tokens, requests = TokenTotals.of(row), int(row["requests"])
    standard = rates_for(price, tokens, requests)
    batched = rates_for(price, tokens, requests, batch=True)
    saving = standard.cost_usd(tokens.usage()) - batched.cost_usd(tokens.usage())
    monthly = money(window.monthly(saving))
    if monthly < thresholds.min_monthly_savings_usd:
        return None
    provider, model, feature = row["provider"], row["model"], row["feature"]
    return Finding(
        kind=KIND,
        title=f"Batch-eligible {model} traffic ({feature or 'no feature'}): "
        f"{requests:,} requests at interactive prices",
        provider=provider,
        resources=(feature_resource(provider, model, feature),),
        monthly_savings_usd=monthly,
        monthly_cost_usd=money(window.monthly(standard.cost_usd(tokens.usage()))),
        confidence="high" if reason.startswith("configured") else "medium",
        confidence_reason=reason
        + "; confirm the callers can wait up to 24 h for results (the batch API's window)",
        remediation=Remediation(
            action="Send these requests through the provider's batch API (results within 24 h, "
            "at the batch price).",
            snippet=_snippet(provider, model),
            snippet_kind="python",
        ),
        scope=feature_scope(provider, model, feature),
        evidence={
            **window_evidence(window),
            "requests": requests,
            "off_hours_requests": int(row["off_hours_requests"]),
            "service_account_requests": int(row["service_account_requests"]),
            "streamed_requests": int(row["streamed_requests"]),
            "mean_gap_s": row["gap_mean_s"],
            "gap_std_s": row["gap_std_s"],
            "tokens": tokens.as_evidence(),
            "cost_in_window_usd": money(standard.cost_usd(tokens.usage())),
            "batch_cost_in_window_usd": money(batched.cost_usd(tokens.usage())),
            "prices": rate_evidence(price, standard, "input", "output"),
            "batch_prices": rate_evidence(price, batched, "input", "output"),
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
        },
        assumptions={
            "batch_prices": "the catalog's batch rates for this model (cache rates scaled by "
            "the same input ratio)",
            "already_batched": "requests with batch=true are excluded",
            "offhours_share": thresholds.llm_batch_offhours_share,
            "max_gap_cv": thresholds.llm_batch_max_gap_cv,
            "business_hours": "09:00–19:00 weekdays, "
            f"UTC{thresholds.llm_local_utc_offset_hours:+d}",
            "batch_tolerant": list(thresholds.llm_batch_tolerant),
        },
    )


def _snippet(provider: str, model: str) -> str:
    if provider == "anthropic":
        return (
            "client.messages.batches.create(requests=[\n"
            '    {"custom_id": job.id, "params": {"model": "'
            + model
            + '", "max_tokens": 1024, "messages": job.messages}}\n'
            "    for job in jobs\n])"
        )
    return (
        "# requests.jsonl: one {custom_id, method: POST, url: /v1/chat/completions, body} a line\n"
        'batch_file = client.files.create(file=open("requests.jsonl", "rb"), purpose="batch")\n'
        "client.batches.create(input_file_id=batch_file.id, "
        'endpoint="/v1/chat/completions", completion_window="24h")'
    )


def _findings(window: LlmWindow, thresholds: Thresholds) -> Iterator[Finding | None]:
    for row in group_rows(window, thresholds):
        reason = eligibility(row, thresholds)
        if reason is not None:
            yield _finding(window, thresholds, row, reason)


@analyses.register(KIND)
def llm_batch_eligible(context: AnalysisContext) -> list[Finding]:
    """Latency-tolerant (provider, model, feature) traffic → its saving at batch prices."""
    return llm_findings(context, _findings)
