"""`write_requests`: catalog pricing, loud unpriced rows, keyed idempotent replace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from costrail.errors import InputError
from costrail.llm.store import write_requests
from costrail.schema.llm_requests import LLM_REQUESTS_SCHEMA
from costrail.sources.base import LoadWarnings
from costrail.warehouse import Warehouse

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _row(request_id: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "time": T0,
        "request_id": request_id,
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 2000,
        "cached_input_tokens": 1024,
        "output_tokens": 100,
        "source": "sdk",
    }
    row.update(changes)
    return row


def _stored(warehouse: Warehouse) -> list[dict[str, Any]]:
    table = warehouse.read("llm_requests", LLM_REQUESTS_SCHEMA)
    return table.order_by("request_id").to_pyarrow().to_pylist()


def test_rows_without_a_cost_are_priced_from_the_catalog(warehouse: Warehouse) -> None:
    write_requests(warehouse, [_row("a")])
    (stored,) = _stored(warehouse)
    assert stored["cost_usd"] == Decimal("0.00472")
    assert stored["cost_source"] == "catalog"


def test_unknown_model_is_unpriced_with_a_counted_warning_never_zero(
    warehouse: Warehouse,
) -> None:
    warnings = LoadWarnings()
    write_requests(
        warehouse,
        [_row("a", model="gpt-9-experimental"), _row("b", model="gpt-9-experimental")],
        warnings=warnings,
    )
    assert [(row["cost_usd"], row["cost_source"]) for row in _stored(warehouse)] == [
        (None, "unpriced"),
        (None, "unpriced"),
    ]
    assert warnings.lines() == [
        "unpriced model 'gpt-9-experimental' (openai): cost left null (2 rows)"
    ]


def test_a_cost_the_source_reported_is_kept(warehouse: Warehouse) -> None:
    write_requests(warehouse, [_row("a", cost_usd=Decimal("0.5"))])
    (stored,) = _stored(warehouse)
    assert (stored["cost_usd"], stored["cost_source"]) == (Decimal("0.5"), "provider")


def test_writing_the_same_requests_again_replaces_them(warehouse: Warehouse) -> None:
    write_requests(warehouse, [_row("a"), _row("b")])
    written = write_requests(warehouse, [_row("a", output_tokens=200), _row("b")])
    stored = _stored(warehouse)
    assert written == 2 and len(stored) == 2
    assert stored[0]["output_tokens"] == 200


def test_a_row_without_request_id_is_rejected_before_writing(warehouse: Warehouse) -> None:
    with pytest.raises(InputError, match="request_id is missing") as caught:
        write_requests(warehouse, [_row("a"), _row(None)])  # type: ignore[arg-type]
    assert caught.value.row == 2
    assert _stored(warehouse) == []


def test_cache_counted_outside_input_is_rejected_naming_the_row(warehouse: Warehouse) -> None:
    with pytest.raises(InputError, match="exceed input_tokens") as caught:
        write_requests(warehouse, [_row("a"), _row("b", input_tokens=100)])
    assert (caught.value.row, caught.value.column) == (2, "input_tokens")
