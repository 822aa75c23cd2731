"""The demo company, generated (and its bills loaded) once per test process.

Generating Acme AI and loading its bills takes tens of seconds; most demo-based tests only read
them. Tests that write to a warehouse (routes, saved findings) load their own copy from the
shared folder instead of using `demo_warehouse`. Nothing here may be modified by a test.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from costrail.demo import Truth, generate
from costrail.warehouse import Warehouse, connect
from costrail.warehouse.load import ingest

SEED = 7
_folders: dict[bool, Path] = {}
_truths: dict[bool, Truth] = {}
_warehouses: dict[tuple[bool, tuple[str, ...]], Warehouse] = {}


def demo_folder(clean: bool = False) -> Path:
    """The generated demo (waste or clean) — shared: read it, never write into it."""
    if clean not in _folders:
        folder = Path(tempfile.mkdtemp(prefix=f"costrail-demo-{'clean' if clean else 'waste'}-"))
        atexit.register(shutil.rmtree, folder, True)
        _truths[clean] = generate(folder, rows=None, seed=SEED, clean=clean)
        _folders[clean] = folder
    return _folders[clean]


def demo_truth(clean: bool = False) -> Truth:
    """What `generate` returned for the shared demo folder."""
    demo_folder(clean)
    return _truths[clean]


def demo_warehouse(clean: bool = False, providers: tuple[str, ...] = ("aws",)) -> Warehouse:
    """A DuckDB warehouse with the demo's bills of `providers` loaded — shared, read-only."""
    key = (clean, providers)
    if key not in _warehouses:
        folder = demo_folder(clean)
        name = "-".join(providers)
        warehouse = connect(str(folder.parent / f"{folder.name}-{name}.duckdb"))
        atexit.register(_remove, folder.parent / f"{folder.name}-{name}.duckdb")
        ingest(warehouse, [folder / provider for provider in providers])
        _warehouses[key] = warehouse
    return _warehouses[key]


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
