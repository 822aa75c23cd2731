"""Host → billing resource id: pure helpers that turn node provider IDs and host maps into ids.

The `instance_id` column of `gpu_samples` is what the GPU analyses join to `costs.ResourceId`.
It is filled only when the telemetry itself says which billed machine a host is (a Kubernetes
node's providerID carried as a label, an `instance_id` label) or the user maps hosts to ids in
a `--host-map` CSV. A host name that merely *looks* like an id (`i-0abc…`, `ip-10-0-1-2…`) is
left to the analysis join, which can match it against the bill with context this module lacks.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from costrail.errors import InputError

_AWS = re.compile(r"^aws:///[^/]*/(i-[0-9a-f]+)$")
_GCE = re.compile(r"^gce://[^/]+/[^/]+/([^/]+)$")
_AZURE = re.compile(r"^azure://(/subscriptions/.+/virtualmachines/[^/]+)$", re.IGNORECASE)
_AZURE_VMSS = re.compile(
    r"^azure://(/subscriptions/.+/virtualmachinescalesets/[^/]+)/virtualmachines/\d+$",
    re.IGNORECASE,
)


def instance_id_from_provider_id(provider_id: str | None) -> str | None:
    """The billing resource id a Kubernetes node `spec.providerID` names, or None.

    - `aws:///us-east-1a/i-0abc…` → `i-0abc…` (the CUR `ResourceId` of the EC2 instance);
    - `gce://project/zone/name` → `name` (GCP bills label resources by instance name);
    - `azure:///subscriptions/…/virtualMachines/NAME` → the ARM id, lower case, as Azure cost
      exports write `ResourceId`; a scale-set instance maps to its scale set, which is what
      Azure bills.
    """
    if not provider_id:
        return None
    text = provider_id.strip()
    for pattern in (_AWS, _GCE):
        found = pattern.match(text)
        if found:
            return found.group(1)
    for pattern in (_AZURE_VMSS, _AZURE):
        found = pattern.match(text)
        if found:
            return found.group(1).lower()
    return None


def read_host_map(path: Path) -> dict[str, str]:
    """`host,instance_id` rows (a header line is optional) → {host: instance_id}.

    A provider id in the second column is normalised (`aws:///…/i-…` → `i-…`).
    """
    mapping: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read host map: {error}", file=path) from error
    for row_number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or row[0].startswith("#"):
            continue
        if row_number == 1 and row[0].strip().lower() == "host":
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise InputError(
                "expected two values: host,instance_id",
                file=path,
                row=row_number,
                hint="one mapping per line, e.g. gpu-node-1,i-0123456789abcdef0",
            )
        target = row[1].strip()
        mapping[row[0].strip()] = instance_id_from_provider_id(target) or target
    return mapping


def resolve_instance_ids(
    hosts: pa.Array | pa.ChunkedArray,
    provider_ids: pa.Array | pa.ChunkedArray,
    instance_labels: pa.Array | pa.ChunkedArray,
    host_map: Mapping[str, str] | None,
) -> pa.Array:
    """Per row: the host map's id, else the `instance_id` label, else the provider id's id.

    Vectorised: the pure mapping runs once per distinct value, never per sample row.
    """
    from_map = _lookup(hosts, dict(host_map or {}))
    provider_values = pc.unique(provider_ids).to_pylist()
    from_provider = _lookup(
        provider_ids,
        {
            value: mapped
            for value in provider_values
            if value is not None and (mapped := instance_id_from_provider_id(value)) is not None
        },
    )
    return pc.coalesce(from_map, instance_labels, from_provider)


def _lookup(values: pa.Array | pa.ChunkedArray, mapping: dict[str, str]) -> pa.Array:
    length = len(values)
    if not mapping:
        return pa.nulls(length, pa.string())
    keys = pa.array(list(mapping), pa.string())
    positions = pc.index_in(values, value_set=keys)
    result = pc.take(pa.array(list(mapping.values()), pa.string()), positions)
    if isinstance(result, pa.ChunkedArray):
        return result.combine_chunks()
    return result
