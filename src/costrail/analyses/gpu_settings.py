"""The `gpu:` section of costrail.yaml and the `--gpu-model/--gpu-price` flags → GPU thresholds.

Telemetry from a host no bill covers is priced from the GPU catalogs; when its labels name no
GPU model, or the team knows its own rate (a reserved cluster, a neocloud contract), the model
and the $/GPU-hour are given here. Keys left out keep the `Thresholds` defaults, so the
defaults live in one place (`analyses/base.py`).

```yaml
gpu:
  default_model: H100-SXM          # spec id or a DCGM model name ("NVIDIA H100 80GB HBM3")
  default_usd_per_gpu_hour: 2.49   # replaces the catalog price for hosts no bill covers
  idle_busy_pct: 5                 # an hour is idle below this busy share
  idle_min_hours: 4                # idle hours count only in runs this long
  zombie_min_hours: 4
  target_busy_pct: 70              # busy share consolidation / right-sizing aims for
```
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from pydantic import Field

from costrail.analyses.base import Thresholds
from costrail.config import Config, Section, register_section
from costrail.errors import ConfigError


@register_section("gpu")
class GpuSection(Section):
    """Every key optional: an absent key leaves the `Thresholds` default."""

    default_model: str | None = None
    default_usd_per_gpu_hour: Decimal | None = Field(default=None, gt=0)
    idle_busy_pct: float | None = Field(default=None, ge=0, le=100)
    idle_min_hours: int | None = Field(default=None, ge=1)
    zombie_min_hours: int | None = Field(default=None, ge=1)
    target_busy_pct: float | None = Field(default=None, gt=0, le=100)


def gpu_thresholds(
    config: Config | None,
    gpu_model: str | None = None,
    gpu_price_usd_per_gpu_hour: Decimal | None = None,
    base: Thresholds | None = None,
) -> Thresholds:
    """`base` (default `Thresholds()`) with the config's `gpu:` keys, then the CLI flags, on top.

    Raises `ConfigError` for a model no spec matches or a price that is not positive.
    """
    section = config.section("gpu", GpuSection) if config is not None else GpuSection()
    model_text = gpu_model or section.default_model
    price = (
        gpu_price_usd_per_gpu_hour
        if gpu_price_usd_per_gpu_hour is not None
        else section.default_usd_per_gpu_hour
    )
    if price is not None and (not price.is_finite() or price <= 0):
        raise ConfigError(f"GPU price {price} is not a positive USD per GPU-hour (e.g. 2.49)")
    changes: dict[str, Any] = {
        "gpu_default_model": spec_id_of(model_text) if model_text else None,
        "gpu_default_usd_per_gpu_hour": price,
        "gpu_idle_busy_pct": section.idle_busy_pct,
        "gpu_idle_min_hours": section.idle_min_hours,
        "gpu_zombie_min_hours": section.zombie_min_hours,
        "gpu_target_busy_pct": section.target_busy_pct,
    }
    chosen = base or Thresholds()
    return replace(chosen, **{k: v for k, v in changes.items() if v is not None})


def spec_id_of(model: str) -> str:
    """A spec id (`H100-SXM`, case-insensitive) or a model name as DCGM/nvidia-smi print it."""
    from costrail.analyses.gpu_cost import spec_id_for
    from costrail.gpu.specs import gpu_spec

    by_name = spec_id_for(model)
    if by_name is not None:
        return by_name
    return gpu_spec(model).spec_id
