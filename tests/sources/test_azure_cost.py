"""The Azure cost reader on real EA samples and an MCA export: totals, categories, GPUs, tags."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costrail.errors import InputError
from costrail.sources.base import SourceFile
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.conftest import PUBLIC_BILLING
from tests.sources.helpers import map_on_spark, write_csv

EA_EXPORTS = PUBLIC_BILLING / "finops-toolkit" / "azure-ea-export"
EA_ACTUAL = EA_EXPORTS / "EA_ActualCost_Small.csv"
EA_AMORTIZED = EA_EXPORTS / "EA_AmortizedCost_Small.csv"
CONVERTERS_EA = (
    PUBLIC_BILLING / "focus-converters" / "azure-ea" / "sample-anonymous-ea-export-dataset.csv"
)
MCA_AMORTIZED = Path(__file__).resolve().parents[1] / "fixtures" / "azure" / "mca_amortized.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _column_total(path: Path, column: str) -> Decimal:
    return sum((Decimal(row[column]) for row in _rows(path) if row[column]), Decimal(0))


def _by_source_row(warehouse: Warehouse) -> dict[int, dict[str, Any]]:
    return {row["x_SourceRow"]: row for row in warehouse.costs().to_pyarrow().to_pylist()}


@pytest.fixture(scope="module")
def mca(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    """The MCA fixture loaded once; rows by their line in the file (1 = first data row)."""
    warehouse = connect(str(tmp_path_factory.mktemp("mca") / "warehouse.duckdb"))
    ingest(warehouse, [MCA_AMORTIZED])
    return _by_source_row(warehouse)


@pytest.fixture(scope="module")
def ea_actual(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    warehouse = connect(str(tmp_path_factory.mktemp("ea") / "warehouse.duckdb"))
    ingest(warehouse, [EA_ACTUAL])
    return _by_source_row(warehouse)


@pytest.mark.parametrize("export", [EA_ACTUAL, EA_AMORTIZED], ids=["actual", "amortized"])
def test_ea_sample_reconciles_to_the_sum_of_its_cost_column(
    warehouse: Warehouse, export: Path
) -> None:
    report = ingest(warehouse, [export])

    expected = _column_total(export, "Cost")
    assert report.formats == {"azure-cost": 1}
    assert [p.reconciled for p in report.partitions] == [True]
    assert abs(report.partitions[0].source_total - expected) < Decimal("1e-12")
    assert report.partitions[0].loaded_rows == len(_rows(export))
    costs = warehouse.costs()
    assert abs(costs.BilledCost.sum().execute() - expected) < Decimal("1e-9")
    assert abs(costs.EffectiveCost.sum().execute() - expected) < Decimal("1e-9")


def test_focus_converters_ea_sample_loads_with_cost_in_billing_currency(
    warehouse: Warehouse,
) -> None:
    report = ingest(warehouse, [CONVERTERS_EA])

    expected = _column_total(CONVERTERS_EA, "CostInBillingCurrency")
    assert [p.reconciled for p in report.partitions] == [True]
    assert report.partitions[0].currency == "CAD"
    assert abs(warehouse.costs().BilledCost.sum().execute() - expected) < Decimal("1e-9")
    assert warehouse.costs().count().execute() == 27


def test_ea_and_mca_exports_load_together_in_one_ingest(warehouse: Warehouse) -> None:
    report = ingest(warehouse, [EA_ACTUAL, MCA_AMORTIZED])

    totals = {p.billing_account_id: p.source_total for p in report.partitions}
    assert all(partition.reconciled for partition in report.partitions)
    assert abs(totals["8611537"] - _column_total(EA_ACTUAL, "Cost")) < Decimal("1e-12")
    mca_account = _rows(MCA_AMORTIZED)[0]["billingAccountId"]
    assert totals[mca_account] == _column_total(MCA_AMORTIZED, "costInBillingCurrency")


def test_reingesting_a_period_replaces_it_instead_of_doubling(warehouse: Warehouse) -> None:
    ingest(warehouse, [EA_ACTUAL])
    ingest(warehouse, [EA_AMORTIZED])

    expected = _column_total(EA_AMORTIZED, "Cost")
    assert abs(warehouse.costs().BilledCost.sum().execute() - expected) < Decimal("1e-9")
    statuses = warehouse.ingests().status.execute().tolist()
    assert sorted(statuses) == ["reconciled", "replaced"]


def test_unparsable_cost_names_file_row_and_column_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    rows = _rows(EA_ACTUAL)
    rows[4]["Cost"] = "1,25"
    broken = write_csv(tmp_path / "ea_actual.csv", rows)

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [broken])

    assert (raised.value.file, raised.value.row, raised.value.column) == (str(broken), 5, "Cost")
    assert warehouse.costs().count().execute() == 0
    assert warehouse.ingests().count().execute() == 0


def test_ea_dates_in_us_form_give_utc_periods(ea_actual: dict[int, dict[str, Any]]) -> None:
    purchase = ea_actual[1]

    assert purchase["BillingPeriodStart"] == datetime(2023, 9, 1, tzinfo=UTC)
    assert purchase["BillingPeriodEnd"] == datetime(2023, 10, 1, tzinfo=UTC)
    assert purchase["ChargePeriodStart"] == datetime(2023, 9, 21, tzinfo=UTC)
    assert purchase["ChargePeriodEnd"] == datetime(2023, 9, 22, tzinfo=UTC)


def test_reservation_purchase_is_a_committed_purchase(ea_actual: dict[int, dict[str, Any]]) -> None:
    purchase = ea_actual[1]

    assert purchase["ChargeCategory"] == "Purchase"
    assert purchase["ChargeFrequency"] == "Recurring"
    assert purchase["CommitmentDiscountType"] == "Reservation"
    assert purchase["CommitmentDiscountName"] == "VM_RI_06-21-2023_18-56"
    assert purchase["x_PurchaseOption"] == "Reserved"
    assert purchase["BillingAccountId"] == "8611537"


def test_ea_tags_without_braces_become_a_map(ea_actual: dict[int, dict[str, Any]]) -> None:
    tags = dict(ea_actual[2]["Tags"])

    assert tags == {
        "CostCenter": "1234",
        "env": "prod",
        "org": "trey",
        "application": "databricks",
        "databricks-environment": "true",
    }


def test_region_spellings_are_normalised(ea_actual: dict[int, dict[str, Any]]) -> None:
    assert (ea_actual[2]["RegionId"], ea_actual[2]["RegionName"]) == ("eastus2", "East US 2")
    assert ea_actual[4]["RegionId"] == "southcentralus"
    assert ea_actual[7]["RegionId"] is None  # no ResourceLocation in the export


def test_vm_size_comes_from_additional_info(ea_actual: dict[int, dict[str, Any]]) -> None:
    assert ea_actual[4]["x_InstanceType"] == "Standard_D2s_v3"
    assert ea_actual[4]["x_GpuModel"] is None


def test_camel_case_mca_columns_are_read(mca: dict[int, dict[str, Any]]) -> None:
    vm = mca[1]

    assert vm["BilledCost"] == Decimal("2167.6032")
    assert vm["BillingCurrency"] == "EUR"
    assert vm["SubAccountName"] == "ml-prod"
    assert vm["BillingPeriodEnd"] == datetime(2024, 6, 1, tzinfo=UTC)
    assert vm["ServiceName"] == "Virtual Machines"
    assert vm["ServiceCategory"] == "Compute"
    assert dict(vm["Tags"]) == {"team": "research", "project": "llm-pretrain"}


def test_gpu_vm_from_additional_info_gets_model_and_count(mca: dict[int, dict[str, Any]]) -> None:
    vm = mca[1]

    assert (vm["x_InstanceType"], vm["x_GpuModel"], vm["x_GpuCount"]) == (
        "Standard_ND96isr_H100_v5",
        "H100",
        8,
    )
    assert (vm["PricingCategory"], vm["x_PurchaseOption"]) == ("Standard", "OnDemand")


def test_spot_vm_size_comes_from_the_meter_name(mca: dict[int, dict[str, Any]]) -> None:
    spot = mca[2]

    assert spot["x_InstanceType"] == "Standard_NC24ads_A100_v4"
    assert spot["x_GpuCount"] == 1
    assert (spot["PricingCategory"], spot["x_PurchaseOption"]) == ("Dynamic", "Spot")


def test_reservation_usage_and_unused_reservation_carry_commitment_status(
    mca: dict[int, dict[str, Any]],
) -> None:
    used, unused = mca[3], mca[4]

    assert (used["ChargeCategory"], used["CommitmentDiscountStatus"]) == ("Usage", "Used")
    assert (unused["ChargeCategory"], unused["CommitmentDiscountStatus"]) == ("Usage", "Unused")
    for row in (used, unused):
        assert row["PricingCategory"] == "Committed"
        assert row["CommitmentDiscountCategory"] == "Usage"
        assert row["CommitmentDiscountName"] == "nc-a100-1y"
        assert row["x_PurchaseOption"] == "Reserved"
    assert unused["EffectiveCost"] == Decimal("5.46")


def test_refund_is_a_correcting_credit(mca: dict[int, dict[str, Any]]) -> None:
    refund = mca[8]

    assert (refund["ChargeCategory"], refund["ChargeClass"]) == ("Credit", "Correction")
    assert refund["BilledCost"] == Decimal("-120")
    assert refund["ChargeFrequency"] == "One-Time"
    assert refund["ContractedCost"] == refund["ListCost"] == Decimal("-120")


def test_storage_tier_and_block_sized_units(mca: dict[int, dict[str, Any]]) -> None:
    blob = mca[5]

    assert blob["x_StorageClass"] == "Cool"
    assert (blob["PricingQuantity"], blob["PricingUnit"]) == (Decimal("1.5"), "100 GB/Month")
    assert (blob["ConsumedQuantity"], blob["ConsumedUnit"]) == (Decimal("150"), "GB/Month")


def test_transfer_kind_from_bandwidth_meters(mca: dict[int, dict[str, Any]]) -> None:
    assert mca[6]["x_TransferKind"] == "Internet"
    assert mca[7]["x_TransferKind"] == "InterRegion"
    assert mca[1]["x_TransferKind"] is None


def test_iso_dates_with_seven_fraction_digits_parse(mca: dict[int, dict[str, Any]]) -> None:
    assert mca[6]["ChargePeriodStart"] == datetime(2024, 5, 15, tzinfo=UTC)
    assert mca[6]["ChargePeriodEnd"] == datetime(2024, 5, 16, tzinfo=UTC)


def test_list_cost_uses_the_pay_as_you_go_cost(mca: dict[int, dict[str, Any]]) -> None:
    assert mca[3]["ListCost"] == Decimal("81.12")
    assert mca[3]["ContractedCost"] == Decimal("81.12")  # 24 h x unit price 3.38


def test_tags_that_are_not_json_are_a_counted_warning(warehouse: Warehouse, tmp_path: Path) -> None:
    rows = _rows(EA_ACTUAL)
    rows[1]["Tags"] = '"env": prod'
    export = write_csv(tmp_path / "ea_actual.csv", rows)

    report = ingest(warehouse, [export])

    assert report.warnings.counts["Tags that are not JSON left empty"] == 1
    costs = warehouse.costs()
    assert costs.filter(costs.x_SourceRow == 2).Tags.isnull().execute().tolist() == [True]


@pytest.mark.spark
def test_mapping_compiles_and_gives_the_same_totals_on_spark(spark_session: Any) -> None:
    files = [SourceFile.from_path(MCA_AMORTIZED, "csv"), SourceFile.from_path(EA_AMORTIZED, "csv")]

    mapped, source = map_on_spark(spark_session, "azure-cost", files)
    loaded = mapped.group_by("BillingAccountId").aggregate(
        total=mapped.BilledCost.sum(), rows=mapped.count()
    )

    expected = {
        "8611537": _column_total(EA_AMORTIZED, "Cost"),
        _rows(MCA_AMORTIZED)[0]["billingAccountId"]: _column_total(
            MCA_AMORTIZED, "costInBillingCurrency"
        ),
    }
    loaded_rows = loaded.to_pyarrow().to_pylist()
    assert {row["BillingAccountId"]: row["rows"] for row in loaded_rows} == {
        "8611537": 28,
        _rows(MCA_AMORTIZED)[0]["billingAccountId"]: 8,
    }
    for row in loaded_rows:
        assert abs(row["total"] - expected[row["BillingAccountId"]]) < Decimal("1e-9")
    for row in source.to_pyarrow().to_pylist():
        assert abs(row["source_total"] - expected[row["BillingAccountId"]]) < Decimal("1e-12")
    spot = mapped.filter(mapped.x_PurchaseOption == "Spot").x_GpuModel.to_pyarrow().to_pylist()
    assert spot == ["A100-80GB"]
