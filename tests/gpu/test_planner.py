"""The planner over small explicit offer lists: fit, cost, spot overhead and deadlines."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from costrail.gpu.model_config import PRESETS
from costrail.gpu.planner import Plan, PlanOption, PlanRequest, make_plan
from costrail.gpu.strategies import Job
from costrail.pricing.gpu_offers import GpuOffer
from costrail.spot import daly_interval_s


def _offer(
    cloud: str, instance: str, model: str, count: int, price: str, spot: str | None = None
) -> GpuOffer:
    return GpuOffer(
        cloud=cloud,
        region="r1",
        instance_type=instance,
        gpu_model=model,
        gpu_count=count,
        gpu_memory_mib=None,
        on_demand_usd_per_hour=Decimal(price),
        spot_usd_per_hour=Decimal(spot) if spot else None,
    )


def _job(**changes: object) -> Job:
    base: dict[str, object] = {
        "model": PRESETS["gpt2-125m"],
        "mode": "train",
        "tokens": 1e9,
        "seq_len": 1024,
    }
    base.update(changes)
    return Job(**base)  # type: ignore[arg-type]


def test_the_cheaper_gpu_wins_when_it_fits() -> None:
    offers = [
        _offer("aws", "p4d.24xlarge", "A100", 8, "20"),
        _offer("aws", "p4de.24xlarge", "A100-80GB", 8, "25"),
    ]

    plan = make_plan(PlanRequest(job=_job()), offers)

    assert plan.winner is not None
    assert plan.winner.instance_type == "p4d.24xlarge"
    assert [option.gpu for option in plan.ranking] == ["A100-40GB-SXM", "A100-80GB-SXM"]


def test_a_gpu_too_small_for_the_job_is_marked_not_fitting() -> None:
    # 16 × 4096 tokens × 50,257 vocabulary × 12 bytes of loss alone is 37 GiB.
    offers = [_offer("gcp", "g2-standard-4", "L4", 1, "0.7"), _offer("aws", "p5", "H100", 1, "5")]

    plan = make_plan(PlanRequest(job=_job(seq_len=4096, micro_batch=16)), offers)

    assert [option.gpu for option in plan.ranking] == ["H100-SXM"]
    assert [item.gpu for item in plan.not_fitting] == ["L4"]
    assert plan.not_fitting[0].needed_gib > plan.not_fitting[0].capacity_gib


def test_spot_wall_time_grows_with_the_interruption_rate() -> None:
    offers = [_offer("aws", "p5", "H100", 8, "98", spot="30")]

    def spot_hours(rate: float) -> float:
        plan = make_plan(PlanRequest(job=_job(), spot_interruptions_per_hour=rate), offers)
        return next(o.hours for o in plan.ranking if o.pricing == "spot")

    assert spot_hours(0.01) < spot_hours(0.1) < spot_hours(0.5)


def test_spot_wins_when_it_is_cheaper_even_after_its_overhead() -> None:
    offers = [_offer("aws", "p5", "H100", 8, "98", spot="30")]

    plan = make_plan(PlanRequest(job=_job()), offers)

    assert plan.winner is not None and plan.winner.pricing == "spot"
    assert plan.winner.hours > plan.ranking[1].hours
    assert "Young–Daly" in plan.explanation


def _spot(plan: Plan) -> PlanOption:
    return next(option for option in plan.ranking if option.pricing == "spot")


def test_spot_hours_follow_the_worked_example_from_the_docs() -> None:
    # docs/plan.md, "Worked example 5": C = 6 min, λ = 0.05/h, R = 15 min → τ = 6962 s and
    # 100 h of compute take 112.1 h.
    offers = [_offer("aws", "p5", "H100", 8, "98", spot="30")]
    request = PlanRequest(
        job=_job(), spot_interruptions_per_hour=0.05, checkpoint_minutes=6, restart_minutes=15
    )

    spot = _spot(make_plan(request, offers))

    assert spot.checkpoint_interval_hours == pytest.approx(6962.0 / 3600.0)
    assert spot.hours / spot.compute_hours == pytest.approx(1.121, abs=5e-4)
    assert spot.spot_overhead_pct == pytest.approx(12.1, abs=0.05)


def test_a_spot_cluster_is_interrupted_when_any_machine_is() -> None:
    offers = [_offer("aws", "p5.48xlarge", "H100", 8, "98", spot="30")]
    job = _job(model=PRESETS["llama-2-7b"], seq_len=4096, tokens=20e9)
    one = _spot(make_plan(PlanRequest(job=job, checkpoint_minutes=6), offers))
    rushed = PlanRequest(job=job, checkpoint_minutes=6, deadline_hours=one.hours / 3)

    cluster = _spot(make_plan(rushed, offers))

    assert one.nodes == 1 and cluster.nodes >= 4
    expected_interval_s = daly_interval_s(360.0, 0.05 * cluster.nodes)
    assert cluster.checkpoint_interval_hours == pytest.approx(expected_interval_s / 3600.0)
    assert cluster.spot_overhead_pct is not None and one.spot_overhead_pct is not None
    assert cluster.spot_overhead_pct > one.spot_overhead_pct


def test_no_interruptions_means_no_spot_overhead() -> None:
    offers = [_offer("aws", "p5", "H100", 8, "98", spot="30")]

    spot = _spot(make_plan(PlanRequest(job=_job(), spot_interruptions_per_hour=0.0), offers))

    assert spot.hours == spot.compute_hours
    assert spot.spot_overhead_pct == 0.0
    assert spot.checkpoint_interval_hours is None


def test_serving_on_spot_pays_only_for_restarts() -> None:
    # No training state to checkpoint: each interruption (M = 20 h) costs R = 10 min, e^(R/M) − 1.
    offers = [_offer("aws", "p5", "H100", 1, "5", spot="2")]
    job = _job(model=PRESETS["llama-2-7b"], mode="inference", seq_len=4096)

    plan = make_plan(PlanRequest(job=job), offers)
    spot = _spot(plan)

    assert spot.checkpoint_interval_hours == 0.0
    assert spot.spot_overhead_pct == pytest.approx(100 * math.expm1(600 / 72_000))
    assert "restarts only" in plan.explanation


def test_spot_is_not_offered_when_interruptions_outpace_restarts() -> None:
    # One interruption every 30 min against 12 min checkpoints and 30 min restarts: under 20 % of
    # the wall time would be useful work.
    offers = [_offer("aws", "p5", "H100", 8, "98", spot="30")]
    request = PlanRequest(
        job=_job(), spot_interruptions_per_hour=2.0, checkpoint_minutes=12, restart_minutes=30
    )

    plan = make_plan(request, offers)

    assert {option.pricing for option in plan.ranking} == {"on-demand"}


def test_a_deadline_drops_options_that_are_too_slow() -> None:
    offers = [
        _offer("gcp", "g2-standard-4", "L4", 1, "0.01"),
        _offer("aws", "p5.48xlarge", "H100", 8, "98"),
    ]
    free = make_plan(PlanRequest(job=_job()), offers)
    assert free.winner is not None and free.winner.gpu == "L4"
    l4_hours = free.winner.hours

    rushed = make_plan(PlanRequest(job=_job(), deadline_hours=l4_hours / 2), offers)

    assert rushed.winner is not None and rushed.winner.gpu == "H100-SXM"
    assert rushed.too_slow == 1
    assert all(option.hours <= l4_hours / 2 for option in rushed.ranking)


def test_a_deadline_can_require_several_nodes() -> None:
    offers = [_offer("aws", "p5.48xlarge", "H100", 8, "98")]
    one_node = make_plan(
        PlanRequest(job=_job(model=PRESETS["llama-2-7b"], seq_len=4096, tokens=20e9)), offers
    )
    assert one_node.winner is not None and one_node.winner.nodes == 1

    plan = make_plan(
        PlanRequest(
            job=_job(model=PRESETS["llama-2-7b"], seq_len=4096, tokens=20e9),
            deadline_hours=one_node.winner.hours / 3,
        ),
        offers,
    )

    assert plan.winner is not None and plan.winner.nodes >= 4


def test_cost_is_exact_decimal_price_times_machines_times_hours() -> None:
    offers = [_offer("lambda", "gpu_8x_h100_sxm5", "H100", 8, "31.92")]

    plan = make_plan(PlanRequest(job=_job()), offers)
    option = plan.ranking[0]

    assert isinstance(option.cost_usd, Decimal)
    expected = (Decimal("31.92") * Decimal(repr(option.hours))).quantize(Decimal("0.01"))
    assert option.cost_usd == expected


def test_commitment_pricing_appears_only_when_a_discount_is_given() -> None:
    offers = [_offer("aws", "p5.48xlarge", "H100", 8, "98")]

    plain = make_plan(PlanRequest(job=_job()), offers)
    committed = make_plan(PlanRequest(job=_job(), commitment_discount_pct=40), offers)

    assert {o.pricing for o in plain.ranking} == {"on-demand"}
    assert committed.winner is not None and committed.winner.pricing == "commitment"


def test_gpus_without_a_spec_row_are_skipped_and_counted() -> None:
    offers = [
        _offer("vast", "1x-RTX_5090", "RTX5090", 1, "0.4"),
        _offer("aws", "p5", "H100", 1, "5"),
    ]

    plan = make_plan(PlanRequest(job=_job()), offers)

    assert plan.skipped_gpus == {"RTX5090": 1}


def test_inference_plan_reports_concurrency_in_the_strategy() -> None:
    offers = [_offer("aws", "p5", "H100", 1, "5")]
    job = _job(model=PRESETS["llama-2-7b"], mode="inference", seq_len=4096)

    plan = make_plan(PlanRequest(job=job), offers)

    assert plan.winner is not None
    assert plan.winner.strategy == "1 replica, 32 seqs each"
