"""Acme AI on GCP beyond Compute Engine: a Vertex AI endpoint and training jobs, Cloud Storage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from costrail.demo import patterns
from costrail.demo.company import GCP_PROJECTS, PLATFORM_LUMEN, RESEARCH_ATLAS, Owner
from costrail.demo.gcp_export import metered_rows
from costrail.demo.gcp_rows import GcpBuild, row_fields
from costrail.demo.ids import IdFactory
from costrail.demo.timeline import Timeline

VERTEX_PRICES = {
    "A100": Decimal("3.3741"),
    "a2-core": Decimal("0.036353"),
    "a2-ram": Decimal("0.004873"),
    "T4": Decimal("0.4025"),
    "n1-core": Decimal("0.0379"),
    "n1-ram": Decimal("0.005"),
}


def vertex(build: GcpBuild, tl: Timeline, ids: IdFactory) -> None:
    number = GCP_PROJECTS["serving"][1]
    endpoint = (
        "lumen-rerank",
        f"//aiplatform.googleapis.com/projects/{number}/locations/us-central1/endpoints/"
        + ids.digits("vertex/endpoint", 19),
    )
    system = {"aiplatform.googleapis.com/machine_type": "n1-standard-4"}
    hours = tl.all_hours
    ones = np.ones(hours.size, dtype=np.int64)

    def fields(
        description: str, project: str, resource: tuple[str, str], owner: Owner
    ) -> dict[str, Any]:
        return row_fields(
            "vertex", description, project, owner, system, "us-central1", None, resource
        )

    prediction = "Vertex AI: Online/Batch Prediction "
    build.add(
        metered_rows(
            fields(
                prediction + "Nvidia Tesla T4 GPU running in Americas",
                "serving",
                endpoint,
                PLATFORM_LUMEN,
            ),
            "seconds",
            "hour",
            VERTEX_PRICES["T4"],
            hours,
            3600.0 * ones,
            ones,
        ),
        metered_rows(
            fields(
                prediction + "N1 Predefined Instance Core running in Americas",
                "serving",
                endpoint,
                PLATFORM_LUMEN,
            ),
            "seconds",
            "hour",
            VERTEX_PRICES["n1-core"],
            hours,
            4 * 3600.0 * ones,
            4 * ones,
        ),
        metered_rows(
            fields(
                prediction + "N1 Predefined Instance Ram running in Americas",
                "serving",
                endpoint,
                PLATFORM_LUMEN,
            ),
            "byte-seconds",
            "gibibyte hour",
            VERTEX_PRICES["n1-ram"],
            hours,
            15 * 2.0**30 * 3600 * ones,
            15 * ones,
        ),
    )
    research_number = GCP_PROJECTS["research"][1]
    for start, duration in patterns.jobs(ids.rng("gcp/vertex-training"), tl, 5, 2, 10):
        job_hours = np.arange(start // 3600, (start + duration) // 3600 + 1, dtype=np.int64)
        job = (
            f"atlas-eval-{start // 3600}",
            f"//aiplatform.googleapis.com/projects/{research_number}/locations/us-central1/"
            f"customJobs/{ids.digits(f'vertex/job/{start}', 19)}",
        )
        n = np.ones(job_hours.size, dtype=np.int64)
        training = "Vertex AI: Training on "
        build.add(
            metered_rows(
                fields(
                    training + "Nvidia Tesla A100 GPU running in Americas",
                    "research",
                    job,
                    RESEARCH_ATLAS,
                ),
                "seconds",
                "hour",
                VERTEX_PRICES["A100"],
                job_hours,
                3600.0 * n,
                n,
            ),
            metered_rows(
                fields(
                    training + "A2 Instance Core running in Americas",
                    "research",
                    job,
                    RESEARCH_ATLAS,
                ),
                "seconds",
                "hour",
                VERTEX_PRICES["a2-core"],
                job_hours,
                12 * 3600.0 * n,
                12 * n,
            ),
            metered_rows(
                fields(
                    training + "A2 Instance Ram running in Americas",
                    "research",
                    job,
                    RESEARCH_ATLAS,
                ),
                "byte-seconds",
                "gibibyte hour",
                VERTEX_PRICES["a2-ram"],
                job_hours,
                85 * 2.0**30 * 3600 * n,
                85 * n,
            ),
        )


def storage(build: GcpBuild, tl: Timeline, ids: IdFactory) -> None:
    """Daily Cloud Storage rows: GiB-months stored and Class A/B operations."""
    days = np.arange(tl.days, dtype=np.int64)
    hours = days * 24
    rng = ids.rng("gcp/storage")
    for bucket, klass, price, gib, owner, ops in (
        (
            "acme-gcs-training-shards",
            "Standard",
            Decimal("0.020"),
            81_920 + 150 * days,
            RESEARCH_ATLAS,
            (40_000, 9_000_000),
        ),
        (
            "acme-gcs-eval-archive",
            "Nearline",
            Decimal("0.010"),
            np.full(tl.days, 20_480),
            RESEARCH_ATLAS,
            (2_000, 20_000),
        ),
    ):
        resource = (bucket, f"//storage.googleapis.com/projects/_/buckets/{bucket}")

        def fields(
            description: str,
            bucket_resource: tuple[str, str] = resource,
            bucket_owner: Owner = owner,
            storage_class: str = klass.upper(),
        ) -> dict[str, Any]:
            return row_fields(
                "storage",
                description,
                "research",
                bucket_owner,
                {"storage.googleapis.com/storage_class": storage_class},
                "us-central1",
                None,
                bucket_resource,
            )

        gib = np.asarray(gib, dtype=np.int64)
        build.add(
            metered_rows(
                fields(f"{klass} Storage Iowa"),
                "byte-seconds",
                "gibibyte month",
                price,
                hours,
                gib * 2.0**30 * 86400,
                gib * 24,
                tl.hours_in_month_of(hours),
                span_hours=24,
            )
        )
        class_a = rng.integers(ops[0] // 2, ops[0], tl.days)
        class_b = rng.integers(ops[1] // 2, ops[1], tl.days)
        build.add(
            metered_rows(
                fields(f"{klass} Class A Operations"),
                "requests",
                "count",
                Decimal("0.000005"),
                hours,
                class_a.astype(float),
                class_a,
                span_hours=24,
            ),
            metered_rows(
                fields(f"{klass} Class B Operations"),
                "requests",
                "count",
                Decimal("0.0000004"),
                hours,
                class_b.astype(float),
                class_b,
                span_hours=24,
            ),
        )
