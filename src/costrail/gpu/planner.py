"""The planner: the cheapest GPU, cluster size, cloud, region and pricing that fits a job.

For every offer in the price catalogs whose GPU has a spec row, the planner finds the fastest
strategy that fits (`strategies`), prices it on-demand, on spot (wall time stretched by the
expected checkpoint/restart overhead at Daly's interval, from `costrail.spot.interval`) and,
when a discount is given, under a commitment; drops what misses the deadline; keeps the cheapest
offer per (cloud, GPU, pricing); and ranks by total cost, then time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from costrail.gpu.explain import explain
from costrail.gpu.memory import lora_parameters, optimizer_bytes_per_parameter
from costrail.gpu.model_config import matmul_params_active, parameter_counts
from costrail.gpu.setup import TrainingSetup
from costrail.gpu.specs import GpuSpec, gpu_specs, resolve_spec
from costrail.gpu.strategies import Configuration, Job, best_inference, best_training
from costrail.gpu.throughput import model_flops_per_token
from costrail.pricing.gpu_offers import CLOUDS, GpuOffer, all_gpu_offers
from costrail.spot.interval import plan_checkpoints

_GIB = 2**30
_CENT = Decimal("0.01")
#: Clouds where reserved capacity / committed-use discounts exist.
COMMITMENT_CLOUDS = ("aws", "azure", "gcp")
#: Clouds whose 8-GPU machines the planner may join into multi-node clusters (fast networks).
MULTI_NODE_CLOUDS = ("aws", "azure", "gcp", "lambda")
#: Below this share of useful time (compute / wall) a spot run is not offered: it mostly restarts.
MIN_USEFUL_FRACTION = 0.2


@dataclass(frozen=True)
class PlanRequest:
    """A job plus the planner's assumptions; every default is stated in docs/plan.md."""

    job: Job
    clouds: tuple[str, ...] = CLOUDS
    gpus: tuple[str, ...] = ()
    deadline_hours: float | None = None
    spot_interruptions_per_hour: float = 0.05
    checkpoint_minutes: float | None = None
    restart_minutes: float = 10.0
    checkpoint_write_gbs: float = 1.0
    commitment_discount_pct: float | None = None
    max_nodes: int = 32
    top: int = 10


@dataclass(frozen=True)
class PlanOption:
    """One priced way to run the job. Money in USD as Decimal; hours are wall-clock."""

    cloud: str
    region: str
    instance_type: str
    gpu: str
    gpu_name: str
    gpus_per_node: int
    nodes: int
    pricing: str
    strategy: str
    precision: str
    memory_per_gpu_gib: float
    capacity_gib: float
    headroom_pct: float
    compute_hours: float
    hours: float
    usd_per_hour: Decimal
    cost_usd: Decimal
    spot_overhead_pct: float | None = None
    checkpoint_interval_hours: float | None = None
    peak_tflops: float = 0.0
    rank: int = 0

    @property
    def gpus_total(self) -> int:
        return self.gpus_per_node * self.nodes

    def as_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["gpus"] = self.gpus_total
        record["fits"] = self.headroom_pct >= 0
        for key in ("memory_per_gpu_gib", "capacity_gib", "headroom_pct", "peak_tflops"):
            record[key] = round(float(record[key]), 2)  # type: ignore[arg-type]
        for key in ("compute_hours", "hours", "spot_overhead_pct", "checkpoint_interval_hours"):
            value = record[key]
            record[key] = None if value is None else round(float(value), 2)  # type: ignore[arg-type]
        return record


@dataclass(frozen=True)
class NotFitting:
    """A GPU type on which no strategy fits: the least memory any strategy needed."""

    gpu: str
    gpus: int
    needed_gib: float
    capacity_gib: float
    strategy: str


@dataclass(frozen=True)
class Plan:
    """Ranked options (cheapest first), the rows worth showing, and why the winner wins."""

    request: PlanRequest
    parameters: int
    active_parameters: int
    flops_per_token: float
    checkpoint_minutes: float
    ranking: tuple[PlanOption, ...]
    shown: tuple[PlanOption, ...]
    too_slow: int
    not_fitting: tuple[NotFitting, ...]
    skipped_gpus: dict[str, int] = field(default_factory=dict)
    explanation: str = ""

    @property
    def winner(self) -> PlanOption | None:
        return self.ranking[0] if self.ranking else None


def _money(value: float) -> Decimal:
    return Decimal(repr(value))


def _checkpoint_minutes(request: PlanRequest, nodes: int) -> float:
    """Given, or: model states to write / (write bandwidth × machines); inference needs none."""
    if request.checkpoint_minutes is not None:
        return request.checkpoint_minutes
    job = request.job
    if job.mode == "inference":
        return 0.0
    setup = TrainingSetup(seq_len=job.seq_len, precision=job.precision, optimizer=job.optimizer)
    if job.mode == "train":
        trainable = parameter_counts(job.model).total
    else:
        trainable = lora_parameters(job.model, job.lora_rank)
    state_bytes = trainable * (2.0 + optimizer_bytes_per_parameter(job.model, setup))
    seconds = state_bytes / (request.checkpoint_write_gbs * 1e9 * nodes)
    return max(seconds, 10.0) / 60.0


def _node_counts(request: PlanRequest, offer: GpuOffer) -> tuple[int, ...]:
    if request.job.mode == "inference" or offer.gpu_count < 8:
        return (1,)
    if offer.cloud not in MULTI_NODE_CLOUDS:
        return (1,)
    return tuple(n for n in (1, 2, 4, 8, 16, 32, 64) if n <= request.max_nodes)


def _capacity_bytes(spec: GpuSpec, offer: GpuOffer) -> float:
    capacity = float(spec.memory_bytes)
    if offer.gpu_memory_mib:
        capacity = min(capacity, offer.gpu_memory_mib * 2.0**20)
    return capacity


class _Configurations:
    """Memoised best configuration per (GPU spec, GPUs per node, nodes, capacity)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.cache: dict[tuple[str, int, int, int], Configuration] = {}

    def get(self, spec: GpuSpec, gpus_per_node: int, nodes: int, capacity: float) -> Configuration:
        key = (spec.spec_id, gpus_per_node, nodes, int(capacity))
        if key not in self.cache:
            if self.job.mode == "inference":
                found = best_inference(self.job, spec, gpus_per_node, capacity)
            else:
                found = best_training(self.job, spec, gpus_per_node, nodes, capacity)
            self.cache[key] = found
        return self.cache[key]


def _priced(
    request: PlanRequest, offer: GpuOffer, config: Configuration, checkpoint_minutes: float
) -> list[PlanOption]:
    """The on-demand, spot and commitment options of one offer on one configuration."""
    base = {
        "cloud": offer.cloud,
        "region": offer.region,
        "instance_type": offer.instance_type,
        "gpu": config.spec.spec_id,
        "gpu_name": config.spec.name,
        "gpus_per_node": offer.gpu_count,
        "nodes": config.nodes,
        "strategy": config.strategy,
        "precision": config.precision,
        "memory_per_gpu_gib": config.memory.total / _GIB,
        "capacity_gib": config.capacity_bytes / _GIB,
        "headroom_pct": config.headroom_pct,
        "compute_hours": config.compute_hours,
        "peak_tflops": config.spec.peak_tflops(config.precision),  # type: ignore[arg-type]
    }
    nodes = Decimal(config.nodes)
    hours = config.compute_hours
    options = [_option(base, "on-demand", offer.on_demand_usd_per_hour * nodes, hours)]
    if offer.spot_usd_per_hour is not None:
        spot = _spot_option(
            request, base, offer.spot_usd_per_hour * nodes, config, checkpoint_minutes
        )
        if spot is not None:
            options.append(spot)
    if request.commitment_discount_pct is not None and offer.cloud in COMMITMENT_CLOUDS:
        factor = 1 - Decimal(repr(request.commitment_discount_pct)) / 100
        options.append(
            _option(base, "commitment", offer.on_demand_usd_per_hour * nodes * factor, hours)
        )
    return options


def _option(
    base: dict[str, object], pricing: str, usd_per_hour: Decimal, hours: float
) -> PlanOption:
    cost = (usd_per_hour * _money(hours)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return PlanOption(
        pricing=pricing,
        usd_per_hour=usd_per_hour,
        hours=hours,
        cost_usd=cost,
        **base,  # type: ignore[arg-type]
    )


def _spot_option(
    request: PlanRequest,
    base: dict[str, object],
    usd_per_hour: Decimal,
    config: Configuration,
    checkpoint_minutes: float,
) -> PlanOption | None:
    """Spot: compute hours × (1 + Daly's expected overhead); None when it would mostly restart.

    A cluster stops when any machine is interrupted, so its rate is the per-machine rate × nodes.
    """
    checkpoints = plan_checkpoints(
        checkpoint_minutes * 60.0,
        request.spot_interruptions_per_hour * config.nodes,
        restart_s=request.restart_minutes * 60.0,
    )
    wall_hours = config.compute_hours * (1.0 + checkpoints.overhead_fraction)
    if config.compute_hours < MIN_USEFUL_FRACTION * wall_hours:
        return None
    interval_hours = checkpoints.interval_s / 3600.0
    return replace(
        _option(base, "spot", usd_per_hour, wall_hours),
        spot_overhead_pct=100.0 * checkpoints.overhead_fraction,
        checkpoint_interval_hours=None if math.isinf(interval_hours) else interval_hours,
    )


def _rank_key(option: PlanOption) -> tuple[Decimal, float, str, str, str]:
    return (option.cost_usd, option.hours, option.cloud, option.instance_type, option.region)


def make_plan(request: PlanRequest, offers: Iterable[GpuOffer] | None = None) -> Plan:
    """Rank every offer that fits the job; see the module docstring for the rules.

    `offers` defaults to the shipped catalogs of `request.clouds`; pass your own (negotiated
    prices, a private cloud) to plan over those instead.
    """
    job = request.job
    configurations = _Configurations(job)
    skipped: Counter[str] = Counter()
    wanted = {gpu.lower() for gpu in request.gpus}
    best: dict[tuple[str, str, str], PlanOption] = {}
    not_fitting: dict[str, NotFitting] = {}
    too_slow: set[tuple[str, str, str]] = set()
    fitting_gpus: set[str] = set()
    candidates = all_gpu_offers(request.clouds) if offers is None else tuple(offers)
    for offer in candidates:
        spec_id = resolve_spec(
            offer.cloud, offer.instance_type, offer.gpu_model, offer.gpu_memory_mib
        )
        if spec_id is None:
            skipped[offer.gpu_model] += 1
            continue
        if wanted and spec_id.lower() not in wanted:
            continue
        spec = gpu_specs()[spec_id]
        capacity = _capacity_bytes(spec, offer)
        for option in _offer_options(request, offer, spec, capacity, configurations, not_fitting):
            fitting_gpus.add(option.gpu)
            key = (option.cloud, option.gpu, option.pricing)
            if request.deadline_hours is not None and option.hours > request.deadline_hours:
                too_slow.add(key)
            elif key not in best or _rank_key(option) < _rank_key(best[key]):
                best[key] = option
    ranking = tuple(
        _ranked(option, index + 1)
        for index, option in enumerate(sorted(best.values(), key=_rank_key))
    )
    counts = parameter_counts(job.model)
    plan = Plan(
        request=request,
        parameters=counts.total,
        active_parameters=counts.active,
        flops_per_token=_flops_per_token(job),
        checkpoint_minutes=_checkpoint_minutes(request, 1),
        ranking=ranking,
        shown=_shown(ranking, request),
        too_slow=len(too_slow - set(best)),
        not_fitting=tuple(
            sorted(
                (item for gpu, item in not_fitting.items() if gpu not in fitting_gpus),
                key=lambda item: item.gpu,
            )
        ),
        skipped_gpus=dict(sorted(skipped.items())),
    )
    return _explained(plan)


def _offer_options(
    request: PlanRequest,
    offer: GpuOffer,
    spec: GpuSpec,
    capacity: float,
    configurations: _Configurations,
    not_fitting: dict[str, NotFitting],
) -> list[PlanOption]:
    """Per pricing, the option on the fewest machines that fits (and meets the deadline).

    More machines only add communication and interruptions, so a cluster grows only when a
    smaller one does not fit or is too slow. With no option meeting the deadline, the largest
    cluster's options are returned (the caller counts them as too slow).
    """
    chosen: dict[str, PlanOption] = {}
    slowest: dict[str, PlanOption] = {}
    for nodes in _node_counts(request, offer):
        config = configurations.get(spec, offer.gpu_count, nodes, capacity)
        if not config.fits:
            _note_not_fitting(not_fitting, config)
            continue
        minutes = _checkpoint_minutes(request, nodes)
        for option in _priced(request, offer, config, minutes):
            if option.pricing in chosen:
                continue
            if request.deadline_hours is None or option.hours <= request.deadline_hours:
                chosen[option.pricing] = option
            else:
                slowest[option.pricing] = option
    return list(chosen.values()) + [o for p, o in slowest.items() if p not in chosen]


def _ranked(option: PlanOption, rank: int) -> PlanOption:
    return replace(option, rank=rank)


def _flops_per_token(job: Job) -> float:
    if job.mode == "inference":
        return 2.0 * matmul_params_active(job.model)
    setup = TrainingSetup(seq_len=job.seq_len, mode=job.training_mode, lora_rank=job.lora_rank)
    return model_flops_per_token(job.model, setup)


def _note_not_fitting(found: dict[str, NotFitting], config: Configuration) -> None:
    known = found.get(config.spec.spec_id)
    needed = config.memory.total / _GIB
    if (
        known is None
        or config.gpus > known.gpus
        or (config.gpus == known.gpus and needed < known.needed_gib)
    ):
        found[config.spec.spec_id] = NotFitting(
            gpu=config.spec.spec_id,
            gpus=config.gpus,
            needed_gib=needed,
            capacity_gib=config.capacity_bytes / _GIB,
            strategy=config.strategy,
        )


def _shown(ranking: tuple[PlanOption, ...], request: PlanRequest) -> tuple[PlanOption, ...]:
    """The top N, plus the best option of each requested cloud that the top N leaves out."""
    shown = list(ranking[: request.top])
    present = {option.cloud for option in shown}
    for option in ranking[request.top :]:
        if option.cloud not in present:
            shown.append(option)
            present.add(option.cloud)
    return tuple(shown)


def _explained(plan: Plan) -> Plan:
    return replace(plan, explanation=explain(plan))
