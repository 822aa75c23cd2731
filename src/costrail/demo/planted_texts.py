"""What each planted item is, how to fix it, and what in the data gives it away.

Kept apart from the generators so the ground truth reads like a catalogue of the demo's waste.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedText:
    description: str
    fix: str
    signal: str


PLANTED_TEXTS: dict[tuple[str, str], PlantedText] = {
    ("aws", "unused_savings_plan_commitment"): PlantedText(
        "Compute Savings Plan sized for three p4d.24xlarge training nodes; the third was "
        "decommissioned, so a third of the hourly commitment is paid but unused.",
        "Move steady GPU usage under the plan; size the next plan for two nodes.",
        "billing: SavingsPlanRecurringFee rows whose savings_plan_used_commitment stays below "
        "savings_plan_total_commitment_to_date every hour",
    ),
    ("aws", "ondemand_should_be_spot"): PlantedText(
        "Interruptible, checkpointed fine-tuning runs on p5.48xlarge On-Demand in us-west-2.",
        "Run the fine-tuning jobs on Spot with checkpointing (savings = On-Demand − Spot price).",
        "billing: On-Demand p5.48xlarge BoxUsage in start/stop training runs tagged env=research",
    ),
    ("aws", "idle_gpu_instance"): PlantedText(
        "A g5.12xlarge dev box in acme-dev runs 24×7 though it is only used in working hours.",
        "Stop the instance outside working hours (instance scheduler).",
        "billing: a GPU instance tagged env=dev billed 24×7, nights and weekends included",
    ),
    ("aws", "spend_spike"): PlantedText(
        "A runaway hyper-parameter sweep: 12 × g5.48xlarge On-Demand from 2026-10-14 02:17 "
        "to 2026-10-17 09:40 UTC.",
        "Stop the sweep; add a max-runtime guard and a budget alert on the research account.",
        "billing: daily EC2 cost of the research account jumps for three days",
    ),
    ("aws", "unused_endpoint"): PlantedText(
        "A SageMaker real-time endpoint (ml.g5.12xlarge) deployed for an evaluation and never "
        "invoked.",
        "Delete the endpoint (or use serverless inference for occasional evaluations).",
        "billing: SageMaker Host instance-hours every hour and no Hst:Data-Bytes-In/Out rows",
    ),
    ("aws", "s3_cold_data_in_standard"): PlantedText(
        "180 TiB of 2025 web-crawl data in S3 Standard, not read once in three months.",
        "Lifecycle the bucket to S3 Glacier Instant Retrieval (savings = Standard − Glacier IR).",
        "billing: S3 Standard TimedStorage-ByteHrs for a bucket with no Requests-Tier2 rows",
    ),
    ("aws", "cross_region_transfer"): PlantedText(
        "Atlas Spot training in us-west-2 streams its dataset from a us-east-1 bucket every run.",
        "Keep a copy of the training shards in us-west-2 (or train in us-east-1).",
        "billing: USE1-USW2-AWS-Out-Bytes rows on the data bucket while us-west-2 training runs",
    ),
    ("aws", "log_retention_never_expires"): PlantedText(
        "A debug log group ingesting ~320 GB/day with retention 'Never expire': its storage "
        "grows every day.",
        "Set a 30-day retention (savings = storage beyond 30 days of logs).",
        "billing: CloudWatch TimedStorage-ByteHrs of the log group grows by its daily ingestion",
    ),
    ("gcp", "idle_gpu_instance"): PlantedText(
        "An a2-highgpu-1g (A100) notebook VM runs 24×7 though it is used only in working hours.",
        "Stop the VM outside working hours (instance schedule or Workbench idle shutdown).",
        "billing: an A100 VM labelled env=dev billed 24×7, nights and weekends included",
    ),
    ("azure", "idle_gpu_instance"): PlantedText(
        "An ND96isr H100 v5 VM left running after its training job ended on 2026-10-20.",
        "Deallocate the VM when the job ends (auto-shutdown or a job-completion hook).",
        "telemetry: GPU utilisation ~0 after 2026-10-20 (billing alone shows a VM running 24×7)",
    ),
}
