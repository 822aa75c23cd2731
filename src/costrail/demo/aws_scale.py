"""Scaling the AWS demo to millions of rows: a batch-inference fleet of GPU instance-hours."""

from __future__ import annotations

import numpy as np

from costrail.demo import aws_compute as compute
from costrail.demo.aws_compute import ec2_instance
from costrail.demo.aws_lines import CurBatch
from costrail.demo.company import Owner
from costrail.demo.ids import IdFactory
from costrail.demo.timeline import Timeline

#: The mix of a scale worker fleet: (instance type, region, zone, purchase option).
_WORKER_KINDS = (
    ("g6e.xlarge", "us-east-1", "us-east-1b", "OnDemand"),
    ("g5.xlarge", "us-west-2", "us-west-2c", "Spot"),
    ("g6e.xlarge", "us-west-2", "us-west-2a", "Spot"),
    ("g6e.12xlarge", "us-east-1", "us-east-1a", "OnDemand"),
)


def scale_workers(
    tl: Timeline, ids: IdFactory, rows: int, first_hour: int = 0, hours: int | None = None
) -> list[CurBatch]:
    """A batch-inference fleet sized to add exactly `rows` instance-hour rows (none if ≤ 0).

    Each worker runs every hour of [first_hour, first_hour + hours); the last one runs only the
    hours still needed. Used to scale the demo (and the benchmarks) to millions of rows.
    """
    span = tl.hours - first_hour if hours is None else hours
    batches: list[CurBatch] = []
    worker = 0
    while rows > 0:
        itype, region, zone, purchase = _WORKER_KINDS[worker % len(_WORKER_KINDS)]
        style = ("owner-team", "team", "untagged")[worker % 3] if worker % 7 else "untagged"
        owner = Owner("ml-platform", "lumen", "prod", "lumen-batch", style, "batch-scheduler")  # type: ignore[arg-type]
        node = ec2_instance(ids, f"lumen-batch-{worker:06d}", itype, region, zone, "prod", owner)
        count = min(rows, span)
        mask = np.zeros(tl.hours, dtype=np.bool_)
        mask[first_hour : first_hour + count] = True
        batches.append(compute.ec2_hours(node, mask, purchase))
        rows -= count
        worker += 1
    return batches
