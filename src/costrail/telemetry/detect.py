"""Which telemetry format a file is, from its first KiBs of content (never from its name alone)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from costrail.telemetry.agent_segments import is_segment
from costrail.telemetry.pivot import METRIC_COLUMNS

Kind = Literal["dcgm-exposition", "prometheus", "nvidia-smi", "agent"]

_HEAD_BYTES = 64 * 1024
_EXPOSITION = re.compile(r"^(# (HELP|TYPE) DCGM_|DCGM_FI_)", re.MULTILINE)
#: nvidia-smi `--query-gpu` field names (with an optional ` [unit]` when units are printed)
_SMI_FIELD = re.compile(r"^[a-z_]+(\.[a-z_]+)*( \[[^\]]+\])?$")
_SMI_FIRST_FIELDS = {"timestamp", "name", "pci.bus_id", "uuid", "index", "utilization.gpu"}
#: a header must name at least one of these dotted GPU fields (plain `timestamp,model,…` CSVs
#: such as request logs are not nvidia-smi logs)
_SMI_GPU_FIELDS = {
    "pci.bus_id",
    "utilization.gpu",
    "utilization.memory",
    "memory.total",
    "memory.used",
    "memory.free",
    "power.draw",
}
_SMI_DATA = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?, .*GPU-[0-9a-fA-F-]+")


def detect(path: Path) -> Kind | None:
    """The telemetry kind of `path`, or None for anything else; cheap and never raises."""
    if is_segment(path):
        return "agent"
    head = _head(path)
    if head is None:
        return None
    stripped = head.lstrip()
    if stripped.startswith("{"):
        named = path.stem in METRIC_COLUMNS
        if '"resultType"' in head and ("DCGM_" in head or named):
            return "prometheus"
        return None
    if _EXPOSITION.search(head):
        return "dcgm-exposition"
    first = next((line for line in head.splitlines() if line.strip()), "")
    if _is_smi_header(first) or _SMI_DATA.match(first):
        return "nvidia-smi"
    return None


def _is_smi_header(line: str) -> bool:
    """nvidia-smi separates fields by ", " and names them `group.field [unit]`."""
    fields = line.strip().split(", ")
    names = {field.split(" [")[0] for field in fields}
    if len(fields) < 2 or fields[0].split(" [")[0] not in _SMI_FIRST_FIELDS:
        return False
    return bool(names & _SMI_GPU_FIELDS) and all(_SMI_FIELD.match(field) for field in fields)


def _head(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(_HEAD_BYTES)
    except OSError:
        return None
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")
