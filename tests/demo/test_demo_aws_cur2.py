"""The AWS part is a CUR 2.0 Data Export as AWS delivers it: layout, manifest, schema, rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costrail.demo import Truth
from tests.demo import demo_readback as readback

FIXTURES = Path(__file__).parent / "fixtures"
PERIODS = ("2026-09", "2026-10", "2026-11")
CUR_TYPES = {
    "string": pa.string(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
    "map<string,double>": pa.map_(pa.string(), pa.float64()),
}


def _table_dictionary() -> dict[str, str]:
    with (FIXTURES / "aws_cur2_columns.csv").open(encoding="utf-8") as handle:
        return {row["column"]: row["type"].replace(" ", "") for row in csv.DictReader(handle)}


Row = dict[str, object]
CurQuery = Callable[[str], list[Row]]


@pytest.fixture
def cur(demo: tuple[Path, Truth]) -> CurQuery:
    """Run SQL over the demo's CUR files, named `CUR` in the query; rows as dicts."""
    root, _ = demo
    files = ", ".join(f"'{p}'" for p in readback.cur2_files(root))

    def query(sql: str) -> list[Row]:
        sql = sql.replace("CUR", f"read_parquet([{files}], hive_partitioning=false)")
        result = duckdb.connect().sql(sql).arrow()
        table = result.read_all() if isinstance(result, pa.RecordBatchReader) else result
        return table.to_pylist()  # type: ignore[no-any-return]

    return query


def _exact(value: object) -> Decimal:
    """A CUR double as the decimal it was written from."""
    return Decimal(repr(value))


def _by_period(rows: list[Row], amount: Callable[[Row], Decimal]) -> dict[str, Decimal]:
    """The sum of `amount(row)` per billing period (`row["period"]`), every period present."""
    totals = {period: Decimal(0) for period in PERIODS}
    for row in rows:
        totals[str(row["period"])] += amount(row)
    return totals


def test_exports_are_laid_out_as_data_exports_delivers_them(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    export = root / "aws" / "acme-cur2"
    for period in PERIODS:
        assert (
            export / "data" / f"BILLING_PERIOD={period}" / "acme-cur2-00001.snappy.parquet"
        ).is_file()
        assert (
            export / "metadata" / f"BILLING_PERIOD={period}" / "acme-cur2-Manifest.json"
        ).is_file()


def test_manifest_names_its_data_file_and_the_file_columns(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    path = root / "aws/acme-cur2/metadata/BILLING_PERIOD=2026-10/acme-cur2-Manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert {"executionId", "exportArn", "columns", "dataFiles", "billingPeriod"} <= set(manifest)
    assert manifest["billingPeriod"] == {
        "start": "2026-10-01T00:00:00.000Z",
        "end": "2026-11-01T00:00:00.000Z",
    }
    (uri,) = manifest["dataFiles"]
    assert uri.startswith("s3://") and uri.endswith(
        "BILLING_PERIOD=2026-10/acme-cur2-00001.snappy.parquet"
    )
    local = root / uri.split("/", 3)[3]
    assert [c["name"] for c in manifest["columns"]] == pq.read_schema(local).names


def test_columns_have_the_names_and_types_of_the_cur2_table(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    dictionary = _table_dictionary()
    for path in readback.cur2_files(root):
        schema = pq.read_schema(path)
        assert len(schema) > 100
        for field in schema:
            assert field.name in dictionary, field.name
            assert field.type == CUR_TYPES[dictionary[field.name]], field.name


def test_resource_tags_and_product_are_parquet_maps(demo: tuple[Path, Truth]) -> None:
    root, _ = demo
    parquet = pq.ParquetFile(readback.cur2_files(root)[0])
    assert parquet.metadata.metadata is None or b"ARROW:schema" not in parquet.metadata.metadata
    for name in ("resource_tags", "product"):
        assert pa.types.is_map(parquet.schema_arrow.field(name).type), name
    products = parquet.read(columns=["product"]).column(0).to_pylist()
    assert any(("product_name", "Amazon Elastic Compute Cloud") in row for row in products)


def test_team_tags_come_in_the_spellings_a_real_company_has(cur: CurQuery) -> None:
    rows = cur(
        "SELECT DISTINCT map_keys(resource_tags) AS keys FROM CUR "
        "WHERE line_item_line_item_type = 'Usage'",
    )
    key_sets = [set(row["keys"]) for row in rows]  # type: ignore[arg-type]
    for spelling in ("user_team", "user_Team", "user_owner_team"):
        assert any(spelling in keys for keys in key_sets), spelling
    assert any(not keys & {"user_team", "user_Team", "user_owner_team"} for keys in key_sets)


def test_spot_rows_use_spot_usage_type_and_pricing_term(cur: CurQuery) -> None:
    rows = cur(
        "SELECT DISTINCT line_item_usage_type, pricing_term, line_item_line_item_description AS d "
        "FROM CUR WHERE line_item_usage_type LIKE '%SpotUsage:%'",
    )
    assert rows
    assert {row["pricing_term"] for row in rows} == {"Spot"}
    assert all(
        str(row["d"]).split(" ")[0] == str(row["line_item_usage_type"]).split(":")[1]
        for row in rows
    )


def test_savings_plan_lines_net_to_the_recurring_fee(cur: CurQuery) -> None:
    rows = cur(
        "SELECT line_item_line_item_type AS t, count(*) AS n FROM CUR "
        "WHERE savings_plan_savings_plan_a_r_n IS NOT NULL GROUP BY 1",
    )
    counts = {row["t"]: row["n"] for row in rows}
    assert counts["SavingsPlanCoveredUsage"] == counts["SavingsPlanNegation"]
    assert counts["SavingsPlanRecurringFee"] == 24 * (30 + 31 + 30)


def test_unused_savings_plan_commitment_in_truth_is_commitment_minus_used(
    demo: tuple[Path, Truth], cur: CurQuery
) -> None:
    _, truth = demo
    (item,) = [p for p in truth.planted if p.kind == "unused_savings_plan_commitment"]
    rows = cur(
        "SELECT strftime(line_item_usage_start_date, '%Y-%m') AS period, "
        "savings_plan_total_commitment_to_date AS total, savings_plan_used_commitment AS used "
        "FROM CUR WHERE line_item_line_item_type = 'SavingsPlanRecurringFee'",
    )
    unused = _by_period(rows, lambda row: _exact(row["total"]) - _exact(row["used"]))
    assert unused == item.cost_by_period


@pytest.mark.parametrize("kind", ["unused_endpoint", "spend_spike", "cross_region_transfer"])
def test_planted_cost_is_the_net_cost_of_its_resources_rows(
    demo: tuple[Path, Truth], cur: CurQuery, kind: str
) -> None:
    _, truth = demo
    (item,) = [p for p in truth.planted if p.kind == kind and p.provider == "aws"]
    ids = ", ".join(f"'{r}'" for r in item.resources)
    extra = (
        "AND line_item_usage_type LIKE '%-AWS-Out-Bytes'" if kind == "cross_region_transfer" else ""
    )
    rows = cur(
        "SELECT strftime(line_item_usage_start_date, '%Y-%m') AS period, "
        "line_item_net_unblended_cost AS cost FROM CUR "
        f"WHERE line_item_resource_id IN ({ids}) AND line_item_line_item_type = 'Usage' {extra}",
    )
    assert _by_period(rows, lambda row: _exact(row["cost"])) == item.cost_by_period


def test_every_planted_aws_resource_appears_in_the_cur(
    demo: tuple[Path, Truth], cur: CurQuery
) -> None:
    _, truth = demo
    resources = {r for p in truth.planted if p.provider == "aws" for r in p.resources}
    found = {row["r"] for row in cur("SELECT DISTINCT line_item_resource_id AS r FROM CUR")}
    assert resources <= found


def test_last_credits_and_monthly_tax_lines_are_present(cur: CurQuery) -> None:
    rows = cur(
        "SELECT line_item_line_item_type AS t, "
        "strftime(bill_billing_period_start_date, '%Y-%m') AS p, "
        "sum(line_item_net_unblended_cost) AS total FROM CUR "
        "WHERE line_item_line_item_type IN ('Credit', 'Tax') GROUP BY 1, 2",
    )
    credits = {row["p"]: row["total"] for row in rows if row["t"] == "Credit"}
    taxes = {row["p"]: row["total"] for row in rows if row["t"] == "Tax"}
    assert set(credits) == {"2026-09"} and round(float(credits["2026-09"]), 2) == -18500.0  # type: ignore[arg-type]
    assert set(taxes) == set(PERIODS)
