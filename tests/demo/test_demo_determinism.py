"""Same seed → byte-identical files; another seed → other files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from costrail.demo import Truth, generate


def _hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_writes_byte_identical_files(demo: tuple[Path, Truth], tmp_path: Path) -> None:
    root, truth = demo
    generate(tmp_path, seed=truth.seed)
    assert _hashes(tmp_path) == _hashes(root)


def test_another_seed_changes_every_export(demo: tuple[Path, Truth], tmp_path: Path) -> None:
    root, truth = demo
    generate(tmp_path, seed=truth.seed + 1)
    first, second = _hashes(root), _hashes(tmp_path)
    for provider in ("aws/", "gcp/", "azure/"):
        assert {k: v for k, v in first.items() if k.startswith(provider)} != {
            k: v for k, v in second.items() if k.startswith(provider)
        }


def test_regenerating_into_the_same_folder_leaves_no_stale_export(
    demo: tuple[Path, Truth], tmp_path: Path
) -> None:
    root, truth = demo
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    generate(tmp_path, seed=truth.seed + 2)
    assert len(list((tmp_path / "azure").rglob("*.csv"))) == 3
    assert len(list((tmp_path / "aws").rglob("*.parquet"))) == 3
