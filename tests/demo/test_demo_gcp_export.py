"""The GCP part is the detailed usage cost export as BigQuery writes it to JSON lines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from costrail.demo import Truth
from tests.demo import demo_readback as readback

NESTED = {
    "service": {"id", "description"},
    "sku": {"id", "description"},
    "project": {"id", "number", "name", "labels", "ancestry_numbers", "ancestors"},
    "location": {"location", "country", "region"},
    "usage": {"amount", "unit", "amount_in_pricing_units", "pricing_unit"},
    "invoice": {"month"},
    "price": {"effective_price", "tier_start_amount", "unit", "pricing_unit_quantity"},
}


def test_one_gzip_json_lines_file_per_invoice_month(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    files = sorted(p.relative_to(root).as_posix() for p in (root / "gcp").rglob("*"))
    assert [f for f in files if f.endswith(".gz")] == [
        f"gcp/billing_export/{month}/part-000.jsonl.gz"
        for month in ("2026-09", "2026-10", "2026-11")
    ]


def test_rows_have_the_nested_fields_of_the_export_schema(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    for row in readback.gcp_rows(root):
        for name, fields in NESTED.items():
            assert fields <= set(row[name]), name  # type: ignore[arg-type]
        assert row["currency"] == "USD" and row["cost_type"] == "regular"
        assert str(row["usage_start_time"]).endswith(" UTC")
        assert all(set(label) == {"key", "value"} for label in row["labels"])  # type: ignore[attr-defined]


def test_committed_use_and_sustained_use_credits_reduce_cost(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    totals: dict[str, Decimal] = {}
    for row in readback.gcp_rows(root):
        for credit in row["credits"]:  # type: ignore[attr-defined]
            assert set(credit) == {"name", "amount", "full_name", "id", "type"}
            totals[credit["type"]] = totals.get(credit["type"], Decimal(0)) + credit["amount"]
    assert set(totals) == {"COMMITTED_USAGE_DISCOUNT", "SUSTAINED_USAGE_DISCOUNT"}
    assert all(amount < 0 for amount in totals.values())


def test_gpu_vms_carry_their_machine_type_and_team_labels(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    machines: set[str] = set()
    label_keys: set[str] = set()
    for row in readback.gcp_rows(root):
        system = {item["key"]: item["value"] for item in row["system_labels"]}  # type: ignore[attr-defined]
        machines.add(system.get("compute.googleapis.com/machine_spec", ""))
        label_keys.update(item["key"] for item in row["labels"])  # type: ignore[attr-defined]
    assert {"a2-highgpu-8g", "a2-highgpu-1g", "g2-standard-8"} <= machines
    assert {"team", "owner-team"} <= label_keys


def test_planted_gcp_resource_is_a_resource_global_name_in_the_export(
    demo: tuple[Path, Truth],
) -> None:
    root, truth = demo
    names = {row["resource"]["global_name"] for row in readback.gcp_rows(root) if "resource" in row}  # type: ignore[index]
    planted = {r for p in truth.planted if p.provider == "gcp" for r in p.resources}
    assert planted and planted <= names
