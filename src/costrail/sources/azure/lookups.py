"""Azure reference lookups from the FinOps toolkit's open data: services, regions, pricing units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import ibis
import ibis.expr.types as ir

from costrail.package_data import csv_rows
from costrail.schema.costs import QUANTITY
from costrail.sources.expr import blank_to_null


@dataclass(frozen=True)
class ServiceInfo:
    """A service as the toolkit names it; name and subcategory are None where sources disagree."""

    name: str | None
    category: str
    subcategory: str | None


def _unambiguous(candidates: dict[str, set[ServiceInfo]]) -> dict[str, ServiceInfo]:
    """Keep keys with one answer; where only the category agrees, keep just the category."""
    chosen: dict[str, ServiceInfo] = {}
    for key, infos in candidates.items():
        if len(infos) == 1:
            chosen[key] = next(iter(infos))
        elif len({info.category for info in infos}) == 1:
            chosen[key] = ServiceInfo(None, next(iter(infos)).category, None)
    return chosen


@cache
def service_lookups() -> tuple[dict[str, ServiceInfo], dict[str, ServiceInfo]]:
    """(resource type → service, consumed service → service), both keyed lower-case."""
    by_type: dict[str, set[ServiceInfo]] = {}
    by_consumed: dict[str, set[ServiceInfo]] = {}
    for row in csv_rows("costrail.sources", "azure_services.csv"):
        info = ServiceInfo(
            row["ServiceName"] or None,
            row["ServiceCategory"] or "Other",
            row["ServiceSubcategory"] or None,
        )
        if row["ResourceType"]:
            by_type.setdefault(row["ResourceType"].strip().lower(), set()).add(info)
        if row["ConsumedService"]:
            by_consumed.setdefault(row["ConsumedService"].strip().lower(), set()).add(info)
    return _unambiguous(by_type), _unambiguous(by_consumed)


@cache
def regions() -> dict[str, tuple[str, str]]:
    """Any spelling of a region in exports (lower-case) → (RegionId, RegionName)."""
    return {
        row["OriginalValue"].strip().lower(): (row["RegionId"], row["RegionName"])
        for row in csv_rows("costrail.sources", "azure_regions.csv")
    }


@cache
def pricing_units() -> dict[str, tuple[Decimal, str]]:
    """UnitOfMeasure → (block size, distinct unit): `100 Hours` → (100, Hours)."""
    units: dict[str, tuple[Decimal, str]] = {}
    for row in csv_rows("costrail.sources", "azure_pricing_units.csv"):
        units.setdefault(
            row["UnitOfMeasure"].strip(), (Decimal(row["PricingBlockSize"]), row["DistinctUnits"])
        )
    return units


def _service_table(prefix: str, services: dict[str, ServiceInfo]) -> ir.Table:
    """Key → service name, category and subcategory, as `_<prefix>_key`, `_<prefix>_service`, …"""
    names = [f"_{prefix}_{part}" for part in ("key", "service", "category", "subcategory")]
    columns = [
        list(services),
        [info.name for info in services.values()],
        [info.category for info in services.values()],
        [info.subcategory for info in services.values()],
    ]
    return ibis.memtable(
        dict(zip(names, columns, strict=True)), schema=dict.fromkeys(names, "string")
    )


def _lookup_tables() -> dict[str, ir.Table]:
    by_type, by_consumed = service_lookups()
    return {
        "rt": _service_table("rt", by_type),
        "cs": _service_table("cs", by_consumed),
        "region": ibis.memtable(
            {
                "_region_key": list(regions()),
                "_region_id": [value[0] for value in regions().values()],
                "_region_name": [value[1] for value in regions().values()],
            },
            schema={"_region_key": "string", "_region_id": "string", "_region_name": "string"},
        ),
        "unit": ibis.memtable(
            {
                "_unit_key": list(pricing_units()),
                "_unit_block_size": [value[0] for value in pricing_units().values()],
                "_unit_distinct": [value[1] for value in pricing_units().values()],
            },
            schema={
                "_unit_key": "string",
                "_unit_block_size": QUANTITY,
                "_unit_distinct": "string",
            },
        ),
    }


def with_lookups(rows: ir.Table) -> ir.Table:
    """Left-join the small reference tables (service, region, pricing unit) onto every row.

    Keys are unique in each reference table, so no row is duplicated or dropped.
    """
    lookups = _lookup_tables()
    keyed = rows.mutate(
        _k_rt=blank_to_null(rows.resource_id.lower().re_extract(r"/providers/([^/]+/[^/]+)", 1)),
        _k_cs=rows.consumed_service.lower(),
        _k_region=rows.resource_location.lower(),
        _k_unit=rows.unit_of_measure,
    )
    joined = keyed.left_join(lookups["rt"], keyed._k_rt == lookups["rt"]._rt_key)
    joined = joined.left_join(lookups["cs"], joined._k_cs == lookups["cs"]._cs_key)
    joined = joined.left_join(lookups["region"], joined._k_region == lookups["region"]._region_key)
    return joined.left_join(lookups["unit"], joined._k_unit == lookups["unit"]._unit_key)
