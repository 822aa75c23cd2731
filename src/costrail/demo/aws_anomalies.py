"""Planted cost anomalies on AWS beyond the runaway sweep: a GPU fleet left running over a
weekend and a job retrying every hour for days — the surprise bills a daily alert catches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from costrail.demo import aws_compute as compute
from costrail.demo import aws_services as services
from costrail.demo import patterns
from costrail.demo.aws_compute import ec2_instance
from costrail.demo.aws_lines import AwsBuild, CurBatch
from costrail.demo.company import AWS_ACCOUNTS, DATA_INGEST, RESEARCH_ATLAS
from costrail.demo.ids import IdFactory
from costrail.demo.planting import Planted
from costrail.demo.timeline import Timeline

WEEKEND_FLEET_TYPE = "p4de.24xlarge"
WEEKEND_FLEET_SIZE = 8
#: Saturday 00:20 UTC (Friday afternoon in California) to Sunday 23:35 UTC
WEEKEND_START = datetime(2026, 11, 7, 0, 20, tzinfo=UTC)
WEEKEND_END = datetime(2026, 11, 8, 23, 35, tzinfo=UTC)
RETRY_FIRST_DAY = datetime(2026, 11, 18, tzinfo=UTC)
RETRY_DAYS = 5
#: each failed try dumps its whole input manifest and stack traces at DEBUG level
RETRY_DUMP_MB = 12_000
RETRY_LOG_GROUP = "/aws/lambda/ingest-backfill-retry"


def plant(build: AwsBuild, tl: Timeline, ids: IdFactory) -> None:
    """Both anomalies, each with its rows and its truth item (days and root cause)."""
    _weekend_fleet(build, tl, ids)
    _hourly_retries(build, tl, ids)


def _weekend_fleet(build: AwsBuild, tl: Timeline, ids: IdFactory) -> None:
    """Eight p4de.24xlarge launched for an evaluation on a Friday afternoon (Pacific) and left
    running until Sunday night: a Saturday–Sunday burst in the research account."""
    start = int((WEEKEND_START - tl.start).total_seconds())
    end = int((WEEKEND_END - tl.start).total_seconds())
    batches, resources = [], []
    for i in range(WEEKEND_FLEET_SIZE):
        node = ec2_instance(
            ids,
            f"atlas-eval-p4de-{i}",
            WEEKEND_FLEET_TYPE,
            "us-east-1",
            "us-east-1a",
            "research",
            RESEARCH_ATLAS,
        )
        # the nodes come up a few seconds apart and are billed per second
        hours, seconds = patterns.seconds_by_hour(start + 23 * i, end - start - 23 * i)
        batches.append(compute.ec2_seconds(node, hours, seconds, "OnDemand"))
        resources.append(node.instance_id)
    build.add(*batches)
    planted = Planted.of_rows(tl, "weekend_gpu_fleet", "aws", resources, batches)
    build.planted.append(planted.with_anomaly(tl, batches, f"x_InstanceType={WEEKEND_FLEET_TYPE}"))


def _hourly_retries(build: AwsBuild, tl: Timeline, ids: IdFactory) -> None:
    """A backfill Lambda failing on a missing input file and retried every hour for five days;
    every try logs ~12 GB to CloudWatch Logs, a step up of a small service in the prod
    account."""
    group = services.LogGroup(RETRY_LOG_GROUP, AWS_ACCOUNTS["prod"], DATA_INGEST)
    first_day = tl.hour_of(RETRY_FIRST_DAY) // 24
    days = np.arange(first_day, first_day + RETRY_DAYS, dtype=np.int64)
    rng = ids.rng("aws/ingest-backfill-retry")
    tries_mb = rng.integers(RETRY_DUMP_MB * 95 // 100, RETRY_DUMP_MB * 105 // 100, (len(days), 24))
    mb_by_day = np.zeros(tl.days, dtype=np.int64)
    mb_by_day[days] = tries_mb.sum(axis=1)
    batch = _billed_rows(services.log_ingestion(tl, group, mb_by_day))
    build.add(batch)
    planted = Planted.of_rows(tl, "hourly_retry_job", "aws", [group.arn], [batch])
    build.planted.append(planted.with_anomaly(tl, [batch], f"ResourceId={group.arn}"))


def _billed_rows(batch: CurBatch) -> CurBatch:
    """Only the rows with usage: the log group did not exist before the retries began."""
    keep = batch.usage_amount > 0
    public = batch.public_cost_e10
    return replace(
        batch,
        start_hour=batch.start_hour[keep],
        span_hours=batch.span_hours[keep],
        usage_amount=batch.usage_amount[keep],
        cost_e10=batch.cost_e10[keep],
        public_cost_e10=None if public is None else public[keep],
    )
