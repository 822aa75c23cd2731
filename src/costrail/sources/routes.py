"""Non-billing inputs that `costrail ingest` also takes: GPU telemetry, LLM request logs, ….

Billing exports go through the reconciling FOCUS pipeline (`warehouse.load.ingest`); other
kinds of files are claimed by a *route* — a cheap content sniff plus a loader into that kind's
canonical table. A route registers itself here, so the CLI needs no knowledge of the formats,
and one `costrail ingest DIR` call can load a folder holding bills and telemetry side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from costrail.registry import Registry
from costrail.warehouse.store import Warehouse


class RouteReport(Protocol):
    """What a route's load did, for the CLI's text and `--json` output."""

    def lines(self) -> list[str]: ...

    def to_json(self) -> dict[str, object]: ...


Progress = Callable[[str], None]


@dataclass(frozen=True)
class Route:
    """`claims(path)` must be cheap (read a few KiB at most) and never raise on foreign files."""

    name: str
    claims: Callable[[Path], bool]
    load: Callable[[Warehouse, list[Path], Progress | None], RouteReport]


routes: Registry[Route] = Registry("ingest route")

#: modules that register routes; imported lazily by `split_paths`
ROUTE_MODULES: list[str] = ["costrail.telemetry.route", "costrail.sources.llm.route"]


@dataclass
class SplitPaths:
    """Paths for the billing pipeline, and the files each route claimed."""

    billing: list[Path] = field(default_factory=list)
    routed: dict[str, list[Path]] = field(default_factory=dict)

    def routed_files(self) -> set[Path]:
        return {path.resolve() for paths in self.routed.values() for path in paths}


def split_paths(paths: list[Path]) -> SplitPaths:
    """Give each file to the first route that claims it; the rest stay with billing.

    A directory goes to the billing pipeline too unless every data file in it was claimed.
    """
    _import_routes()
    from costrail.sources.discover import _is_data_file

    split = SplitPaths()
    for path in paths:
        if path.is_dir():
            unclaimed = False
            for child in sorted(path.rglob("*")):
                if not child.is_file() or child.name.startswith((".", "_")):
                    continue
                route = _route_for(child)
                if route is not None:
                    split.routed.setdefault(route, []).append(child)
                elif _is_data_file(child):
                    unclaimed = True
            if unclaimed or not any(split.routed.values()):
                split.billing.append(path)
            continue
        route = _route_for(path) if path.is_file() else None
        if route is None:
            split.billing.append(path)
        else:
            split.routed.setdefault(route, []).append(path)
    return split


def _route_for(path: Path) -> str | None:
    for name, route in routes.items():
        if route.claims(path):
            return name
    return None


def _import_routes() -> None:
    import importlib

    for module in ROUTE_MODULES:
        importlib.import_module(module)
