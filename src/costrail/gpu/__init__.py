"""GPU planning: how much memory and time a job needs, and which GPU and price fit it best."""

from costrail.gpu.estimate import (
    InferenceEstimate,
    TrainingEstimate,
    estimate_inference,
    estimate_training,
)
from costrail.gpu.model_config import PRESETS, ModelConfig, load_model_config, parameter_counts
from costrail.gpu.setup import InferenceSetup, Parallelism, TrainingSetup
from costrail.gpu.specs import GpuSpec, gpu_spec, gpu_specs

__all__ = [
    "PRESETS",
    "GpuSpec",
    "InferenceEstimate",
    "InferenceSetup",
    "ModelConfig",
    "Parallelism",
    "TrainingEstimate",
    "TrainingSetup",
    "estimate_inference",
    "estimate_training",
    "gpu_spec",
    "gpu_specs",
    "load_model_config",
    "parameter_counts",
]
