"""AWS export manifests (`*-Manifest.json`) → the local copies of the data files they list."""

from __future__ import annotations

import json
from pathlib import Path

from costrail.errors import InputError


def read_manifest(path: Path) -> dict[str, object] | None:
    """A `*-Manifest.json` as a dict, or None when `path` is not one."""
    if not path.name.endswith("Manifest.json") or not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable export manifest: {error}", file=path) from error
    return manifest if isinstance(manifest, dict) else None


def manifest_files(path: Path, list_key: str) -> list[Path] | None:
    """The data files a manifest lists under `list_key`; None when `path` is no such manifest.

    CUR 2.0 manifests list `dataFiles`, legacy ones `reportKeys`: each reader expands its own.
    """
    manifest = read_manifest(path)
    if manifest is None or list_key not in manifest:
        return None
    return listed_files(path, manifest[list_key])


def listed_files(manifest: Path, listed: object) -> list[Path]:
    """Local copies of the S3 objects a manifest lists (`dataFiles`, legacy `reportKeys`)."""
    if not isinstance(listed, list) or not all(isinstance(uri, str) for uri in listed):
        raise InputError("the manifest's file list is not a list of S3 paths", file=manifest)
    if not listed:
        raise InputError("the manifest lists no data files", file=manifest)
    found: list[Path] = []
    for uri in listed:
        local = _local_copy(manifest, uri)
        if local is None:
            raise InputError(
                f"data file {uri} listed in the manifest was not found next to it",
                file=manifest,
                hint="copy the export's data folder along with its manifest, as S3 lays it out",
            )
        found.append(local)
    return found


def _local_copy(manifest: Path, uri: str) -> Path | None:
    """Find an S3 object inside a local copy of the export's folder tree.

    The longest tail of the key that exists below the manifest's folder or one of its parents
    wins (a Data Exports manifest sits in `metadata/BILLING_PERIOD=…/`, its data in
    `data/BILLING_PERIOD=…/`; a legacy one next to its `<assembly id>/` folder).
    """
    key = uri.split("://", 1)[1].split("/", 1)[-1] if "://" in uri else uri
    parts = [part for part in key.split("/") if part]
    bases = [manifest.parent, *list(manifest.parents)[1:4]]
    for start in range(len(parts)):
        for base in bases:
            candidate = base.joinpath(*parts[start:])
            if candidate.is_file():
                return candidate
    return None
