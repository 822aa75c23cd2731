"""GPU analyses on small hand-built `gpu_samples` + `costs` tables: one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from costrail.analyses import AnalysisContext, Thresholds, analyses
from costrail.schema.costs import conform_costs
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA

START = datetime(2026, 11, 1, tzinfo=UTC)
HOURS = 48
INSTANCE = "i-0123456789abcdef0"


def samples(
    host: str,
    gpus: int,
    busy: list[float] | float,
    memory_mib: float = 30000.0,
    model: str = "NVIDIA A100-SXM4-40GB",
    signal: str = "sm_active",
    pod: str | None = None,
    hours: int = HOURS,
) -> list[dict[str, Any]]:
    """One sample every 15 minutes per GPU; `busy` is per hour (list) or constant."""
    rows = []
    for step in range(hours * 4):
        value = busy[step // 4] if isinstance(busy, list) else busy
        for index in range(gpus):
            row: dict[str, Any] = {name: None for name in GPU_SAMPLES_SCHEMA.names}
            row.update(
                time=START + timedelta(minutes=15 * step),
                host=host,
                gpu_index=index,
                gpu_uuid=f"GPU-{host}-{index}",
                gpu_model=model,
                memory_used_mib=memory_mib,
                memory_total_mib=40960.0,
                interval_s=900.0,
                namespace="ml" if pod else None,
                pod=pod,
                source="test",
            )
            if signal == "gpu_util":
                row["gpu_util_pct"] = value * 100
            else:
                row[signal] = value
                row["gpu_util_pct"] = min(100.0, value * 100 + 50)
            rows.append(row)
    return rows


def bill(resource: str, instance_type: str, gpus: int, hourly_usd: str) -> list[dict[str, Any]]:
    """Hourly AWS usage rows for the sampled hours."""
    return [
        {
            "ResourceId": resource,
            "x_Provider": "aws",
            "x_InstanceType": instance_type,
            "x_GpuModel": "A100",
            "x_GpuCount": gpus,
            "ChargeCategory": "Usage",
            "ConsumedUnit": "Hrs",
            "ConsumedQuantity": Decimal(1),
            "EffectiveCost": Decimal(hourly_usd),
            "ChargePeriodStart": START + timedelta(hours=h),
            "ChargePeriodEnd": START + timedelta(hours=h + 1),
        }
        for h in range(HOURS)
    ]


def context(
    rows: list[dict[str, Any]],
    costs: list[dict[str, Any]] | None = None,
    thresholds: Thresholds | None = None,
) -> AnalysisContext:
    table = pa.Table.from_pylist(rows, schema=GPU_SAMPLES_SCHEMA.to_pyarrow())
    cost_rows = costs or [{"ResourceId": "none", "ChargePeriodStart": START}]
    return AnalysisContext(
        costs=conform_costs(ibis.memtable(cost_rows)),
        engine="duckdb",
        window_start=START,
        window_end=START + timedelta(hours=HOURS),
        thresholds=thresholds or Thresholds(),
        gpu_samples=ibis.memtable(table),
    )


def test_an_idle_run_shorter_than_the_minimum_hours_is_not_reported() -> None:
    busy = [0.8] * HOURS
    busy[10:13] = [0.0, 0.0, 0.0]  # three idle hours; the default minimum is four
    found = analyses.get("gpu_idle")(context(samples(f"{INSTANCE}.ec2.internal", 8, busy)))
    assert found == []


def test_an_idle_run_of_the_minimum_hours_is_priced_from_the_bill() -> None:
    busy = [0.8] * HOURS
    busy[10:22] = [0.0] * 12
    rows = samples(f"{INSTANCE}.ec2.internal", 8, busy)
    found = analyses.get("gpu_idle")(context(rows, bill(INSTANCE, "p4d.24xlarge", 8, "32")))
    (finding,) = found
    assert finding.resources == (INSTANCE,)
    assert finding.evidence["price_source"] == "billed"
    # 12 idle hours × 8 GPUs × $4/GPU-hour, over a 48-hour span → × 15 for 30 days
    assert finding.monthly_savings_usd == Decimal(12 * 8 * 4 * 15)


def test_without_a_bill_the_price_comes_from_the_catalog() -> None:
    rows = samples("gpu-box-7", 2, 0.0, memory_mib=0.0)
    (finding,) = analyses.get("gpu_idle")(context(rows))
    assert finding.evidence["price_source"].startswith("catalog: ")
    assert finding.monthly_savings_usd > 0


def test_a_configured_price_replaces_the_catalog_for_unbilled_hosts() -> None:
    rows = samples("gpu-box-7", 1, 0.0, memory_mib=0.0, model="")
    chosen = Thresholds(gpu_default_usd_per_gpu_hour=Decimal("2"))
    (finding,) = analyses.get("gpu_idle")(context(rows, thresholds=chosen))
    assert finding.evidence["price_source"].startswith("configured")
    assert finding.monthly_savings_usd == Decimal(2 * 48 * 15)


def test_low_utilisation_reads_the_best_busy_signal_available() -> None:
    rows = samples("a", 4, 0.15, signal="sm_active") + samples("b", 4, 0.15, signal="gpu_util")
    found = analyses.get("gpu_low_utilisation")(context(rows))
    signals = {f.evidence["host"]: f.evidence["busy_signal"] for f in found}
    assert signals == {"a": "sm_active", "b": "gpu_util"}


def test_low_utilisation_saves_the_gpus_consolidation_frees() -> None:
    rows = samples(f"{INSTANCE}.ec2.internal", 8, 0.2)
    costs = bill(INSTANCE, "p4d.24xlarge", 8, "32")
    (finding,) = analyses.get("gpu_low_utilisation")(context(rows, costs))
    # 8 × 0.2 = 1.6 GPUs of work at 70 % → 3 GPUs; 5 spare × $4 × 48 h × 15
    assert finding.evidence["gpus_needed_at_target"] == 3
    assert finding.monthly_savings_usd == Decimal(5 * 4 * 48 * 15)


def test_oversized_picks_a_cheaper_gpu_that_fits() -> None:
    rows = samples(
        f"{INSTANCE}.ec2.internal", 1, 0.05, memory_mib=14000.0, model="NVIDIA H100 80GB HBM3"
    )
    costs = bill(INSTANCE, "p5.4xlarge", 1, "6.88")
    (finding,) = analyses.get("gpu_oversized")(context(rows, costs))
    (move,) = finding.evidence["moves"].values()
    assert move["from"] == "H100-SXM" and move["to"] != "H100-SXM"
    assert Decimal(move["to_usd_per_gpu_hour"]) < Decimal("6.88")
    assert move["needed_memory_mib"] <= 24 * 1024 or move["to"] not in ("L4", "A10G")


def test_a_gpu_using_most_of_its_memory_is_not_oversized() -> None:
    rows = samples(
        f"{INSTANCE}.ec2.internal", 1, 0.05, memory_mib=60000.0, model="NVIDIA H100 80GB HBM3"
    )
    assert (
        analyses.get("gpu_oversized")(context(rows, bill(INSTANCE, "p5.4xlarge", 1, "6.88"))) == []
    )


def test_a_zombie_needs_a_pod_holding_the_gpu() -> None:
    with_pod = samples("node-a", 1, 0.0, memory_mib=0.0, pod="trainer-0")
    without_pod = samples("node-b", 1, 0.0, memory_mib=0.0)
    found = analyses.get("gpu_zombie")(context(with_pod + without_pod))
    assert [f.evidence["host"] for f in found] == ["node-a"]
    assert found[0].evidence["zombie_pods"] == ["ml/trainer-0"]


def test_the_fleet_summary_counts_busy_and_idle_gpu_hours() -> None:
    rows = samples("a", 2, 0.5) + samples("b", 2, 0.0, memory_mib=0.0)
    (finding,) = analyses.get("gpu_fleet_efficiency")(context(rows))
    assert finding.evidence["observed_gpu_hours"] == 4 * HOURS
    assert finding.evidence["idle_gpu_hours"] == 2 * HOURS
    assert finding.evidence["effective_utilisation_pct"] == pytest.approx(25.0)


@pytest.mark.spark
def test_gpu_findings_are_the_same_on_spark(spark_session: Any, tmp_path: Any) -> None:
    from costrail.warehouse import connect

    busy = [0.8] * HOURS
    busy[10:22] = [0.0] * 12
    rows = samples(f"{INSTANCE}.ec2.internal", 8, busy) + samples("n", 1, 0.0, 0.0, pod="p")
    duck = context(rows, bill(INSTANCE, "p4d.24xlarge", 8, "32"))
    warehouse = connect(f"spark://{tmp_path / 'spark'}", spark=spark_session)
    table = pa.Table.from_pylist(rows, schema=GPU_SAMPLES_SCHEMA.to_pyarrow())
    warehouse.replace("gpu_samples", ibis.memtable(table), GPU_SAMPLES_SCHEMA, ("host",))
    on_spark = AnalysisContext(
        costs=duck.costs,
        engine="spark",
        window_start=duck.window_start,
        window_end=duck.window_end,
        gpu_samples=warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA),
    )
    kinds = ("gpu_idle", "gpu_zombie")

    def key(ctx: AnalysisContext) -> list[tuple[str, str]]:
        return sorted(
            (f.kind, str(f.monthly_savings_usd)) for k in kinds for f in analyses.get(k)(ctx)
        )

    assert key(on_spark) == key(duck)
