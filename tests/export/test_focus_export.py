"""FOCUS 1.2 export of the warehouse: columns, types, exact decimals, round trip, atomic write."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costrail.errors import ConfigError
from costrail.export import export_column_names, export_focus
from costrail.schema.costs import FOCUS_COLUMNS, MONEY, QUANTITY
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.conftest import FOCUS_SAMPLE

DECIMAL_COLUMNS = [name for name, dtype in FOCUS_COLUMNS.items() if dtype in (MONEY, QUANTITY)]
TWELVE_PLACES = Decimal("1e-12")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = connect(str(tmp_path_factory.mktemp("sample") / "w.duckdb"))
    ingest(warehouse, [FOCUS_SAMPLE])
    return warehouse


def _source_rows() -> dict[int, dict[str, str]]:
    """The sample's rows by 1-based data row (the loader's `x_SourceRow`)."""
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8-sig") as handle:
        return dict(enumerate(csv.DictReader(handle), start=1))


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _decimal_or_none(text: str) -> Decimal | None:
    return None if text in ("", "NULL") else Decimal(text)


def test_export_returns_row_count_and_billed_total_of_the_warehouse(
    sample_warehouse: Warehouse, tmp_path: Path
) -> None:
    result = export_focus(sample_warehouse, tmp_path / "focus.parquet")

    assert result.rows == 1000
    assert result.billed_cost_total == Decimal("20.52022672899")
    assert result.effective_cost_total == sample_warehouse.costs().EffectiveCost.sum().execute()
    assert result.file_format == "parquet"


def test_csv_header_is_every_focus_column_in_spec_order_then_x_columns(
    sample_warehouse: Warehouse, tmp_path: Path
) -> None:
    out = tmp_path / "focus.csv"
    export_focus(sample_warehouse, out)

    with out.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[: len(FOCUS_COLUMNS)] == list(FOCUS_COLUMNS)
    assert all(name.startswith("x_") for name in header[len(FOCUS_COLUMNS) :])
    assert tuple(header) == export_column_names()


def test_parquet_columns_carry_focus_types(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "focus.parquet"
    export_focus(sample_warehouse, out)

    schema = pq.read_schema(out)
    assert schema.field("BilledCost").type == pa.decimal128(38, 12)
    assert schema.field("ConsumedQuantity").type == pa.decimal128(38, 16)
    assert schema.field("ChargePeriodStart").type == pa.timestamp("us", tz="UTC")
    assert schema.field("Tags").type == pa.string()
    assert schema.field("SkuPriceDetails").type == pa.string()
    assert schema.names == list(export_column_names())


def test_csv_decimals_equal_the_source_decimals_exactly(
    sample_warehouse: Warehouse, tmp_path: Path
) -> None:
    """Every decimal is written with exactly the source's digits (no float noise, no exponent):
    money keeps 12 decimals and quantities 16, more than any value in the sample carries."""
    out = tmp_path / "focus.csv"
    export_focus(sample_warehouse, out)
    source = _source_rows()

    present = [name for name in DECIMAL_COLUMNS if name in next(iter(source.values()))]
    compared = 0
    for exported in _csv_rows(out):
        original = source[int(exported["x_SourceRow"])]
        for name in present:
            assert "e" not in exported[name].lower(), (name, exported[name])
            written, expected = _decimal_or_none(exported[name]), _decimal_or_none(original[name])
            assert written == expected, (name, exported["x_SourceRow"])
            compared += 1
    assert compared == 1000 * len(present)


def test_csv_date_times_are_iso_8601_utc(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"
    export_focus(sample_warehouse, out)

    first = _csv_rows(out)[0]
    assert first["ChargePeriodStart"] == "2024-09-18T22:00:00Z"
    for row in _csv_rows(out):
        for name in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart"):
            assert ISO_UTC.match(row[name]), (name, row[name])


def test_csv_tags_are_a_json_object(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"
    export_focus(sample_warehouse, out)

    second = _csv_rows(out)[1]
    assert second["Tags"] == (
        '{"application":"BrightLensMatrix","environment":"dev","business_unit":"ViennaAI"}'
    )


def _round_trip(warehouse: Warehouse, tmp_path: Path, suffix: str) -> Warehouse:
    """Export `warehouse` to `focus<suffix>` and ingest that file into a new warehouse."""
    out = tmp_path / f"focus{suffix}"
    export_focus(warehouse, out)
    again = connect(str(tmp_path / "again.duckdb"))
    ingest(again, [out])
    return again


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_reingesting_the_export_gives_the_same_rows_and_totals(
    sample_warehouse: Warehouse, tmp_path: Path, suffix: str
) -> None:
    again = _round_trip(sample_warehouse, tmp_path, suffix)

    before, after = sample_warehouse.costs(), again.costs()
    assert after.count().execute() == before.count().execute()
    assert after.BilledCost.sum().execute() == before.BilledCost.sum().execute()
    assert after.EffectiveCost.sum().execute() == before.EffectiveCost.sum().execute()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_reingesting_the_export_keeps_the_tags(
    sample_warehouse: Warehouse, tmp_path: Path, suffix: str
) -> None:
    again = _round_trip(sample_warehouse, tmp_path, suffix)

    def prod_rows(warehouse: Warehouse) -> int:
        costs = warehouse.costs()
        return int(costs.filter(costs.Tags.get("env") == "prod").count().execute())

    assert prod_rows(again) == prod_rows(sample_warehouse) > 0


def test_where_exports_only_the_matching_rows(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    costs = sample_warehouse.costs()
    oci_total = costs.filter(costs.x_Provider == "oci").BilledCost.sum().execute()

    result = export_focus(
        sample_warehouse, tmp_path / "oci.csv", where=lambda table: table.x_Provider == "oci"
    )

    assert result.rows == 7
    assert result.billed_cost_total == oci_total
    assert {row["ProviderName"] for row in _csv_rows(tmp_path / "oci.csv")} == {"Oracle"}


def test_unknown_suffix_is_refused_before_writing(
    sample_warehouse: Warehouse, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError):
        export_focus(sample_warehouse, tmp_path / "focus.xlsx")

    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_partial_file(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    blocked = tmp_path / "focus.csv"
    blocked.mkdir()  # the final rename onto a directory fails after the file was written

    with pytest.raises(OSError):
        export_focus(sample_warehouse, blocked)

    assert [path.name for path in tmp_path.iterdir()] == ["focus.csv"]
    assert list(blocked.iterdir()) == []


def test_export_replaces_an_existing_file(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"
    out.write_text("stale\n", encoding="utf-8")

    export_focus(sample_warehouse, out)

    assert len(_csv_rows(out)) == 1000


def test_empty_warehouse_exports_the_header_only(tmp_path: Path) -> None:
    empty = connect(str(tmp_path / "empty.duckdb"))

    result = export_focus(empty, tmp_path / "focus.csv")

    assert (result.rows, result.billed_cost_total) == (0, Decimal(0))
    with (tmp_path / "focus.csv").open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [list(export_column_names())]
