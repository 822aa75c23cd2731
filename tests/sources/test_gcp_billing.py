"""The GCP billing reader: JSON lines, Parquet and CSV; one FOCUS row per cost and per credit."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costrail.errors import InputError
from costrail.sources.base import SourceFile
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.sources.helpers import map_on_spark

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gcp"
EXPORT_JSONL = FIXTURES / "billing_export.jsonl"
EXPORT_CSV = FIXTURES / "billing_export.csv"
ACCOUNT = "01A2B3-C4D5E6-F7A8B9"


def _records() -> list[dict[str, Any]]:
    with EXPORT_JSONL.open(encoding="utf-8") as handle:
        return [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]


def _invoice_totals() -> dict[str, Decimal]:
    """The invoice total per month, straight from the export: cost plus every credit."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in _records():
        month = record["invoice"]["month"]
        totals[month] += Decimal(record["cost"])
        for credit in record["credits"]:
            totals[month] += Decimal(credit["amount"])
    return dict(totals)


def _gzip_copy(tmp_path: Path) -> Path:
    target = tmp_path / "billing_export.jsonl.gz"
    with EXPORT_JSONL.open("rb") as source, gzip.open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
    return target


def _parquet_copy(tmp_path: Path) -> Path:
    """The same rows as BigQuery writes Parquet: nested records, TIMESTAMP as timestamps."""
    rows = []
    for record in json.loads("[" + ",".join(EXPORT_JSONL.read_text().splitlines()) + "]"):
        for field in ("usage_start_time", "usage_end_time", "export_time"):
            text = record[field].removesuffix(" UTC")
            record[field] = datetime.fromisoformat(text).replace(tzinfo=UTC)
        rows.append(record)
    target = tmp_path / "billing_export.parquet"
    pq.write_table(pa.Table.from_pylist(rows), target)
    return target


def _month_totals(warehouse: Warehouse) -> dict[str, Decimal]:
    costs = warehouse.costs()
    rows = (
        costs.group_by(month=costs.BillingPeriodStart.strftime("%Y%m"))
        .aggregate(total=costs.BilledCost.sum())
        .to_pyarrow()
        .to_pylist()
    )
    return {row["month"]: row["total"] for row in rows}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """One load of the JSON lines export, shared by the tests that only read it."""
    warehouse = connect(str(tmp_path_factory.mktemp("gcp") / "warehouse.duckdb"))
    ingest(warehouse, [EXPORT_JSONL])
    return warehouse


def test_gzip_parquet_and_csv_variants_give_the_same_totals_as_json_lines(tmp_path: Path) -> None:
    variants = {
        "jsonl": EXPORT_JSONL,
        "jsonl.gz": _gzip_copy(tmp_path),
        "parquet": _parquet_copy(tmp_path),
        "csv": EXPORT_CSV,
    }
    totals = {}
    for name, path in variants.items():
        warehouse = connect(str(tmp_path / f"{name}.duckdb"))
        report = ingest(warehouse, [path])
        assert report.formats == {"gcp-billing": 1}
        totals[name] = (_month_totals(warehouse), warehouse.costs().count().execute())

    expected = _invoice_totals()
    assert all(total == (expected, 12) for total in totals.values()), totals


def test_csv_flattened_with_underscores_loads_like_the_dotted_one(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    header, body = EXPORT_CSV.read_text(encoding="utf-8").split("\n", 1)
    underscored = tmp_path / "billing_export_flat.csv"
    underscored.write_text(header.replace(".", "_") + "\n" + body, encoding="utf-8")

    report = ingest(warehouse, [underscored])

    assert report.formats == {"gcp-billing": 1}
    assert _month_totals(warehouse) == _invoice_totals()
    costs = warehouse.costs()
    assert set(costs.ServiceName.execute()) == {
        "Compute Engine",
        "Cloud Storage",
        "BigQuery",
        "Invoice",
    }


def test_invoice_total_of_cost_plus_credits_reconciles_per_month(warehouse: Warehouse) -> None:
    report = ingest(warehouse, [EXPORT_JSONL])

    expected = _invoice_totals()
    assert {p.billing_period_start.strftime("%Y%m"): p.source_total for p in report.partitions} == (
        expected
    )
    assert all(partition.reconciled for partition in report.partitions)
    assert _month_totals(warehouse) == expected


def test_each_credit_becomes_a_credit_row_with_its_amount_and_type(loaded: Warehouse) -> None:
    costs = loaded.costs()
    credits = costs.filter(costs.ChargeCategory == "Credit").order_by(["x_SourceRow", "BilledCost"])
    rows = (
        credits.select("ChargeDescription", "BilledCost", "EffectiveCost").to_pyarrow().to_pylist()
    )

    expected = sorted(
        (
            (row, credit["type"], Decimal(credit["amount"]))
            for row, record in enumerate(_records(), start=1)
            for credit in record["credits"]
        ),
        key=lambda item: (item[0], item[2]),
    )
    assert [row["BilledCost"] for row in rows] == [amount for _, _, amount in expected]
    assert [row["EffectiveCost"] for row in rows] == [amount for _, _, amount in expected]
    assert [row["ChargeDescription"].split(":")[0] for row in rows] == [t for _, t, _ in expected]


def test_credit_rows_keep_the_source_row_and_resource_of_their_cost_row(
    loaded: Warehouse,
) -> None:
    costs = loaded.costs()
    first_row = costs.filter(costs.x_SourceRow == 1)
    rows = first_row.select("ChargeCategory", "ResourceName", "SubAccountId").to_pyarrow()

    assert sorted(rows.column("ChargeCategory").to_pylist()) == ["Credit", "Credit", "Usage"]
    assert set(rows.column("ResourceName").to_pylist()) == {"trainer-0"}
    assert set(rows.column("SubAccountId").to_pylist()) == {"acme-ml"}
    assert loaded.ingests().rows.sum().execute() == len(_records())


def test_committed_use_credit_fills_the_commitment_columns(loaded: Warehouse) -> None:
    costs = loaded.costs()
    cud = costs.filter(costs.ChargeDescription.startswith("COMMITTED_USAGE_DISCOUNT"))
    row = cud.to_pyarrow().to_pylist()[0]

    assert row["ChargeCategory"] == "Credit"
    assert row["x_PurchaseOption"] == "CommittedUse"
    assert row["PricingCategory"] == "Committed"
    assert row["CommitmentDiscountCategory"] == "Usage"
    assert row["CommitmentDiscountStatus"] == "Used"
    assert (
        row["CommitmentDiscountId"] == "projects/acme-ml/regions/us-central1/commitments/cud-a2-1y"
    )


def test_gpu_machine_comes_from_the_machine_spec_label(loaded: Warehouse) -> None:
    costs = loaded.costs()
    usage = costs.filter((costs.x_SourceRow == 1) & (costs.ChargeCategory == "Usage"))
    row = usage.select("x_InstanceType", "x_GpuModel", "x_GpuCount").to_pyarrow().to_pylist()[0]

    assert row == {"x_InstanceType": "a2-highgpu-1g", "x_GpuModel": "A100", "x_GpuCount": 1}


def test_attached_gpu_sku_gives_the_model_and_spot_purchase_option(loaded: Warehouse) -> None:
    costs = loaded.costs()
    row = costs.filter(costs.x_SourceRow == 2).to_pyarrow().to_pylist()[0]

    assert row["x_InstanceType"] == "n1-standard-8"
    assert row["x_GpuModel"] == "T4"
    assert row["x_PurchaseOption"] == "Spot"
    assert row["PricingCategory"] == "Dynamic"


def test_storage_class_and_transfer_kind_come_from_the_sku(loaded: Warehouse) -> None:
    costs = loaded.costs()
    usage = costs.filter(costs.ChargeCategory == "Usage").order_by("x_SourceRow")
    rows = usage.select("x_SourceRow", "x_StorageClass", "x_TransferKind").to_pyarrow().to_pylist()
    by_row = {row["x_SourceRow"]: (row["x_StorageClass"], row["x_TransferKind"]) for row in rows}

    assert by_row[3] == ("Nearline", None)
    assert by_row[4] == (None, "InterRegion")
    assert by_row[5] == (None, "Internet")
    assert by_row[1] == (None, None)


def test_service_category_comes_from_the_focus_converters_mapping(loaded: Warehouse) -> None:
    costs = loaded.costs()
    pairs = costs.select("ServiceName", "ServiceCategory").distinct().to_pyarrow().to_pylist()

    assert {row["ServiceName"]: row["ServiceCategory"] for row in pairs} == {
        "Compute Engine": "Compute",
        "Cloud Storage": "Storage",
        "BigQuery": "Databases",
        "Invoice": "Other",
    }


def test_tags_are_resource_labels_with_project_labels_for_keys_they_lack(
    loaded: Warehouse,
) -> None:
    costs = loaded.costs()
    usage = costs.filter(costs.ChargeCategory == "Usage")
    rows = usage.select("x_SourceRow", team=usage.Tags["team"], env=usage.Tags["env"])
    by_row = {row.pop("x_SourceRow"): row for row in rows.to_pyarrow().to_pylist()}

    assert by_row[1] == {"team": "ml", "env": "prod"}  # own label wins over the project's
    assert by_row[2] == {"team": "platform", "env": "prod"}  # project labels only


def test_invoice_month_sets_the_billing_period_even_for_earlier_usage(loaded: Warehouse) -> None:
    costs = loaded.costs()
    adjustment = costs.filter(costs.ChargeCategory == "Adjustment").to_pyarrow().to_pylist()[0]

    assert adjustment["BillingPeriodStart"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert adjustment["BillingPeriodEnd"] == datetime(2024, 6, 1, tzinfo=UTC)
    assert adjustment["ChargePeriodStart"] == datetime(2024, 4, 20, 7, tzinfo=UTC)
    assert adjustment["ChargeClass"] == "Correction"
    assert adjustment["BilledCost"] == Decimal("-1.75")


def test_tax_cost_type_becomes_a_tax_row(loaded: Warehouse) -> None:
    costs = loaded.costs()
    tax = costs.filter(costs.ChargeCategory == "Tax").to_pyarrow().to_pylist()

    assert [(row["BilledCost"], row["PricingCategory"]) for row in tax] == [(Decimal("2.5"), None)]


def test_credits_without_type_fields_from_older_exports_still_load(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    rows = json.loads("[" + ",".join(EXPORT_JSONL.read_text().splitlines()) + "]")
    for record in rows:
        record["credits"] = [
            {"name": credit["name"], "amount": credit["amount"]} for credit in record["credits"]
        ]
    older = tmp_path / "older_export.parquet"
    pq.write_table(pa.Table.from_pylist(rows), older)

    report = ingest(warehouse, [older])

    assert all(partition.reconciled for partition in report.partitions)
    assert _month_totals(warehouse) == _invoice_totals()
    costs = warehouse.costs()
    credits = costs.filter(costs.ChargeCategory == "Credit").ChargeDescription.execute()
    assert sorted(credits) == sorted(
        f"CREDIT: {credit['name']}" for record in rows for credit in record["credits"]
    )


def test_reingesting_an_export_replaces_its_periods_instead_of_doubling(
    warehouse: Warehouse,
) -> None:
    ingest(warehouse, [EXPORT_JSONL])
    ingest(warehouse, [EXPORT_CSV])

    assert _month_totals(warehouse) == _invoice_totals()
    ingests = warehouse.ingests()
    assert ingests.filter(ingests.status == "reconciled").count().execute() == 2
    assert ingests.filter(ingests.status == "replaced").count().execute() == 2


def test_malformed_json_line_names_file_and_row_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    lines = EXPORT_JSONL.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:-20]  # truncated mid-record
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [broken])

    assert raised.value.file == str(broken)
    assert raised.value.row == 3
    assert warehouse.costs().count().execute() == 0


def test_csv_credits_that_are_not_json_name_the_column_and_row(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    text = EXPORT_CSV.read_text(encoding="utf-8")
    broken = tmp_path / "broken.csv"
    broken.write_text(text.replace('"[{""name"":""FreeTier""', '"[{name:FreeTier', 1))

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [broken])

    assert (raised.value.row, raised.value.column) == (3, "credits")
    assert warehouse.costs().count().execute() == 0


def test_missing_invoice_month_is_named(warehouse: Warehouse, tmp_path: Path) -> None:
    lines = EXPORT_CSV.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    keep = [index for index, name in enumerate(header) if name != "invoice.month"]
    broken = tmp_path / "no_invoice.csv"
    broken.write_text(",".join(header[index] for index in keep) + "\n")

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [broken])

    assert raised.value.column == "invoice.month"


@pytest.mark.spark
def test_mapping_compiles_and_gives_the_same_totals_on_spark(spark_session: Any) -> None:
    files = [SourceFile.from_path(EXPORT_JSONL, "jsonl")]

    mapped, source = map_on_spark(spark_session, "gcp-billing", files)
    loaded = mapped.group_by(month=mapped.BillingPeriodStart.strftime("%Y%m")).aggregate(
        total=mapped.BilledCost.sum(), rows=mapped.count()
    )
    source = source.select(
        month=source.BillingPeriodStart.strftime("%Y%m"), total=source.source_total
    )

    loaded_rows = {
        row["month"]: (row["total"], row["rows"]) for row in loaded.to_pyarrow().to_pylist()
    }
    assert {month: total for month, (total, _) in loaded_rows.items()} == _invoice_totals()
    assert sum(rows for _, rows in loaded_rows.values()) == 12
    assert {row["month"]: row["total"] for row in source.to_pyarrow().to_pylist()} == (
        _invoice_totals()
    )
