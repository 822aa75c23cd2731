"""The warehouse: where canonical tables live (embedded DuckDB by default, Spark at scale)."""

from costrail.warehouse.connect import DEFAULT_WAREHOUSE, Warehouse, connect, default_url

__all__ = ["DEFAULT_WAREHOUSE", "Warehouse", "connect", "default_url"]
