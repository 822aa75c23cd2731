"""The AWS CUR 2.0 reader: amortisation per line, classification, formats, manifest, bad input."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from costrail.errors import InputError
from costrail.sources.base import SourceFile
from costrail.sources.discover import discover
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.fixtures.aws import cur2_export
from tests.fixtures.aws.cur2_export import BILLED_TOTAL, EFFECTIVE_TOTAL, ROWS
from tests.sources.helpers import map_on_spark

LINE_IDS = [row["identity_line_item_id"] for row in ROWS]


def _by_line(warehouse: Warehouse, *columns: str) -> dict[str, dict[str, Any]]:
    """Loaded rows keyed by the fixture's line item id (rows keep their file order)."""
    costs = warehouse.costs()
    rows = costs.order_by(["x_SourceFile", "x_SourceRow"]).select(*columns).to_pyarrow()
    return dict(zip(LINE_IDS, rows.to_pylist(), strict=True))


def _sum(warehouse: Warehouse, column: str) -> Decimal:
    return Decimal(warehouse.costs()[column].sum().execute())


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    return cur2_export.write_parquet(tmp_path / "cur2-00001.snappy.parquet")


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return cur2_export.write_csv_gz(tmp_path / "cur2-00001.csv.gz")


def test_billed_cost_is_net_unblended_where_present_else_unblended(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "BilledCost")
    for row in ROWS:
        assert loaded[row["identity_line_item_id"]]["BilledCost"] == row["expected"]["BilledCost"]


def test_effective_cost_follows_aws_amortisation_rules_per_line(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "EffectiveCost")
    assert loaded["sp-covered"]["EffectiveCost"] == Decimal("400")  # SP effective cost
    assert loaded["sp-negation"]["EffectiveCost"] == 0
    assert loaded["sp-fee"]["EffectiveCost"] == Decimal("100")  # 500 committed − 400 used
    assert loaded["ri-usage"]["EffectiveCost"] == Decimal("1100")  # reservation effective cost
    assert loaded["ri-fee"]["EffectiveCost"] == Decimal("100")  # 30 unused upfront + 70 recurring
    assert loaded["ri-upfront"]["EffectiveCost"] == 0
    for row in ROWS:
        line = row["identity_line_item_id"]
        assert loaded[line]["EffectiveCost"] == row["expected"]["EffectiveCost"], line


def test_parquet_totals_reconcile_and_match_the_hand_computed_totals(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    report = ingest(warehouse, [parquet_file])

    assert [partition.reconciled for partition in report.partitions] == [True]
    assert report.partitions[0].source_total == BILLED_TOTAL == Decimal("6008.29")
    assert _sum(warehouse, "BilledCost") == Decimal("6008.29")
    assert _sum(warehouse, "EffectiveCost") == EFFECTIVE_TOTAL == Decimal("2708.29")
    assert report.formats == {"aws-cur2": 1}


def test_gzip_csv_gives_the_same_totals_and_lines_as_parquet(
    warehouse: Warehouse, csv_file: Path, parquet_file: Path, tmp_path: Path
) -> None:
    ingest(warehouse, [csv_file])
    from_parquet = connect(str(tmp_path / "parquet.duckdb"))
    ingest(from_parquet, [parquet_file])

    columns = ("BilledCost", "EffectiveCost", "ListCost", "ChargeCategory", "Tags", "RegionId")
    assert _by_line(warehouse, *columns) == _by_line(from_parquet, *columns)
    assert _sum(warehouse, "BilledCost") == BILLED_TOTAL
    assert _sum(warehouse, "EffectiveCost") == EFFECTIVE_TOTAL


def test_manifest_loads_every_listed_data_file(warehouse: Warehouse, tmp_path: Path) -> None:
    manifest = cur2_export.write_export(tmp_path / "s3", "parquet", parts=2)

    report = ingest(warehouse, [manifest])

    assert report.formats == {"aws-cur2": 2}
    assert warehouse.costs().count().execute() == len(ROWS)
    assert _sum(warehouse, "BilledCost") == BILLED_TOTAL


def test_manifest_of_a_csv_export_loads_its_gzip_files(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    manifest = cur2_export.write_export(tmp_path / "s3", "csv", parts=3)

    ingest(warehouse, [manifest])

    assert _sum(warehouse, "EffectiveCost") == EFFECTIVE_TOTAL


def test_manifest_naming_a_missing_data_file_is_an_input_error(tmp_path: Path) -> None:
    manifest = cur2_export.write_export(tmp_path / "s3", "parquet", parts=2)
    next((tmp_path / "s3").rglob("*-00002.snappy.parquet")).unlink()

    with pytest.raises(InputError, match=r"00002\.snappy\.parquet") as error:
        discover([manifest])
    assert error.value.file == str(manifest)


def test_reingesting_the_same_files_leaves_totals_unchanged(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])
    ingest(warehouse, [parquet_file])

    assert warehouse.costs().count().execute() == len(ROWS)
    assert _sum(warehouse, "BilledCost") == BILLED_TOTAL


def test_unparsable_cost_in_csv_names_file_row_and_column_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[3]["line_item_unblended_cost"] = "12,50"
    bad = cur2_export.write_csv_gz(tmp_path / "bad.csv.gz", rows)

    with pytest.raises(InputError) as error:
        ingest(warehouse, [bad])

    assert (error.value.file, error.value.row, error.value.column) == (
        str(bad),
        4,
        "line_item_unblended_cost",
    )
    assert "'12,50'" in str(error.value)
    assert warehouse.costs().count().execute() == 0


def test_malformed_tag_json_in_csv_names_file_row_and_column(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    bad = cur2_export.write_csv_gz(tmp_path / "bad.csv.gz")
    lines = gzip.decompress(bad.read_bytes()).decode("utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace('{""user_team"":""ml-infra""}', '{""user_team"":""ml-infra""')
    bad.write_bytes(gzip.compress("".join(lines).encode("utf-8")))

    with pytest.raises(InputError) as error:
        ingest(warehouse, [bad])

    assert (error.value.row, error.value.column) == (2, "resource_tags")
    assert warehouse.costs().count().execute() == 0


def test_truncated_parquet_is_an_input_error(warehouse: Warehouse, parquet_file: Path) -> None:
    data = parquet_file.read_bytes()
    parquet_file.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputError):
        ingest(warehouse, [parquet_file])
    assert warehouse.costs().count().execute() == 0


def test_truncated_gzip_csv_is_an_input_error(warehouse: Warehouse, csv_file: Path) -> None:
    data = gzip.compress(gzip.decompress(csv_file.read_bytes()))
    csv_file.write_bytes(data[: len(data) - 40])

    with pytest.raises(InputError):
        ingest(warehouse, [csv_file])


def test_export_without_the_payer_column_is_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    table = cur2_export.arrow_table().drop_columns(["bill_payer_account_id"])
    path = tmp_path / "no-payer.parquet"
    pq.write_table(table, path)

    with pytest.raises(InputError, match="bill_payer_account_id"):
        ingest(warehouse, [path])


def test_missing_amortisation_column_falls_back_to_billed_cost_with_a_counted_warning(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    table = cur2_export.arrow_table().drop_columns(["savings_plan_savings_plan_effective_cost"])
    path = tmp_path / "no-sp-effective.parquet"
    pq.write_table(table, path)

    report = ingest(warehouse, [path])

    assert _by_line(warehouse, "EffectiveCost")["sp-covered"]["EffectiveCost"] == Decimal("567.2")
    assert report.warnings.counts == {
        "EffectiveCost of SavingsPlanCoveredUsage rows set to BilledCost: "
        "savings_plan_savings_plan_effective_cost missing or empty": 1
    }


def test_negation_rows_carry_no_quantity_so_usage_is_counted_once(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "ConsumedQuantity", "PricingQuantity")
    assert loaded["sp-covered"]["ConsumedQuantity"] == Decimal("100")
    assert loaded["sp-negation"] == {"ConsumedQuantity": 0, "PricingQuantity": 0}
    assert loaded["ri-fee"]["ConsumedQuantity"] is None  # a purchase, not consumption
    assert loaded["tax"]["PricingQuantity"] is None


def test_charge_categories_and_pricing_categories_follow_the_line_item_type(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "ChargeCategory", "PricingCategory", "ChargeFrequency")
    expected = {
        "od-gpu": ("Usage", "Standard", "Usage-Based"),
        "spot-gpu": ("Usage", "Dynamic", "Usage-Based"),
        "sp-covered": ("Usage", "Committed", "Usage-Based"),
        "sp-negation": ("Usage", "Committed", "Usage-Based"),
        "sp-fee": ("Purchase", "Standard", "Recurring"),
        "ri-usage": ("Usage", "Committed", "Usage-Based"),
        "ri-fee": ("Purchase", "Standard", "Recurring"),
        "ri-upfront": ("Purchase", "Standard", "One-Time"),
        "tax": ("Tax", None, "Recurring"),
        "credit": ("Credit", None, "One-Time"),
    }
    for line, (category, pricing, frequency) in expected.items():
        assert tuple(loaded[line].values()) == (category, pricing, frequency), line


def test_purchase_option_and_commitment_columns(warehouse: Warehouse, parquet_file: Path) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(
        warehouse,
        "x_PurchaseOption",
        "CommitmentDiscountId",
        "CommitmentDiscountType",
        "CommitmentDiscountCategory",
        "CommitmentDiscountStatus",
    )
    assert loaded["od-gpu"]["x_PurchaseOption"] == "OnDemand"
    assert loaded["spot-gpu"]["x_PurchaseOption"] == "Spot"
    assert loaded["od-gpu"]["CommitmentDiscountId"] is None
    assert loaded["sp-covered"] == {
        "x_PurchaseOption": "SavingsPlan",
        "CommitmentDiscountId": cur2_export.SP_ARN,
        "CommitmentDiscountType": "Savings Plan",
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountStatus": "Used",
    }
    assert loaded["ri-usage"] == {
        "x_PurchaseOption": "Reserved",
        "CommitmentDiscountId": cur2_export.RI_ARN,
        "CommitmentDiscountType": "Reserved Instance",
        "CommitmentDiscountCategory": "Usage",
        "CommitmentDiscountStatus": "Used",
    }
    assert loaded["ri-fee"]["CommitmentDiscountStatus"] is None
    assert loaded["ri-upfront"]["x_PurchaseOption"] == "Reserved"


def test_list_and_contracted_cost_leave_commitments_out(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "ListCost", "ContractedCost", "ListUnitPrice")
    assert loaded["od-gpu"]["ListCost"] == Decimal("983.2")
    assert loaded["od-gpu"]["ContractedCost"] == Decimal("934.04")
    assert loaded["od-gpu"]["ListUnitPrice"] == Decimal("98.32")
    assert loaded["sp-negation"]["ListCost"] == loaded["sp-negation"]["ContractedCost"] == 0
    assert loaded["ri-usage"]["ListCost"] == Decimal("1638.5")
    assert loaded["tax"]["ListCost"] == Decimal("120.5")


def test_gpu_and_instance_type_come_from_the_product_or_the_spot_usage_type(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "x_InstanceType", "x_GpuModel", "x_GpuCount")
    assert loaded["od-gpu"] == {
        "x_InstanceType": "p5.48xlarge",
        "x_GpuModel": "H100",
        "x_GpuCount": 8,
    }
    assert loaded["spot-gpu"] == {
        "x_InstanceType": "g5.xlarge",
        "x_GpuModel": "A10G",
        "x_GpuCount": 1,
    }
    assert loaded["ri-usage"]["x_GpuModel"] == "A100"
    assert loaded["s3-ia"] == {"x_InstanceType": None, "x_GpuModel": None, "x_GpuCount": None}


def test_storage_class_transfer_kind_and_regions(warehouse: Warehouse, parquet_file: Path) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(
        warehouse, "x_StorageClass", "x_TransferKind", "x_FromRegion", "x_ToRegion", "RegionId"
    )
    assert loaded["s3-ia"]["x_StorageClass"] == "STANDARD_IA"
    assert loaded["s3-ia"]["RegionId"] == "us-east-1"
    assert loaded["transfer"]["x_TransferKind"] == "InterRegion"
    assert (loaded["transfer"]["x_FromRegion"], loaded["transfer"]["x_ToRegion"]) == (
        "us-east-1",
        "us-west-2",
    )
    assert loaded["od-gpu"]["x_TransferKind"] is None


def test_service_columns_and_parties(warehouse: Warehouse, parquet_file: Path) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(
        warehouse,
        "ServiceName",
        "ServiceCategory",
        "x_ServiceCode",
        "ProviderName",
        "PublisherName",
        "BillingAccountId",
        "SubAccountId",
        "x_Provider",
    )
    assert loaded["od-gpu"] == {
        "ServiceName": "Amazon Elastic Compute Cloud",
        "ServiceCategory": "Compute",
        "x_ServiceCode": "AmazonEC2",
        "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services, Inc.",
        "BillingAccountId": cur2_export.PAYER,
        "SubAccountId": cur2_export.USAGE_ACCOUNT,
        "x_Provider": "aws",
    }
    assert loaded["s3-ia"]["ServiceCategory"] == "Storage"


def test_tags_drop_the_user_prefix_keep_aws_tags_and_keep_values_exactly(
    warehouse: Warehouse, parquet_file: Path
) -> None:
    ingest(warehouse, [parquet_file])

    loaded = _by_line(warehouse, "Tags")
    assert dict(loaded["od-gpu"]["Tags"]) == {
        "team": "ml-research",
        "Cost Center": " 42 ",
        "aws:createdBy": "IAMUser:AIDA:alice",
    }
    assert loaded["tax"]["Tags"] is None


def test_snake_case_files_with_map_columns_are_detected_as_cur2(parquet_file: Path) -> None:
    found = discover([parquet_file])

    assert [group.reader.name for group in found.groups] == ["aws-cur2"]


@pytest.mark.spark
def test_cur2_mapping_gives_the_same_totals_on_spark(
    spark_session: Any, parquet_file: Path
) -> None:
    files = [SourceFile.from_path(parquet_file, "parquet")]

    mapped, source = map_on_spark(spark_session, "aws-cur2", files)
    totals = mapped.aggregate(
        billed=mapped.BilledCost.sum(), effective=mapped.EffectiveCost.sum()
    ).to_pyarrow()

    assert totals.to_pylist() == [{"billed": BILLED_TOTAL, "effective": EFFECTIVE_TOTAL}]
    assert [row["source_total"] for row in source.to_pyarrow().to_pylist()] == [BILLED_TOTAL]
    tagged = mapped.filter(mapped.Tags["team"] == "ml-research").count().to_pyarrow().as_py()
    assert tagged == 2
