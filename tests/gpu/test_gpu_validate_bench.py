"""bench/gpu_validate.py: without a CUDA GPU it prints predictions and exits 0, writing nothing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "gpu_validate.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_validate", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_the_script_prints_the_predicted_grid_and_exits_0(tmp_path: Path) -> None:
    before = set((REPO / "bench" / "results").glob("gpu_validate-*"))
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "CPU-only run" in result.stdout
    assert "gpt2-125m b8 s1024 bf16-autocast" in result.stdout
    assert set((REPO / "bench" / "results").glob("gpu_validate-*")) == before


def test_device_names_map_to_spec_rows() -> None:
    bench = _bench()

    assert bench.spec_for_device("NVIDIA H100 80GB HBM3").spec_id == "H100-SXM"
    assert bench.spec_for_device("NVIDIA H200").spec_id == "H200-SXM"
    assert bench.spec_for_device("NVIDIA A100-SXM4-80GB").spec_id == "A100-80GB-SXM"
    assert bench.spec_for_device("Some Future GPU") is None


def test_grid_spans_125m_to_1_3b_parameters() -> None:
    from costrail.gpu.model_config import parameter_counts

    sizes = {parameter_counts(case.model).total for case in _bench().grid()}

    assert min(sizes) == 124_439_808
    assert 1.2e9 < max(sizes) < 1.4e9
