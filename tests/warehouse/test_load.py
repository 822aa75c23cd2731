"""Loads are atomic, reconciled and idempotent per (provider, billing account, billing period)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import ibis.expr.types as ir
import pytest

from costrail.errors import InputError, ReconciliationError
from costrail.sources.base import readers
from costrail.sources.focus import FocusReader
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest
from tests.conftest import FOCUS_SAMPLE

HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ProviderName,BillingCurrency\n"
)


def _focus_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A small FOCUS CSV: (account, period start YYYY-MM, billed cost) per row."""
    lines = [HEADER]
    for account, month, cost in rows:
        start = f"{month}-01T00:00:00Z"
        lines.append(f"{account},{start},{start},{start},{start},Usage,{cost},{cost},AWS,USD\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _total(warehouse: Warehouse) -> Decimal:
    value = warehouse.costs().BilledCost.sum().execute()
    return Decimal(0) if value is None else Decimal(value)


def test_ingesting_the_same_file_twice_leaves_totals_unchanged(warehouse: Warehouse) -> None:
    ingest(warehouse, [FOCUS_SAMPLE])
    first_rows = warehouse.costs().count().execute()

    ingest(warehouse, [FOCUS_SAMPLE])

    assert warehouse.costs().count().execute() == first_rows == 1000
    assert _total(warehouse) == Decimal("20.52022672899")


def test_reingest_marks_the_earlier_ingest_replaced(warehouse: Warehouse) -> None:
    ingest(warehouse, [FOCUS_SAMPLE])
    ingest(warehouse, [FOCUS_SAMPLE])

    statuses = warehouse.ingests().status.value_counts().execute()
    counts = dict(zip(statuses["status"], statuses["status_count"], strict=True))
    assert counts == {"reconciled": 4, "replaced": 4}


def test_reloading_one_period_replaces_only_that_period(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    ingest(
        warehouse,
        [_focus_file(tmp_path / "a.csv", [("1", "2026-09", "10.00"), ("1", "2026-10", "20.00")])],
    )

    ingest(warehouse, [_focus_file(tmp_path / "b.csv", [("1", "2026-10", "25.50")])])

    assert _total(warehouse) == Decimal("35.50")


def test_the_same_period_of_another_account_is_kept(warehouse: Warehouse, tmp_path: Path) -> None:
    ingest(warehouse, [_focus_file(tmp_path / "a.csv", [("1", "2026-09", "10.00")])])

    ingest(warehouse, [_focus_file(tmp_path / "b.csv", [("2", "2026-09", "5.00")])])

    assert _total(warehouse) == Decimal("15.00")


def test_a_corrupt_file_in_a_batch_loads_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    good = _focus_file(tmp_path / "good.csv", [("1", "2026-09", "10.00")])
    ingest(warehouse, [good])
    bad = _focus_file(tmp_path / "bad.csv", [("1", "2026-10", "1.00"), ("1", "2026-10", "1,5")])

    with pytest.raises(InputError):
        ingest(warehouse, [_focus_file(tmp_path / "other.csv", [("3", "2026-09", "7.00")]), bad])

    assert _total(warehouse) == Decimal("10.00")
    assert warehouse.ingests().count().execute() == 1


def test_unparsable_money_names_file_row_and_column(warehouse: Warehouse, tmp_path: Path) -> None:
    bad = _focus_file(tmp_path / "bad.csv", [("1", "2026-10", "1.00"), ("1", "2026-10", "12 USD")])

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [bad])

    assert (raised.value.file, raised.value.row, raised.value.column) == (str(bad), 2, "BilledCost")
    assert "12 USD" in str(raised.value)


def test_truncated_csv_names_the_file_and_row(warehouse: Warehouse, tmp_path: Path) -> None:
    path = _focus_file(tmp_path / "cut.csv", [("1", "2026-09", "1.00"), ("1", "2026-09", "2.00")])
    text = path.read_text()
    path.write_text(text[: text.rindex("Usage")])

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [path])

    assert raised.value.file == str(path)
    assert raised.value.row == 2
    assert warehouse.costs().count().execute() == 0


def test_wrongly_encoded_file_names_row_and_column(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (
            HEADER + "1,2026-09-01,2026-10-01,2026-09-01,2026-09-02,Usage,1.00,1.00,Caf\xe9,USD\n"
        ).encode("latin-1")
    )

    with pytest.raises(InputError) as raised:
        ingest(warehouse, [path])

    assert (raised.value.row, raised.value.column) == (1, "ProviderName")
    assert "UTF-8" in str(raised.value)


def test_unknown_format_is_a_clear_error(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")

    with pytest.raises(InputError, match="unknown billing format"):
        ingest(warehouse, [path])


class _OffByACentReader(FocusReader):
    """A reader whose source total disagrees with its mapping by one cent."""

    name = "focus-off-by-a-cent"

    def source_totals(self, native: ir.Table) -> ir.Table:
        totals = super().source_totals(native)
        return totals.mutate(source_total=totals.source_total + Decimal("0.01"))


def test_a_load_that_does_not_reconcile_to_the_cent_is_rolled_back(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(readers._entries, _OffByACentReader.name, _OffByACentReader)
    path = _focus_file(tmp_path / "a.csv", [("1", "2026-09", "10.00")])

    with pytest.raises(ReconciliationError, match="MISMATCH"):
        ingest(warehouse, [path], format_name=_OffByACentReader.name)

    assert warehouse.costs().count().execute() == 0
    assert warehouse.ingests().count().execute() == 0


def test_warehouse_persists_across_connections(tmp_path: Path) -> None:
    url = str(tmp_path / "w.duckdb")
    first = connect(url)
    ingest(first, [FOCUS_SAMPLE])
    first.close()

    assert _total(connect(url)) == Decimal("20.52022672899")
