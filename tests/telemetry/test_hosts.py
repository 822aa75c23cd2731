"""Host → billing resource id mapping helpers."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from costrail.errors import InputError
from costrail.telemetry import instance_id_from_provider_id, read_host_map
from costrail.telemetry.hosts import resolve_instance_ids


def test_aws_provider_id_maps_to_the_ec2_instance_id() -> None:
    assert instance_id_from_provider_id("aws:///us-east-1a/i-0abc123def4567890") == (
        "i-0abc123def4567890"
    )


def test_gce_provider_id_maps_to_the_instance_name() -> None:
    assert instance_id_from_provider_id("gce://acme-ml/us-central1-a/gke-pool-1-abcd") == (
        "gke-pool-1-abcd"
    )


def test_azure_provider_id_maps_to_the_lowercase_arm_id() -> None:
    provider_id = (
        "azure:///subscriptions/0000-AAAA/resourceGroups/ML-RG/providers/"
        "Microsoft.Compute/virtualMachines/GPU-VM-1"
    )
    assert instance_id_from_provider_id(provider_id) == (
        "/subscriptions/0000-aaaa/resourcegroups/ml-rg/providers/"
        "microsoft.compute/virtualmachines/gpu-vm-1"
    )


def test_azure_scale_set_instance_maps_to_the_billed_scale_set() -> None:
    provider_id = (
        "azure:///subscriptions/s1/resourceGroups/mc_rg/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/aks-gpu-123/virtualMachines/4"
    )
    assert instance_id_from_provider_id(provider_id) == (
        "/subscriptions/s1/resourcegroups/mc_rg/providers/microsoft.compute/"
        "virtualmachinescalesets/aks-gpu-123"
    )


def test_unknown_provider_ids_map_to_nothing() -> None:
    assert instance_id_from_provider_id("kind://docker/kind/kind-worker") is None
    assert instance_id_from_provider_id(None) is None


def test_host_map_csv_is_read_with_optional_header(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text("host,instance_id\nbox-1,i-0123\nbox-2,aws:///eu-west-1b/i-0456\n")
    assert read_host_map(path) == {"box-1": "i-0123", "box-2": "i-0456"}


def test_a_bad_host_map_row_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text("box-1,i-0123\nbox-2\n")
    with pytest.raises(InputError) as caught:
        read_host_map(path)
    assert caught.value.row == 2


def test_host_map_wins_and_id_like_host_names_are_left_for_the_join() -> None:
    hosts = pa.array(["box-1", "i-0fedcba987", "ip-10-0-1-2.ec2.internal"])
    nulls = pa.nulls(3, pa.string())
    resolved = resolve_instance_ids(hosts, nulls, nulls, {"box-1": "i-0123"})
    assert resolved.to_pylist() == ["i-0123", None, None]
