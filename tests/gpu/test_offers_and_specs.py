"""Catalog offers with their quirks, and which spec row a catalog GPU name resolves to."""

from __future__ import annotations

from decimal import Decimal

from costrail.gpu.specs import gpu_spec, gpu_specs, resolve_spec
from costrail.pricing.gpu_offers import gpu_offers


def _offer(cloud: str, instance_type: str, region: str):  # type: ignore[no-untyped-def]
    return next(
        o for o in gpu_offers(cloud) if o.instance_type == instance_type and o.region == region
    )


def test_gcp_a3_price_is_the_host_plus_eight_h100_accelerators() -> None:
    offer = _offer("gcp", "a3-highgpu-8g", "us-central1")

    assert offer.on_demand_usd_per_hour == Decimal("9.46006") + Decimal("33.60609")
    assert (offer.gpu_model, offer.gpu_count) == ("H100", 8)


def test_gcp_accelerator_spot_dearer_than_on_demand_is_no_spot_offer() -> None:
    # A100-80GB in us-central1: 1.8462 on demand, 1.964 "spot".
    assert _offer("gcp", "a2-ultragpu-1g", "us-central1").spot_usd_per_hour is None


def test_gcp_n1_hosts_get_attachable_gpus() -> None:
    offer = _offer("gcp", "n1-standard-8+1xT4", "us-central1")

    assert offer.on_demand_usd_per_hour == Decimal("0.38") + Decimal("0.35")


def test_vast_zero_spot_price_means_no_spot_offer() -> None:
    assert all(offer.spot_usd_per_hour is None for offer in gpu_offers("vast"))


def test_lambda_has_no_spot_market() -> None:
    assert all(offer.spot_usd_per_hour is None for offer in gpu_offers("lambda"))


def test_azure_h200_spot_equal_to_on_demand_is_no_spot_offer() -> None:
    h200 = [offer for offer in gpu_offers("azure") if offer.gpu_model == "H200"]

    assert h200 and all(offer.spot_usd_per_hour is None for offer in h200)


def test_azure_fractional_gpu_sizes_are_left_out() -> None:
    names = {offer.instance_type for offer in gpu_offers("azure")}

    assert "Standard_NV6ads_A10_v5" not in names
    assert "Standard_NV36ads_A10_v5" in names


def test_vast_memory_is_per_gpu_and_regions_lose_their_leading_comma() -> None:
    offer = next(o for o in gpu_offers("vast") if o.instance_type == "2x-A100_SXM4-32-65536")

    assert offer.gpu_memory_mib in (40960, 81920)
    assert all(not o.region.startswith(",") for o in gpu_offers("vast"))


def test_lambda_per_gpu_memory_comes_from_gpu_info() -> None:
    offer = next(o for o in gpu_offers("lambda") if o.instance_type == "gpu_8x_a100_80gb_sxm4")

    assert offer.gpu_memory_mib == 81920


def test_catalog_names_resolve_to_the_right_variant() -> None:
    assert resolve_spec("lambda", "gpu_1x_h100_pcie", "H100", 81920) == "H100-PCIe"
    assert resolve_spec("azure", "Standard_NC40ads_H100_v5", "H100", None) == "H100-NVL"
    assert resolve_spec("aws", "p5.48xlarge", "H100", 81920) == "H100-SXM"
    assert resolve_spec("vast", "2x-A100_PCIE-32-65536", "A100", 40960) == "A100-40GB-PCIe"
    assert resolve_spec("azure", "Standard_NC24ads_A100_v4", "A100-80GB", None) == "A100-80GB-PCIe"
    assert resolve_spec("gcp", "a3-megagpu-8g", "H100-MEGA", 81920) == "H100-SXM"
    assert resolve_spec("vast", "1x-RTX_5090-32-65536", "RTX5090", 32607) is None


def test_every_spec_row_has_dense_16_bit_throughput_memory_and_a_source() -> None:
    for spec in gpu_specs().values():
        assert spec.fp16_dense_tflops > 0 and spec.memory_gib > 0 and spec.source


def test_peak_throughput_falls_back_where_a_format_is_missing() -> None:
    assert gpu_spec("V100-SXM2-16GB").peak_tflops("bf16") == 125.0
    assert gpu_spec("A100-80GB-SXM").peak_tflops("fp8") == 312.0
    assert gpu_spec("H100-SXM").peak_tflops("fp8") == 1979.0
