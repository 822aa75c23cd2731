"""Acme AI on AWS beyond EC2: SageMaker jobs, notebooks and endpoints, S3, CloudWatch Logs, Bedrock.

Each function adds its batches (and, unless `clean`, its planted waste) to the build.
"""

from __future__ import annotations

import numpy as np

from costrail.demo import aws_compute as compute
from costrail.demo import aws_services as services
from costrail.demo import patterns
from costrail.demo.aws_lines import AwsBuild, CurBatch, hourly_seconds
from costrail.demo.company import (
    APPLIED_ORCA,
    AWS_ACCOUNTS,
    AWS_PAYER_ACCOUNT,
    DATA_INGEST,
    PLATFORM_LUMEN,
    RESEARCH_ATLAS,
    Owner,
)
from costrail.demo.ids import IdFactory
from costrail.demo.planting import Planted
from costrail.demo.timeline import IntArray, Timeline


def sagemaker(build: AwsBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    research, prod, dev = AWS_ACCOUNTS["research"], AWS_ACCOUNTS["prod"], AWS_ACCOUNTS["dev"]
    arn = "arn:aws:sagemaker:us-east-1:{account}:{kind}/{name}"
    for label, itype, per_month, low, high in (
        ("orca-sft", "ml.p4d.24xlarge", 6, 3, 14),
        ("orca-eval", "ml.g5.12xlarge", 10, 1, 5),
    ):
        for start, duration in patterns.jobs(
            ids.rng(f"aws/sagemaker/{label}"), tl, per_month, low, high
        ):
            name = f"{label}-{tl.at(start // 3600).strftime('%Y-%m-%d-%H')}-{start % 3600:04d}"
            hours, seconds = patterns.seconds_by_hour(start, duration)
            build.add(
                compute.sagemaker(
                    "Train",
                    itype,
                    research,
                    arn.format(account=research, kind="training-job", name=name),
                    APPLIED_ORCA,
                    hours,
                    seconds,
                )
            )
    notebook = arn.format(account=dev, kind="notebook-instance", name="dana-exploration")
    hours, seconds = hourly_seconds(patterns.work_hours(tl))
    build.add(
        compute.sagemaker(
            "Notebk",
            "ml.g5.2xlarge",
            dev,
            notebook,
            Owner("data", "ingest", "dev", None, "team", "dana"),
            hours,
            seconds,
        )
    )
    endpoint = arn.format(account=prod, kind="endpoint", name="lumen-embed-prod")
    _serving_endpoint(build, tl, ids, endpoint, clean)
    requests = patterns.diurnal(tl, 0.4, 2.5) * ids.rng("aws/lumen-embed-prod/data").uniform(
        0.8, 1.2, tl.hours
    )
    mb_in = np.round(requests * 1000).astype(np.int64)
    build.add(
        compute.sagemaker_endpoint_data(prod, endpoint, PLATFORM_LUMEN, "In", tl.all_hours, mb_in),
        compute.sagemaker_endpoint_data(
            prod, endpoint, PLATFORM_LUMEN, "Out", tl.all_hours, mb_in * 3
        ),
    )
    if not clean:
        unused = arn.format(account=research, kind="endpoint", name="orca-eval-endpoint")
        batch = compute.sagemaker(
            "Host",
            "ml.g5.12xlarge",
            research,
            unused,
            APPLIED_ORCA,
            tl.all_hours,
            np.full(tl.hours, 3600, dtype=np.int64),
        )
        build.add(batch)
        build.planted.append(Planted.of_rows(tl, "unused_endpoint", "aws", [unused], [batch]))


def _serving_endpoint(
    build: AwsBuild, tl: Timeline, ids: IdFactory, endpoint: str, clean: bool
) -> None:
    """Two ml.g5.2xlarge behind the embedding endpoint, 24×7: On-Demand, or clean under a
    SageMaker Savings Plan sized to exactly those two instances (the optimum commitment)."""
    prod = AWS_ACCOUNTS["prod"]
    instances = 2
    seconds = np.full(tl.hours, instances * 3600, dtype=np.int64)
    args = ("Host", "ml.g5.2xlarge", prod, endpoint, PLATFORM_LUMEN, tl.all_hours, seconds)
    if not clean:
        build.add(compute.sagemaker(*args))
        return
    sp_arn = f"arn:aws:savingsplans::{AWS_PAYER_ACCOUNT}:savingsplan/" + ids.uuid(
        "aws/sagemaker-savings-plan"
    )
    covered, negation = compute.sagemaker_covered(*args, sp_arn)
    assert covered.sp_effective_e10 is not None
    used_by_hour = np.zeros(tl.hours, dtype=np.int64)
    np.add.at(used_by_hour, covered.start_hour, covered.sp_effective_e10)
    commitment = compute.sagemaker_savings_plan_rate("Host", "ml.g5.2xlarge") * instances
    build.add(covered, negation)
    build.add(
        *compute.savings_plan_fees(
            tl, sp_arn, commitment, used_by_hour, compute.SAGEMAKER_SAVINGS_PLAN
        )
    )


def _bucket_in_use(
    tl: Timeline,
    rng: np.random.Generator,
    bucket: services.Bucket,
    storage_class: str,
    gb_by_day: IntArray,
    writes_per_day: tuple[int, int],
    reads_per_day: tuple[int, int],
) -> list[CurBatch]:
    """A bucket in daily use: its storage, plus Tier1 (PUT/LIST) and Tier2 (GET) requests drawn
    uniformly from `[low, high)` each day, writes first."""
    return [
        services.s3_storage(tl, bucket, storage_class, gb_by_day),
        services.s3_requests(tl, bucket, "Tier1", rng.integers(*writes_per_day, tl.days)),
        services.s3_requests(tl, bucket, "Tier2", rng.integers(*reads_per_day, tl.days)),
    ]


def storage(
    build: AwsBuild, tl: Timeline, ids: IdFactory, clean: bool, atlas_running: IntArray
) -> None:
    data, research = AWS_ACCOUNTS["data"], AWS_ACCOUNTS["research"]
    days = np.arange(tl.days, dtype=np.int64)
    rng = ids.rng("aws/s3")
    lake = services.Bucket("acme-datalake-use1", "us-east-1", data, DATA_INGEST)
    lake_gb = 225_000 + 600 * days
    writes, reads = (1_500_000, 2_200_000), (22_000_000, 34_000_000)
    build.add(*_bucket_in_use(tl, rng, lake, "STANDARD", lake_gb, writes, reads))
    crawl = services.Bucket(
        "acme-raw-crawl-2025",
        "us-east-1",
        data,
        Owner("data", "crawl", "prod", None, "owner-team", "etl-bot"),
    )
    crawl_gb = np.full(tl.days, 184_320, dtype=np.int64)
    standard = services.s3_storage(tl, crawl, "STANDARD", crawl_gb)
    archived = services.s3_storage(tl, crawl, "GLACIER_IR", crawl_gb)
    build.add(archived if clean else standard)
    if not clean:
        build.planted.append(
            Planted.of_rows(
                tl, "s3_cold_data_in_standard", "aws", [crawl.name], [standard], [archived]
            )
        )
    checkpoints = services.Bucket("acme-checkpoints-usw2", "us-west-2", research, RESEARCH_ATLAS)
    checkpoints_gb = 61_440 + 200 * days
    writes, reads = (300_000, 500_000), (60_000, 140_000)
    build.add(*_bucket_in_use(tl, rng, checkpoints, "STANDARD_IA", checkpoints_gb, writes, reads))
    archive = services.Bucket(
        "acme-archive", "us-east-1", data, Owner(None, None, None, None, "untagged", "etl-bot")
    )
    build.add(
        services.s3_storage(tl, archive, "GLACIER", np.full(tl.days, 409_600, dtype=np.int64))
    )
    if not clean:
        hours = np.flatnonzero(atlas_running > 0).astype(np.int64)
        mb = atlas_running[hours] * rng.integers(110_000, 160_000, hours.size)
        transfer = services.inter_region_transfer(lake, "us-west-2", hours, mb)
        build.add(transfer)
        build.planted.append(
            Planted.of_rows(tl, "cross_region_transfer", "aws", [lake.name], [transfer])
        )


def logs(build: AwsBuild, tl: Timeline, ids: IdFactory, clean: bool) -> None:
    prod, research = AWS_ACCOUNTS["prod"], AWS_ACCOUNTS["research"]
    days = np.arange(tl.days, dtype=np.int64)
    rng = ids.rng("aws/logs")
    for name, account, owner, gb_per_day, retention_days in (
        ("/aws/sagemaker/Endpoints/lumen-embed-prod", prod, PLATFORM_LUMEN, 40, 30),
        ("/aws/sagemaker/TrainingJobs", research, APPLIED_ORCA, 25, 14),
    ):
        group = services.LogGroup(name, account, owner)
        build.add(
            services.log_ingestion(
                tl, group, rng.integers(gb_per_day * 900, gb_per_day * 1100, tl.days)
            ),
            services.log_storage(
                tl, group, np.full(tl.days, gb_per_day * retention_days, dtype=np.int64)
            ),
        )
    debug = services.LogGroup("/acme/atlas/train-debug", research, RESEARCH_ATLAS)
    build.add(services.log_ingestion(tl, debug, rng.integers(300_000, 340_000, tl.days)))
    kept = services.log_storage(tl, debug, np.full(tl.days, 320 * 30, dtype=np.int64))
    growing = services.log_storage(tl, debug, 26_000 + 320 * days)
    build.add(kept if clean else growing)
    if not clean:
        build.planted.append(
            Planted.of_rows(
                tl, "log_retention_never_expires", "aws", [debug.arn], [growing], [kept]
            )
        )


def bedrock(build: AwsBuild, tl: Timeline, ids: IdFactory) -> None:
    rng = ids.rng("aws/bedrock")
    tokens = np.round(
        patterns.diurnal(tl, 1_500_000, 9_000_000) * rng.uniform(0.85, 1.15, tl.hours)
    ).astype(np.int64)
    prod = AWS_ACCOUNTS["prod"]
    build.add(
        services.bedrock_tokens(prod, PLATFORM_LUMEN, "NovaPro", "input", tl.all_hours, tokens),
        services.bedrock_tokens(
            prod, PLATFORM_LUMEN, "NovaPro", "output", tl.all_hours, tokens * 22 // 100
        ),
    )
