"""`costrail demo`: write Acme AI's native billing exports and the ground truth next to them.

    DIR/aws/acme-cur2/{data,metadata}/BILLING_PERIOD=YYYY-MM/…   (CUR 2.0 Parquet + manifest)
    DIR/gcp/billing_export/YYYY-MM/part-000.jsonl.gz              (GCP detailed export, JSON lines)
    DIR/azure/acme-ea-actualcost/YYYYMMDD-YYYYMMDD/…csv           (Azure EA actual cost)
    DIR/llm/otel/YYYY-MM-DD.json                                   (LLM API calls, OTLP JSON spans)
    DIR/truth.json                                                 (totals + planted waste)

The same seed always gives byte-identical files.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from costrail.demo import aws_cur2, azure_export, gcp_export, gpu_telemetry
from costrail.demo.aws_fleet import build_aws
from costrail.demo.aws_scale import scale_workers
from costrail.demo.azure_fleet import build_azure
from costrail.demo.gcp_fleet import build_gcp
from costrail.demo.ids import IdFactory
from costrail.demo.llm_traffic import LLM_OTEL_DIR, build_llm_traffic
from costrail.demo.money import E6, E10, units_to_decimal
from costrail.demo.timeline import DEMO_TIMELINE, Timeline
from costrail.demo.truth import Truth

DEFAULT_SEED = 7
TRUTH_FILE = "truth.json"
#: Folders this generator owns under the output directory (cleared before writing).
OUTPUT_FOLDERS = (
    Path(aws_cur2.EXPORT_PREFIX) / aws_cur2.EXPORT_NAME,
    gcp_export.GCP_EXPORT_DIR,
    Path("azure") / azure_export.EXPORT_NAME,
    gpu_telemetry.TELEMETRY_DIR,
    LLM_OTEL_DIR,
)


def generate(
    out_dir: Path, rows: int | None = None, seed: int = DEFAULT_SEED, clean: bool = False
) -> Truth:
    """Write the demo company under `out_dir` and return (and write) its ground truth.

    `rows` scales the AWS CUR to about that many rows by adding a batch-inference fleet (values
    below the baseline of ~47k rows leave the baseline). `clean=True` writes the same company
    with every planted waste and anomaly fixed; its truth lists nothing planted.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in OUTPUT_FOLDERS:
        shutil.rmtree(out_dir / folder, ignore_errors=True)
    timeline = DEMO_TIMELINE
    ids = IdFactory(seed)

    aws = build_aws(timeline, ids, clean, rows)
    aws_files = aws_cur2.write_export(out_dir, timeline, aws.batches, ids)
    gcp = build_gcp(timeline, ids, clean)
    gcp_files = gcp_export.write_export(out_dir, timeline, gcp.batches)
    azure = build_azure(timeline, ids, clean)
    azure_files = azure_export.write_export(out_dir, timeline, azure.batches, ids)
    telemetry = gpu_telemetry.build_telemetry(timeline, ids, clean)
    telemetry_files = gpu_telemetry.write_telemetry(out_dir, telemetry)
    llm = build_llm_traffic(out_dir, timeline, ids, clean)

    def relative(paths: list[Path]) -> tuple[str, ...]:
        return tuple(p.relative_to(out_dir).as_posix() for p in paths)

    truth = Truth(
        seed=seed,
        requested_rows=rows,
        clean=clean,
        periods=timeline.periods,
        billed_by_provider_period={
            "aws": {w.period: units_to_decimal(w.billed_e10, E10) for w in aws_files},
            "gcp": {w.period: units_to_decimal(w.billed_e6, E6) for w in gcp_files},
            "azure": {w.period: units_to_decimal(w.billed_e10, E10) for w in azure_files},
        },
        row_counts={
            "aws": sum(w.rows for w in aws_files),
            "gcp": sum(w.rows for w in gcp_files),
            "azure": sum(w.rows for w in azure_files),
        },
        planted=tuple(
            p.to_truth(timeline)
            for p in [*aws.planted, *gcp.planted, *azure.planted, *telemetry.planted]
        )
        + llm.planted,
        files={
            "aws": relative(
                [w.path for w in aws_files] + [w.manifest for w in aws_files if w.manifest]
            ),
            "gcp": relative([w.path for w in gcp_files]),
            "azure": relative([w.path for w in azure_files]),
            "telemetry": relative(telemetry_files),
            "llm": relative(list(llm.files)),
        },
    )
    truth.write(out_dir / TRUTH_FILE)
    return truth


def generate_cur2_parquet(
    path: Path, rows: int, seed: int = DEFAULT_SEED, timeline: Timeline = DEMO_TIMELINE
) -> Decimal:
    """Write one CUR 2.0 Parquet file of exactly `rows` rows; return its exact billed total.

    The rows are a batch-inference fleet (On-Demand and Spot GPU instance-hours) in the first
    billing period, for ingest benchmarks at 1M–10M rows.
    """
    ids = IdFactory(seed)
    hours = timeline.hours_in_period(0)
    batches = scale_workers(timeline, ids, rows, first_hour=0, hours=hours)
    context = aws_cur2.PeriodContext(
        timeline, 0, seed, ids.digits(f"aws/invoice/{timeline.periods[0]}", 10)
    )
    written = aws_cur2.write_period(aws_cur2.CurRows(batches), context, path)
    return units_to_decimal(written.billed_e10, E10)
