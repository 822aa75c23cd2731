"""The legacy AWS CUR reader: the public sample, CSV tag columns, the Athena Parquet layout."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costrail.errors import InputError
from costrail.sources.discover import discover
from costrail.warehouse import Warehouse
from costrail.warehouse.load import ingest
from tests.conftest import PUBLIC_BILLING
from tests.sources.helpers import write_csv

SAMPLE = (
    PUBLIC_BILLING
    / "focus-converters"
    / "aws-legacy-cur"
    / "sample-anonymous-aws-export-dataset.csv"
)
SAMPLE_UNBLENDED_TOTAL = Decimal("1.68230869740")

#: A legacy CUR header subset, in AWS's `category/Attribute` spelling.
HEADER = [
    "identity/LineItemId",
    "bill/BillType",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "product/instanceType",
    "product/ProductName",
    "pricing/publicOnDemandCost",
    "reservation/ReservationARN",
    "reservation/EffectiveCost",
    "resourceTags/user:team",
    "resourceTags/aws:createdBy",
]


def _line(line_id: str, line_type: str, cost: str, **values: str) -> dict[str, str]:
    return {
        "identity/LineItemId": line_id,
        "bill/BillType": "Anniversary",
        "bill/PayerAccountId": "999988887777",
        "bill/BillingPeriodStartDate": "2024-06-01T00:00:00Z",
        "bill/BillingPeriodEndDate": "2024-07-01T00:00:00Z",
        "lineItem/UsageAccountId": "123456789012",
        "lineItem/LineItemType": line_type,
        "lineItem/UsageStartDate": "2024-06-03T10:00:00Z",
        "lineItem/UsageEndDate": "2024-06-03T11:00:00Z",
        "lineItem/ProductCode": "AmazonEC2",
        "lineItem/UsageAmount": "1",
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedCost": cost,
        **values,
    }


LINES = [
    _line(
        "gpu",
        "Usage",
        "12.24",
        **{
            "lineItem/UsageType": "BoxUsage:g6e.12xlarge",
            "product/instanceType": "g6e.12xlarge",
            "product/ProductName": "Amazon Elastic Compute Cloud",
            "pricing/publicOnDemandCost": "12.24",
            "resourceTags/user:team": "Vision Team",
            "resourceTags/aws:createdBy": "AssumedRole:AROA:ci",
        },
    ),
    _line(
        "ri",
        "DiscountedUsage",
        "0",
        **{
            "lineItem/UsageType": "BoxUsage:p4d.24xlarge",
            "product/instanceType": "p4d.24xlarge",
            "reservation/ReservationARN": "arn:aws:ec2:us-east-1:9999:reserved-instances/r1",
            "reservation/EffectiveCost": "21.5",
            "resourceTags/user:team": "llm",
        },
    ),
    _line("tax", "Tax", "3.3"),
]


def _write_csv(path: Path, lines: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    return write_csv(path, lines, header)


def _sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _by_line(warehouse: Warehouse, ids: list[str], *columns: str) -> dict[str, dict[str, Any]]:
    costs = warehouse.costs().order_by(["x_SourceFile", "x_SourceRow"])
    rows = costs.select(*columns).to_pyarrow().to_pylist()
    return dict(zip(ids, rows, strict=True))


def test_public_sample_reconciles_to_its_unblended_total(warehouse: Warehouse) -> None:
    report = ingest(warehouse, [SAMPLE])

    assert report.formats == {"aws-cur-legacy": 1}
    assert [partition.reconciled for partition in report.partitions] == [True]
    loaded = Decimal(warehouse.costs().BilledCost.sum().execute())
    assert loaded.quantize(Decimal("0.01")) == SAMPLE_UNBLENDED_TOTAL.quantize(Decimal("0.01"))
    assert loaded == SAMPLE_UNBLENDED_TOTAL
    assert warehouse.costs().count().execute() == 1281


def test_public_sample_tax_rows_are_tax_without_pricing_category(warehouse: Warehouse) -> None:
    ingest(warehouse, [SAMPLE])

    costs = warehouse.costs()
    tax = costs.filter(costs.ChargeCategory == "Tax")
    expected = sum(1 for row in _sample_rows() if row["lineItem/LineItemType"] == "Tax")
    assert tax.count().execute() == expected == 12
    assert tax.PricingCategory.notnull().sum().execute() == 0
    assert tax.PricingQuantity.notnull().sum().execute() == 0


def test_public_sample_transfer_kinds_follow_the_product_transfer_type(
    warehouse: Warehouse,
) -> None:
    ingest(warehouse, [SAMPLE])

    transfer_types = [row["product/transferType"] for row in _sample_rows()]
    expected = {
        "InterRegion": sum(t.startswith("InterRegion") for t in transfer_types),
        "IntraRegion": sum(t.startswith("IntraRegion") for t in transfer_types),
        "Internet": sum(t in ("AWS Outbound", "AWS Inbound") for t in transfer_types),
    }
    costs = warehouse.costs()
    counts = costs.group_by("x_TransferKind").aggregate(n=costs.count()).to_pyarrow().to_pylist()
    loaded = {row["x_TransferKind"]: row["n"] for row in counts if row["x_TransferKind"]}
    assert loaded == expected


def test_public_sample_glacier_storage_is_the_glacier_class(warehouse: Warehouse) -> None:
    ingest(warehouse, [SAMPLE])

    glacier_rows = sum(
        1
        for row in _sample_rows()
        if row["lineItem/ProductCode"] == "AmazonS3"
        and row["lineItem/UsageType"].endswith("TimedStorage-GlacierByteHrs")
    )
    costs = warehouse.costs()
    loaded = costs.filter(costs.x_UsageType.endswith("TimedStorage-GlacierByteHrs"))
    assert glacier_rows > 0
    assert loaded.filter(loaded.x_StorageClass == "GLACIER").count().execute() == glacier_rows


def test_public_sample_product_codes_outside_the_category_mapping_are_counted(
    warehouse: Warehouse,
) -> None:
    mapping = resources.files("costrail.sources").joinpath("data", "aws_category_mapping.csv")
    with mapping.open(encoding="utf-8") as handle:
        mapped_codes = {row["product_code"] for row in csv.DictReader(handle)}
    unmapped = sum(1 for row in _sample_rows() if row["lineItem/ProductCode"] not in mapped_codes)

    report = ingest(warehouse, [SAMPLE])

    message = "product code not in the ServiceCategory mapping, mapped to Other"
    assert unmapped > 0
    assert report.warnings.counts[message] == unmapped
    costs = warehouse.costs()
    assert costs.filter(costs.ServiceCategory == "Other").count().execute() == unmapped


def test_resource_tag_columns_become_tags_without_the_user_prefix(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    ingest(warehouse, [_write_csv(tmp_path / "cur.csv", LINES)])

    loaded = _by_line(warehouse, ["gpu", "ri", "tax"], "Tags")
    assert dict(loaded["gpu"]["Tags"]) == {
        "team": "Vision Team",
        "aws:createdBy": "AssumedRole:AROA:ci",
    }
    assert dict(loaded["ri"]["Tags"]) == {"team": "llm"}
    assert dict(loaded["tax"]["Tags"]) == {}


def test_legacy_csv_uses_the_shared_amortisation_and_gpu_mapping(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    ingest(warehouse, [_write_csv(tmp_path / "cur.csv", LINES)])

    loaded = _by_line(
        warehouse, ["gpu", "ri", "tax"], "EffectiveCost", "x_GpuModel", "x_GpuCount", "ServiceName"
    )
    assert loaded["gpu"] == {
        "EffectiveCost": Decimal("12.24"),
        "x_GpuModel": "L40S",
        "x_GpuCount": 4,
        "ServiceName": "Amazon Elastic Compute Cloud",
    }
    assert loaded["ri"]["EffectiveCost"] == Decimal("21.5")
    assert loaded["ri"]["x_GpuModel"] == "A100"


def test_gzip_legacy_csv_gives_the_same_total(warehouse: Warehouse, tmp_path: Path) -> None:
    compressed = tmp_path / "sample.csv.gz"
    with SAMPLE.open("rb") as source, gzip.open(compressed, "wb") as target:
        shutil.copyfileobj(source, target)

    ingest(warehouse, [compressed])

    assert Decimal(warehouse.costs().BilledCost.sum().execute()) == SAMPLE_UNBLENDED_TOTAL


def test_unparsable_cost_names_the_legacy_header(warehouse: Warehouse, tmp_path: Path) -> None:
    lines = [dict(line) for line in LINES]
    lines[1]["lineItem/UnblendedCost"] = "n/a"
    path = _write_csv(tmp_path / "cur.csv", lines)

    with pytest.raises(InputError) as error:
        ingest(warehouse, [path])

    assert (error.value.file, error.value.row, error.value.column) == (
        str(path),
        2,
        "lineItem/UnblendedCost",
    )
    assert warehouse.costs().count().execute() == 0


def test_file_without_the_payer_header_is_refused(tmp_path: Path) -> None:
    header = [name for name in HEADER if name != "bill/PayerAccountId"]
    lines = [{k: v for k, v in line.items() if k in header} for line in LINES]
    path = _write_csv(tmp_path / "cur.csv", lines, header)

    with pytest.raises(InputError) as error:
        discover([path])
    assert error.value.column == "bill/PayerAccountId"


def _athena_table() -> pa.Table:
    """Legacy CUR as the Athena integration writes it: snake_case, one column per tag."""
    return pa.table(
        {
            "bill_payer_account_id": ["999988887777", "999988887777"],
            "bill_billing_period_start_date": pa.array(
                [pa.scalar(1717200000000, pa.timestamp("ms"))] * 2, pa.timestamp("ms")
            ),
            "line_item_line_item_type": ["SavingsPlanCoveredUsage", "SavingsPlanNegation"],
            "line_item_usage_start_date": pa.array([1717408800000] * 2, pa.timestamp("ms")),
            "line_item_usage_end_date": pa.array([1717412400000] * 2, pa.timestamp("ms")),
            "line_item_product_code": ["AmazonEC2", "AmazonEC2"],
            "line_item_usage_type": ["BoxUsage:p5.48xlarge", "BoxUsage:p5.48xlarge"],
            "line_item_unblended_cost": [98.32, -98.32],
            "product_product_name": ["Amazon Elastic Compute Cloud"] * 2,
            "product_instance_type": ["p5.48xlarge"] * 2,
            "savings_plan_savings_plan_a_r_n": ["arn:aws:savingsplans::9:savingsplan/s"] * 2,
            "savings_plan_savings_plan_effective_cost": [61.0, 0.0],
            "resource_tags_user_team": ["llm", "llm"],
            "resource_tags_aws_created_by": ["AssumedRole:AROA:ci", None],
        }
    )


def test_athena_parquet_layout_is_read_as_legacy_cur(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "athena.parquet"
    pq.write_table(_athena_table(), path)

    report = ingest(warehouse, [path])

    assert report.formats == {"aws-cur-legacy": 1}
    loaded = _by_line(warehouse, ["covered", "negation"], "EffectiveCost", "Tags", "ServiceName")
    assert loaded["covered"]["EffectiveCost"] == Decimal("61")
    assert loaded["negation"]["EffectiveCost"] == 0
    assert dict(loaded["covered"]["Tags"]) == {
        "team": "llm",
        "aws:createdBy": "AssumedRole:AROA:ci",
    }
    assert dict(loaded["negation"]["Tags"]) == {"team": "llm"}
    assert loaded["covered"]["ServiceName"] == "Amazon Elastic Compute Cloud"


def test_legacy_manifest_expands_to_its_report_files(warehouse: Warehouse, tmp_path: Path) -> None:
    period = tmp_path / "cur" / "acme" / "20240601-20240701"
    data = _write_csv(period / "assembly-1" / "acme-00001.csv.gz", LINES)
    manifest = period / "acme-Manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "assemblyId": "assembly-1",
                "reportKeys": [f"cur/acme/20240601-20240701/assembly-1/{data.name}"],
                "billingPeriod": {"start": "20240601T000000.000Z", "end": "20240701T000000.000Z"},
            }
        ),
        encoding="utf-8",
    )

    report = ingest(warehouse, [manifest])

    assert report.formats == {"aws-cur-legacy": 1}
    assert Decimal(warehouse.costs().BilledCost.sum().execute()) == Decimal("15.54")
