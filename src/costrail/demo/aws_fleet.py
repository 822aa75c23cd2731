"""Acme AI on AWS: the resources, their usage over the timeline, and the waste planted in them.

`build_aws` returns every CUR batch (usage, Savings Plan fees, credits, tax) and the planted
items with their exact cost. With `clean=True` the same company is built with each planted
behaviour replaced by its fix, so shared resources keep their IDs and usage. This module holds
the EC2 fleets; SageMaker, storage, logs and Bedrock are in `aws_fleet_services`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from costrail.demo import aws_anomalies, aws_fleet_services, patterns
from costrail.demo import aws_compute as compute
from costrail.demo import aws_services as services
from costrail.demo.aws_billing import activate_credits, sales_tax
from costrail.demo.aws_compute import Ec2Instance, ec2_instance
from costrail.demo.aws_lines import AwsBuild, CurBatch
from costrail.demo.aws_scale import scale_workers
from costrail.demo.company import (
    APPLIED_ORCA,
    AWS_PAYER_ACCOUNT,
    PLATFORM_LUMEN,
    RESEARCH_ATLAS,
    Owner,
)
from costrail.demo.ids import IdFactory
from costrail.demo.money import exact_sum
from costrail.demo.planting import Planted, period_costs
from costrail.demo.timeline import IntArray, Timeline


def build_aws(
    timeline: Timeline, ids: IdFactory, clean: bool, target_rows: int | None = None
) -> AwsBuild:
    """Every CUR batch of the AWS company and, unless `clean`, its planted waste.

    `target_rows` adds a batch-inference fleet so the CUR has about that many rows.
    """
    build = AwsBuild()
    serving = _serving_nodes(ids)
    # Clean, the Savings Plan also covers the steady 24×7 serving fleet (the optimum commitment).
    _training_with_savings_plan(build, timeline, ids, clean, serving if clean else [])
    _fine_tuning(build, timeline, ids, clean)
    atlas_spot_hours = _spot_experiments(build, timeline, ids)
    _dev_boxes(build, timeline, ids, clean)
    _serving(build, timeline, ids, serving, on_demand=not clean)
    if not clean:
        _runaway_sweep(build, timeline, ids)
        aws_anomalies.plant(build, timeline, ids)
    aws_fleet_services.sagemaker(build, timeline, ids, clean)
    aws_fleet_services.storage(build, timeline, ids, clean, atlas_spot_hours)
    aws_fleet_services.logs(build, timeline, ids, clean)
    aws_fleet_services.bedrock(build, timeline, ids)
    if target_rows is not None:
        # Credits and tax add a few hundred rows on top; the target is approximate by that much.
        build.add(*scale_workers(timeline, ids, target_rows - sum(len(b) for b in build.batches)))
    credits = activate_credits(timeline, build.batches)
    build.add(*credits)
    build.add(*sales_tax(timeline, build.batches))
    return build


def _training_with_savings_plan(
    build: AwsBuild, tl: Timeline, ids: IdFactory, clean: bool, also_covered: list[Ec2Instance]
) -> None:
    """Two p4d nodes train 24×7 under a Compute Savings Plan bought for three nodes.

    Clean, the plan is sized to the two nodes plus the 24×7 instances in `also_covered`, whose
    hours it then covers too.
    """
    sp_arn = f"arn:aws:savingsplans::{AWS_PAYER_ACCOUNT}:savingsplan/{ids.uuid('aws/savings-plan')}"
    nodes = [
        ec2_instance(
            ids,
            f"atlas-train-p4d-{i}",
            "p4d.24xlarge",
            "us-east-1",
            "us-east-1a",
            "research",
            RESEARCH_ATLAS,
        )
        for i in range(2)
    ]
    used_by_hour = np.zeros(tl.hours, dtype=np.int64)
    for node in nodes + also_covered:
        covered, negation = compute.savings_plan_covered(node, patterns.always_on(tl), sp_arn)
        assert covered.sp_effective_e10 is not None
        np.add.at(used_by_hour, covered.start_hour, covered.sp_effective_e10)
        build.add(covered, negation)
    sp_rate = compute.savings_plan_rate("p4d.24xlarge", "us-east-1")
    nodes_committed = len(nodes) if clean else len(nodes) + 1
    commitment = sp_rate * nodes_committed + sum(
        (compute.savings_plan_rate(i.instance_type, i.region) for i in also_covered), Decimal(0)
    )
    fees = compute.savings_plan_fees(tl, sp_arn, commitment, used_by_hour)
    build.add(*fees)
    if not clean:
        unused = [period_costs(tl, [f]) - _used_by_period(tl, f) for f in fees]
        by_period = np.sum(unused, axis=0)
        build.planted.append(
            Planted(
                kind="unused_savings_plan_commitment",
                provider="aws",
                resources=(sp_arn,),
                cost_units=by_period,
                savings_units=by_period,
            )
        )


def _used_by_period(tl: Timeline, fee: CurBatch) -> IntArray:
    assert fee.sp_used_e10 is not None
    periods = tl.period_of_hours(fee.start_hour)
    return np.array(
        [exact_sum(fee.sp_used_e10[periods == p]) for p in range(len(tl.periods))], dtype=np.int64
    )


def _fine_tuning(build: AwsBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    """Orca fine-tuning runs on p5.48xlarge On-Demand; checkpointed jobs could run on Spot."""
    nodes = [
        ec2_instance(
            ids,
            f"orca-ft-p5-{i}",
            "p5.48xlarge",
            "us-west-2",
            "us-west-2b",
            "research",
            APPLIED_ORCA,
        )
        for i in range(2)
    ]
    on_demand, spot = [], []
    for node in nodes:
        mask = patterns.training_runs(ids.rng(f"aws/{node.name}/runs"), tl, 0.45, 24, 96)
        on_demand.append(compute.ec2_hours(node, mask, "OnDemand"))
        spot.append(compute.ec2_hours(node, mask, "Spot"))
    build.add(*(spot if clean else on_demand))
    if not clean:
        resources = (n.instance_id for n in nodes)
        build.planted.append(
            Planted.of_rows(tl, "ondemand_should_be_spot", "aws", resources, on_demand, spot)
        )


def _spot_experiments(build: AwsBuild, tl: Timeline, ids: IdFactory) -> IntArray:
    """Atlas ablations on p5 Spot in us-west-2 (interrupted); returns running nodes per hour."""
    running = np.zeros(tl.hours, dtype=np.int64)
    for i in range(3):
        node = ec2_instance(
            ids,
            f"atlas-exp-p5-{i}",
            "p5.48xlarge",
            "us-west-2",
            "us-west-2a",
            "research",
            RESEARCH_ATLAS,
        )
        rng = ids.rng(f"aws/{node.name}/runs")
        mask = patterns.with_interruptions(rng, patterns.training_runs(rng, tl, 0.55, 12, 72), 0.01)
        running += mask
        build.add(compute.ec2_hours(node, mask, "Spot"))
    return running


def _dev_boxes(build: AwsBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    """GPU dev boxes that should stop outside working hours; one never does."""
    owners = {
        "alice": Owner("applied", "orca", "dev", None, "Team", "alice"),
        "bob": Owner("research", "atlas", "dev", None, "team", "bob"),
        "chen": Owner(None, None, "dev", None, "untagged", "chen"),
    }
    work = patterns.work_hours(tl)
    for user, owner in owners.items():
        box = ec2_instance(
            ids, f"dev-{user}-g5", "g5.12xlarge", "us-east-1", "us-east-1c", "dev", owner
        )
        always = user == "bob" and not clean
        build.add(compute.ec2_hours(box, patterns.always_on(tl) if always else work))
        if always:
            idle = compute.ec2_hours(box, ~work)
            build.planted.append(
                Planted.of_rows(tl, "idle_gpu_instance", "aws", [box.instance_id], [idle])
            )


def _serving_nodes(ids: IdFactory) -> list[Ec2Instance]:
    """The Lumen chat API's three g6e.xlarge, running 24×7."""
    return [
        ec2_instance(
            ids,
            f"lumen-serve-g6e-{i}",
            "g6e.xlarge",
            "us-east-1",
            "us-east-1b",
            "prod",
            PLATFORM_LUMEN,
        )
        for i in range(3)
    ]


def _serving(
    build: AwsBuild, tl: Timeline, ids: IdFactory, nodes: list[Ec2Instance], on_demand: bool
) -> None:
    """The serving fleet's internet egress and, when `on_demand`, its On-Demand hours (else the
    Savings Plan covers them)."""
    curve = patterns.diurnal(tl, 1.5, 6.0)
    for node in nodes:
        if on_demand:
            build.add(compute.ec2_hours(node, patterns.always_on(tl)))
        noise = ids.rng(f"aws/{node.name}/egress").uniform(0.8, 1.2, tl.hours)
        mb = np.round(curve * noise * 1000).astype(np.int64)
        build.add(
            services.internet_egress(node.account, node.instance_id, node.owner, tl.all_hours, mb)
        )


def _runaway_sweep(build: AwsBuild, tl: Timeline, ids: IdFactory) -> None:
    """Anomaly: a hyper-parameter sweep of 12 g5.48xlarge left running for three days."""
    owner = Owner("applied", "orca", "dev", "orca-13b-sft", "Team", "bob")
    start = int((datetime(2026, 10, 14, 2, 17, tzinfo=UTC) - tl.start).total_seconds())
    end = int((datetime(2026, 10, 17, 9, 40, tzinfo=UTC) - tl.start).total_seconds())
    batches, resources = [], []
    for i in range(12):
        node = ec2_instance(
            ids, f"orca-sweep-g5-{i}", "g5.48xlarge", "us-east-1", "us-east-1d", "research", owner
        )
        hours, seconds = patterns.seconds_by_hour(start + 37 * i, end - start - 37 * i)
        batches.append(compute.ec2_seconds(node, hours, seconds, "OnDemand"))
        resources.append(node.instance_id)
    build.add(*batches)
    spike = Planted.of_rows(tl, "spend_spike", "aws", resources, batches)
    build.planted.append(spike.with_anomaly(tl, batches, "x_InstanceType=g5.48xlarge"))
