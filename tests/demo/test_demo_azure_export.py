"""The Azure part is an EA actual-cost export as Cost Management writes it (CSV)."""

from __future__ import annotations

import re
from pathlib import Path

from costrail.demo import Truth
from tests.demo import demo_readback as readback

FIXTURES = Path(__file__).parent / "fixtures"


def test_header_is_the_ea_cost_details_header_after_a_byte_order_mark(
    demo: tuple[Path, Truth],
) -> None:
    root, _ = demo
    expected = (FIXTURES / "azure_ea_header.csv").read_text(encoding="utf-8").strip()
    for path in readback.azure_files(root):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert raw[3:].decode("utf-8").splitlines()[0] == expected


def test_one_file_per_billing_period_in_a_date_range_folder(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    folders = sorted(p.parent.name for p in readback.azure_files(root))
    assert folders == ["20260901-20260930", "20261001-20261031", "20261101-20261130"]


def test_dates_are_us_format_and_tags_are_ea_key_value_pairs(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    rows = readback.azure_rows(root)
    assert all(re.fullmatch(r"\d{2}/\d{2}/2026", row["Date"]) for row in rows)
    assert all(row["Tags"] == "" or row["Tags"].startswith('"') for row in rows)
    assert any('"Team": "Research"' in row["Tags"] for row in rows)
    assert {row["MeterName"] for row in rows} >= {
        "ND96isr H100 v5",
        "P30 LRS Disk",
        "Hot LRS Data Stored",
    }


def test_vm_rows_name_the_nd_h100_v5_size_and_are_priced_per_hour(demo: tuple[Path, Truth]) -> None:
    root, truth = demo
    vm_rows = [r for r in readback.azure_rows(root) if r["MeterCategory"] == "Virtual Machines"]
    assert vm_rows
    assert all('"ServiceType":"Standard_ND96isr_H100_v5"' in r["AdditionalInfo"] for r in vm_rows)
    planted = {r for p in truth.planted if p.provider == "azure" for r in p.resources}
    assert planted <= {r["ResourceId"] for r in vm_rows}
