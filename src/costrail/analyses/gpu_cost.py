"""GPU telemetry summarised per GPU (in Ibis) and joined to what each GPU-hour costs.

Every GPU analysis starts here: `gpu_usage(context)` turns `gpu_samples` into hourly buckets
per GPU (portable Ibis: DuckDB and Spark), finds runs of idle / zombie hours with the
gaps-and-islands trick (hour index minus a row number over the same flag is constant along a
run of consecutive hours), and brings one summary row per GPU to Python. `host_prices` then
prices each host: billed effective cost ÷ billed hours ÷ GPU count when a bill covers it,
else the cheapest on-demand $/GPU-hour for the GPU model in the shipped catalogs (or the
configured default), and says which.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import ibis
import ibis.expr.types as ir

from costrail.analyses.always_on import HOUR_UNITS, HOURS_TYPE, SECOND_UNITS, first_tag
from costrail.analyses.base import AnalysisContext, Thresholds
from costrail.gpu.specs import GpuSpec, gpu_specs, resolve_spec
from costrail.pricing.gpu_offers import GpuOffer, all_gpu_offers
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.tags import PROJECT_TAG_KEYS, TEAM_TAG_KEYS
from costrail.warehouse.store import Warehouse

#: the busy signals in their order of truth, with how to read each as a 0..1 fraction
SIGNALS = ("sm_active", "tensor_active", "gr_engine_active", "gpu_util")
#: clouds whose catalogs price a host that no bill covers (marketplaces left out: a bill there
#: is not what an unbilled fleet GPU costs)
CATALOG_CLOUDS = ("aws", "azure", "gcp")
#: compute slices of a whole A100/H100/H200 in MIG profiles ("3g.40gb" is 3 of 7)
MIG_SLICES = 7
HOUR_S = 3600


@dataclass(frozen=True)
class GpuUsage:
    """One GPU (or MIG instance) over the analysed span, from its hourly buckets."""

    host: str
    gpu_id: str
    gpu_index: int | None
    instance_id: str | None
    gpu_model: str | None
    mig_profile: str | None
    namespace: str | None
    pod: str | None
    observed_hours: int
    first_hour: datetime
    last_hour: datetime
    signal: str | None
    mean_busy: float | None
    p95_busy: float | None
    peak_memory_mib: float | None
    memory_total_mib: float | None
    idle_hours: int
    zombie_hours: int
    busy_hours: float

    @property
    def label(self) -> str:
        index = "?" if self.gpu_index is None else str(self.gpu_index)
        return f"{self.host}/gpu{index}" + (f"/{self.mig_profile}" if self.mig_profile else "")

    @property
    def slice_fraction(self) -> Decimal:
        """Share of a whole GPU this row stands for (1 unless a MIG instance)."""
        match = re.match(r"^(\d+)g\.", self.mig_profile or "")
        return Decimal(int(match.group(1))) / MIG_SLICES if match else Decimal(1)


@dataclass(frozen=True)
class HostPrice:
    """What one GPU-hour on a host costs, and where that figure comes from."""

    usd_per_gpu_hour: Decimal | None
    source: str
    resource_id: str
    provider: str
    gpu_count: int | None = None
    billed_gpu_hours: Decimal | None = None
    instance_type: str | None = None
    region: str | None = None
    scope: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """The time the GPU analyses judge: telemetry inside the costs window, or the telemetry's
    own newest `lookback_days` when no bill overlaps it (telemetry-only warehouses)."""

    start: datetime
    end: datetime


def telemetry_span(context: AnalysisContext) -> Span | None:
    samples = context.gpu_samples
    if samples is None:
        return None
    bounds = samples.aggregate(first=samples.time.min(), last=samples.time.max()).to_pyarrow()
    first, last = bounds["first"][0].as_py(), bounds["last"][0].as_py()
    if first is None or last is None:
        return None
    first, last = _naive(first), _naive(last) + timedelta(seconds=1)
    start, end = _naive(context.window_start), _naive(context.window_end)
    if first < end and last > start:
        return Span(max(first, start), min(last, end))
    lookback = timedelta(days=context.thresholds.lookback_days)
    return Span(max(first, last - lookback), last)


def _naive(moment: datetime) -> datetime:
    """UTC wall time without a zone (the warehouse's timestamps are UTC)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def hourly(samples: ir.Table, span: Span, thresholds: Thresholds) -> ir.Table:
    """One row per GPU and UTC hour: mean of each busy signal, peak memory, idle/zombie flags."""
    rows = samples.filter(samples.time >= _utc(span.start), samples.time < _utc(span.end))
    rows = rows.mutate(
        gpu_id=ibis.coalesce(rows.gpu_uuid, rows.gpu_index.cast("string"), ibis.literal("?"))
        + ibis.literal("|")
        + rows.mig_instance_id.fill_null(""),
        hour=rows.time.truncate("h"),
        gpu_util=rows.gpu_util_pct / 100.0,
    )
    busy = ibis.coalesce(*(rows[name] for name in SIGNALS))
    rows = rows.mutate(busy=busy)
    grouped = rows.group_by("host", "gpu_id", "hour").aggregate(
        gpu_index=rows.gpu_index.max(),
        instance_id=rows.instance_id.max(),
        gpu_model=rows.gpu_model.max(),
        mig_profile=rows.mig_profile.max(),
        namespace=rows.namespace.max(),
        pod=rows.pod.max(),
        busy=rows.busy.mean(),
        memory_used_mib=rows.memory_used_mib.max(),
        memory_total_mib=rows.memory_total_mib.max(),
        process_count=rows.process_count.max(),
        **{name: rows[name].mean() for name in SIGNALS},
    )
    idle = grouped.busy.fill_null(0) < thresholds.gpu_idle_busy_pct / 100.0
    zombie = (
        grouped.pod.notnull()
        & (grouped.pod != "")
        & (grouped.memory_used_mib.fill_null(0) <= thresholds.gpu_zombie_memory_mib)
        & (grouped.busy.fill_null(0) < thresholds.gpu_idle_busy_pct / 100.0)
        & (grouped.process_count.fill_null(0) == 0)
    )
    return grouped.mutate(
        hour_index=(grouped.hour.epoch_seconds() // HOUR_S).cast("int64"),
        is_zombie=zombie,
        is_idle=idle & ~zombie,
    )


def _run_hours(hours: ir.Table, flag: str, min_hours: int) -> ir.Table:
    """Per GPU, the hours flagged `flag` that lie in runs of at least `min_hours` in a row."""
    window = ibis.window(
        group_by=[hours.host, hours.gpu_id, hours[flag]], order_by=hours.hour_index
    )
    islands = hours.mutate(island=hours.hour_index - ibis.row_number().over(window))
    runs = islands.group_by("host", "gpu_id", flag, "island").aggregate(run_hours=islands.count())
    long_runs = runs.filter(runs[flag], runs.run_hours >= min_hours)
    return long_runs.group_by("host", "gpu_id").aggregate(
        **{f"{flag}_hours": long_runs.run_hours.sum()}
    )


def gpu_summary(hours: ir.Table, thresholds: Thresholds) -> ir.Table:
    """One row per GPU: observed hours, signal means and p95s, peak memory, idle/zombie hours."""
    per_gpu = hours.group_by("host", "gpu_id").aggregate(
        gpu_index=hours.gpu_index.max(),
        instance_id=hours.instance_id.max(),
        gpu_model=hours.gpu_model.max(),
        mig_profile=hours.mig_profile.max(),
        namespace=hours.namespace.max(),
        pod=hours.pod.max(),
        observed_hours=hours.count(),
        first_hour=hours.hour.min(),
        last_hour=hours.hour.max(),
        peak_memory_mib=hours.memory_used_mib.max(),
        memory_total_mib=hours.memory_total_mib.max(),
        busy_hours=hours.busy.sum(),
        **{f"{name}_n": hours[name].count() for name in SIGNALS},
        **{f"{name}_mean": hours[name].mean() for name in SIGNALS},
        **{f"{name}_p95": hours[name].approx_quantile(0.95) for name in SIGNALS},
    )
    idle = _run_hours(hours, "is_idle", thresholds.gpu_idle_min_hours)
    zombie = _run_hours(hours, "is_zombie", thresholds.gpu_zombie_min_hours)
    joined = per_gpu.left_join(idle, ["host", "gpu_id"]).select(per_gpu, idle.is_idle_hours)
    return joined.left_join(zombie, ["host", "gpu_id"]).select(joined, zombie.is_zombie_hours)


#: the last context summarised and its result: `run()` hands the same context to every GPU
#: analysis, so the telemetry is aggregated once per run, not once per analysis
_LAST: list[tuple[AnalysisContext, Any]] = []


def _remembered(context: AnalysisContext, name: str) -> Any:
    for seen, value in _LAST:
        if seen is context and name in value:
            return value[name]
    return None


def _remember(context: AnalysisContext, name: str, result: Any) -> Any:
    if not _LAST or _LAST[0][0] is not context:
        _LAST[:] = [(context, {})]
    _LAST[0][1][name] = result
    return result


def gpu_samples_of(warehouse: Warehouse) -> ir.Table | None:
    """The warehouse's `gpu_samples` table, or None when it holds no sample (so the GPU
    analyses stay silent on a bills-only warehouse)."""
    table = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA)
    return table if int(table.count().to_pyarrow().as_py()) > 0 else None


def gpu_usage(context: AnalysisContext) -> tuple[Span | None, list[GpuUsage]]:
    """The span judged and one `GpuUsage` per GPU in it (empty without telemetry)."""
    known = _remembered(context, "usage")
    if known is not None:
        return known  # type: ignore[no-any-return]
    return _remember(context, "usage", _gpu_usage(context))  # type: ignore[no-any-return]


def _gpu_usage(context: AnalysisContext) -> tuple[Span | None, list[GpuUsage]]:
    span = telemetry_span(context)
    if span is None or context.gpu_samples is None:
        return span, []
    summary = gpu_summary(hourly(context.gpu_samples, span, context.thresholds), context.thresholds)
    rows = summary.order_by("host", "gpu_id").to_pyarrow().to_pylist()
    return span, [_usage(row) for row in rows]


def _usage(row: dict[str, Any]) -> GpuUsage:
    signal = next((name for name in SIGNALS if row[f"{name}_n"]), None)
    return GpuUsage(
        host=row["host"],
        gpu_id=row["gpu_id"],
        gpu_index=row["gpu_index"],
        instance_id=row["instance_id"],
        gpu_model=row["gpu_model"],
        mig_profile=row["mig_profile"],
        namespace=row["namespace"] or None,
        pod=row["pod"] or None,
        observed_hours=int(row["observed_hours"]),
        first_hour=_naive(row["first_hour"]),
        last_hour=_naive(row["last_hour"]),
        signal=signal,
        mean_busy=None if signal is None else row[f"{signal}_mean"],
        p95_busy=None if signal is None else row[f"{signal}_p95"],
        peak_memory_mib=row["peak_memory_mib"],
        memory_total_mib=row["memory_total_mib"],
        idle_hours=int(row["is_idle_hours"] or 0),
        zombie_hours=int(row["is_zombie_hours"] or 0),
        busy_hours=float(row["busy_hours"] or 0.0),
    )


# --- which bill covers a host ---------------------------------------------------------------


def host_key(name: str | None) -> str | None:
    """A host or resource as a join key: the last path segment, its first DNS label, lowercase.

    `/subscriptions/…/virtualMachines/Atlas-1` → `atlas-1`; `i-0abc.ec2.internal` → `i-0abc`;
    a GCP `//compute.googleapis.com/…/instances/gke-x` → `gke-x`.
    """
    if not name:
        return None
    last = name.rstrip("/").split("/")[-1]
    if last.startswith("i-") or "." in last:
        last = last.split(".")[0]
    return last.lower() or None


def billed_resources(context: AnalysisContext, span: Span) -> dict[str, HostPrice]:
    """GPU resources billed during the span, by `host_key` of their ResourceId and name."""
    costs = context.costs
    start = span.start.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = costs.filter(
        costs.ResourceId.notnull(),
        costs.ChargeCategory.isin(("Usage", "Credit")),
        costs.ChargePeriodStart >= _utc(start),
        costs.ChargePeriodStart < _utc(span.end),
        costs.x_GpuModel.notnull() | (costs.x_GpuCount.fill_null(0) > 0),
    )
    rows = rows.mutate(
        _team=first_tag(rows.Tags, TEAM_TAG_KEYS), _project=first_tag(rows.Tags, PROJECT_TAG_KEYS)
    )
    per_resource = rows.group_by("ResourceId").aggregate(
        name=rows.ResourceName.max(),
        provider=rows.x_Provider.max(),
        account=rows.SubAccountId.max(),
        region=rows.RegionId.max(),
        instance_type=rows.x_InstanceType.max(),
        gpu_count=rows.x_GpuCount.max(),
        team=rows._team.max(),
        project=rows._project.max(),
        cost_usd=rows.EffectiveCost.sum(),
    )
    billed_hours = billed_hours_per_resource(rows.filter(rows.ChargeCategory == "Usage"))
    joined = per_resource.inner_join(billed_hours, "ResourceId")
    found: dict[str, HostPrice] = {}
    for row in joined.to_pyarrow().to_pylist():
        price = _billed_price(row)
        for key in {host_key(row["ResourceId"]), host_key(row["name"])} - {None}:
            found[str(key)] = price
    return found


def billed_hours_per_resource(usage: ir.Table) -> ir.Table:
    """Hours each resource was billed: per charge period the largest positive hour-like
    quantity, capped at the period's length (a Savings Plan negation row bills no hours; a GCP
    vCPU-seconds SKU caps to the period), summed over periods."""
    unit = usage.ConsumedUnit.lower()
    quantity = usage.ConsumedQuantity.cast("float64")
    hours = ibis.cases(
        (unit.isin(HOUR_UNITS), quantity),
        (unit.isin(SECOND_UNITS), quantity / HOUR_S),
        else_=ibis.null("float64"),
    )
    period_hours = (
        usage.ChargePeriodEnd.epoch_seconds() - usage.ChargePeriodStart.epoch_seconds()
    ).cast("float64") / HOUR_S
    rows = usage.mutate(_hours=hours, _period_hours=period_hours)
    rows = rows.filter(rows._hours.isnull() | (rows._hours > 0))
    per_period = rows.group_by("ResourceId", "ChargePeriodStart").aggregate(
        quantity_hours=rows._hours.max(), period_hours=rows._period_hours.max()
    )
    capped = ibis.least(
        per_period.quantity_hours.fill_null(per_period.period_hours), per_period.period_hours
    )
    per_period = per_period.mutate(hours=capped.round(6).cast(HOURS_TYPE))
    return per_period.group_by("ResourceId").aggregate(billed_hours=per_period.hours.sum())


def _billed_price(row: dict[str, Any]) -> HostPrice:
    count = int(row["gpu_count"] or 0)
    hours = Decimal(row["billed_hours"] or 0)
    cost = Decimal(row["cost_usd"] or 0)
    per_gpu_hour = cost / hours / count if count and hours else None
    scope = {
        key: str(row[key]) for key in ("account", "team", "project") if row.get(key) is not None
    }
    return HostPrice(
        usd_per_gpu_hour=per_gpu_hour,
        source="billed",
        resource_id=row["ResourceId"],
        provider=row["provider"] or "unknown",
        gpu_count=count or None,
        billed_gpu_hours=hours * count if count else None,
        instance_type=row["instance_type"],
        region=row["region"],
        scope=scope,
    )


# --- GPU models, specs and catalog prices ---------------------------------------------------

_MODEL_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"b200", "B200"),
    (r"gh200", "GH200"),
    (r"h200", "H200-SXM"),
    (r"h100.*nvl", "H100-NVL"),
    (r"h100.*pcie", "H100-PCIe"),
    (r"h100", "H100-SXM"),
    (r"a100.*80gb.*pcie|a100.*pcie.*80gb", "A100-80GB-PCIe"),
    (r"a100.*80gb", "A100-80GB-SXM"),
    (r"a100.*pcie", "A100-40GB-PCIe"),
    (r"a100", "A100-40GB-SXM"),
    (r"l40s", "L40S"),
    (r"\bl4\b", "L4"),
    (r"a10g", "A10G"),
    (r"\ba10\b", "A10"),
    (r"\bt4\b", "T4"),
    (r"v100.*32gb", "V100-SXM2-32GB"),
    (r"v100", "V100-SXM2-16GB"),
)


def spec_id_for(model_name: str | None, default: str | None = None) -> str | None:
    """The `gpu/specs.py` id for a model name as DCGM / nvidia-smi report it ("NVIDIA H100 80GB
    HBM3", "Tesla T4", "NVIDIA A100-SXM4-40GB"), or `default` (a spec id) when unknown."""
    text = (model_name or "").lower()
    for pattern, spec_id in _MODEL_PATTERNS:
        if text and re.search(pattern, text) and spec_id in gpu_specs():
            return spec_id
    return default


@dataclass(frozen=True)
class GpuOfferPrice:
    """One catalog offer seen as a price per GPU-hour of a known spec."""

    spec: GpuSpec
    usd_per_gpu_hour: Decimal
    offer: GpuOffer

    @property
    def label(self) -> str:
        return f"{self.offer.cloud} {self.offer.instance_type} {self.offer.region}"


@cache
def catalog_gpu_prices(clouds: tuple[str, ...] = CATALOG_CLOUDS) -> tuple[GpuOfferPrice, ...]:
    """Every on-demand catalog offer of `clouds` with a known spec, per GPU-hour, cheapest first."""
    specs = gpu_specs()
    priced: list[GpuOfferPrice] = []
    for offer in all_gpu_offers(clouds):
        per_gpu_mib = offer.gpu_memory_mib // offer.gpu_count if offer.gpu_memory_mib else None
        spec_id = resolve_spec(offer.cloud, offer.instance_type, offer.gpu_model, per_gpu_mib)
        if spec_id is None or spec_id not in specs or offer.gpu_count < 1:
            continue
        per_gpu = offer.on_demand_usd_per_hour / offer.gpu_count
        priced.append(GpuOfferPrice(specs[spec_id], per_gpu, offer))
    return tuple(sorted(priced, key=lambda p: (p.usd_per_gpu_hour, p.label)))


def catalog_price(spec_id: str | None, thresholds: Thresholds) -> tuple[Decimal | None, str]:
    """$/GPU-hour for a GPU no bill covers: the configured price, else the catalog's cheapest."""
    if thresholds.gpu_default_usd_per_gpu_hour is not None:
        return (
            thresholds.gpu_default_usd_per_gpu_hour,
            "configured: --gpu-price / gpu.default_usd_per_gpu_hour",
        )
    for offer in catalog_gpu_prices():
        if offer.spec.spec_id == spec_id:
            return offer.usd_per_gpu_hour, f"catalog: {offer.label}"
    return None, f"missing price: no catalog offer for GPU {spec_id or 'of unknown model'}"


def host_prices(
    context: AnalysisContext, span: Span, usages: list[GpuUsage]
) -> dict[str, HostPrice]:
    """A `HostPrice` for every host in `usages`: billed when a bill covers it, else catalog."""
    known = _remembered(context, "prices")
    if known is not None:
        return known  # type: ignore[no-any-return]
    return _remember(context, "prices", _host_prices(context, span, usages))  # type: ignore[no-any-return]


def _host_prices(
    context: AnalysisContext, span: Span, usages: list[GpuUsage]
) -> dict[str, HostPrice]:
    billed = billed_resources(context, span)
    prices: dict[str, HostPrice] = {}
    for usage in usages:
        if usage.host in prices:
            continue
        keys = [host_key(usage.instance_id), host_key(usage.host)]
        match = next((billed[k] for k in keys if k is not None and k in billed), None)
        if match is not None and match.usd_per_gpu_hour is not None:
            prices[usage.host] = match
            continue
        spec_id = spec_id_for(usage.gpu_model, context.thresholds.gpu_default_model)
        price, source = catalog_price(spec_id, context.thresholds)
        prices[usage.host] = HostPrice(
            usd_per_gpu_hour=price,
            source=source,
            resource_id=usage.instance_id or usage.host,
            provider=match.provider if match else "unknown",
            gpu_count=None,
        )
    return prices


# --- shared arithmetic and evidence ---------------------------------------------------------


def monthly_factor(usages: list[GpuUsage]) -> Decimal:
    """30 days ÷ the days a host's telemetry spans (its first to its last hour, inclusive)."""
    first = min(u.first_hour for u in usages)
    last = max(u.last_hour for u in usages)
    hours = Decimal(int((last - first).total_seconds() // HOUR_S) + 1)
    return Decimal(30 * 24) / hours


def by_host(usages: list[GpuUsage]) -> dict[str, list[GpuUsage]]:
    hosts: dict[str, list[GpuUsage]] = {}
    for usage in usages:
        hosts.setdefault(usage.host, []).append(usage)
    return hosts


def usd(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def host_evidence(usages: list[GpuUsage], price: HostPrice, span: Span) -> dict[str, Any]:
    """The figures every GPU finding carries: GPU-hours billed / busy / idle, signal, price."""
    observed = sum(u.observed_hours for u in usages)
    busy = sum(u.busy_hours for u in usages)
    signals = sorted({u.signal for u in usages if u.signal})
    return {
        "host": usages[0].host,
        "span_start": span.start,
        "span_end": span.end,
        "observed_gpu_hours": observed,
        "billed_gpu_hours": price.billed_gpu_hours,
        "busy_gpu_hours": round(busy, 2),
        "idle_gpu_hours": sum(u.idle_hours + u.zombie_hours for u in usages),
        "busy_signal": signals[0] if len(signals) == 1 else signals,
        "price_usd_per_gpu_hour": (
            None
            if price.usd_per_gpu_hour is None
            else price.usd_per_gpu_hour.quantize(Decimal("0.0001"))
        ),
        "price_source": price.source,
        "instance_type": price.instance_type,
        "gpu_model": usages[0].gpu_model,
    }


def scope_of(usages: list[GpuUsage], price: HostPrice) -> dict[str, str]:
    scope = dict(price.scope)
    namespaces = sorted({u.namespace for u in usages if u.namespace})
    pods = sorted({u.pod for u in usages if u.pod})
    if namespaces:
        scope["namespace"] = ", ".join(namespaces)
    if pods:
        scope["pod"] = ", ".join(pods)
    return scope


def warnings_for(price: HostPrice) -> tuple[str, ...]:
    if price.usd_per_gpu_hour is None:
        return (
            f"{price.source}: pass --gpu-model or --gpu-price (or set gpu.default_model / "
            "gpu.default_usd_per_gpu_hour in costrail.yaml) to price this host",
        )
    return ()


def ceil_div(numerator: float, denominator: float) -> int:
    return max(1, math.ceil(numerator / denominator - 1e-9))
