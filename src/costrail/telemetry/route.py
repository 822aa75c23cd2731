"""Registers the GPU telemetry route, so `costrail ingest DIR` loads telemetry next to bills."""

from __future__ import annotations

from pathlib import Path

from costrail.sources.routes import Progress, Route, routes
from costrail.telemetry.detect import detect
from costrail.telemetry.load import TelemetryReport, load_telemetry
from costrail.warehouse.store import Warehouse

ROUTE_NAME = "gpu-telemetry"


def _claims(path: Path) -> bool:
    return detect(path) is not None


def _load(warehouse: Warehouse, paths: list[Path], progress: Progress | None) -> TelemetryReport:
    return load_telemetry(warehouse, paths, progress=progress)


if ROUTE_NAME not in routes:
    routes.register(ROUTE_NAME)(Route(ROUTE_NAME, _claims, _load))
