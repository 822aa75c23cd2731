"""Ingest what changed under the watched sources; a bad file is set aside, never fatal.

Billing files are loaded in one atomic call holding every data file of each directory with a
change (an export's parts of one period must be loaded together, or the last part would
replace the others). A file that fails with a file-level `InputError` is excluded and the
rest retried, so one corrupt file does not hold back the good ones. Telemetry and LLM files
go to their ingest route, one route at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from costrail.errors import CostrailError, InputError
from costrail.sources.routes import routes, split_paths
from costrail.warehouse.load import ingest
from costrail.warehouse.store import Warehouse
from costrail.watch.files import SeenFile, last_outcomes, record, scan

log = logging.getLogger("costrail.watch")


@dataclass
class IngestOutcome:
    ingested: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.ingested)


def ingest_changes(warehouse: Warehouse, sources: list[Path]) -> IngestOutcome:
    outcome = IngestOutcome()
    seen = scan(sources)
    previous = last_outcomes(warehouse)
    new = [item for item in seen if (str(item.path), item.sha256) not in previous]
    outcome.unchanged = len(seen) - len(new)
    if not new:
        return outcome
    known_bad = {
        item.path for item in seen if previous.get((str(item.path), item.sha256)) == "failed"
    }
    by_path = {item.path: item for item in seen}
    split = split_paths([item.path for item in new])
    for route_name, paths in split.routed.items():
        _load_route(warehouse, route_name, paths, outcome)
    changed_dirs = {path.parent for path in split.billing}
    routed = split.routed_files()
    group = [
        item.path
        for item in seen
        if item.path.parent in changed_dirs
        and item.path not in known_bad
        and item.path.resolve() not in routed
    ]
    if group:
        _load_billing(warehouse, group, outcome)
    rows: list[tuple[SeenFile, str, str]] = [(by_path[p], "ingested", "") for p in outcome.ingested]
    rows += [(by_path[p], "failed", why) for p, why in outcome.failed.items() if p in by_path]
    record(warehouse, rows)
    return outcome


def _load_route(
    warehouse: Warehouse, route_name: str, paths: list[Path], outcome: IngestOutcome
) -> None:
    try:
        routes.get(route_name).load(warehouse, paths, None)
        outcome.ingested += paths
    except (CostrailError, OSError, ValueError) as error:
        log.warning("route %s failed for %d file(s): %s", route_name, len(paths), error)
        for path in paths:
            outcome.failed[path] = str(error)


def _load_billing(warehouse: Warehouse, group: list[Path], outcome: IngestOutcome) -> None:
    """Load the group atomically; exclude a file named by an InputError and try the rest."""
    remaining = list(group)
    while remaining:
        try:
            ingest(warehouse, remaining)
        except InputError as error:
            bad = Path(error.file).resolve() if error.file else None
            if bad is None or bad not in remaining:
                _fail_all(remaining, error, outcome)
                return
            log.warning("skipping %s: %s", bad, error)
            outcome.failed[bad] = str(error)
            remaining.remove(bad)
            continue
        except (CostrailError, OSError) as error:
            _fail_all(remaining, error, outcome)
            return
        outcome.ingested += remaining
        return


def _fail_all(paths: list[Path], error: Exception, outcome: IngestOutcome) -> None:
    log.warning("could not ingest %d file(s) in %s: %s", len(paths), paths[0].parent, error)
    for path in paths:
        outcome.failed[path] = str(error)
