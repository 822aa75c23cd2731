"""GPU telemetry (DCGM exposition, Prometheus API, nvidia-smi, agent segments) → `gpu_samples`."""

from costrail.telemetry.agent_segments import SEGMENT_COLUMNS, segment_schema
from costrail.telemetry.dcgm import parse_exposition
from costrail.telemetry.hosts import instance_id_from_provider_id, read_host_map
from costrail.telemetry.load import (
    SAMPLE_KEY,
    SourceSummary,
    TelemetryReport,
    load_prometheus,
    load_telemetry,
)
from costrail.telemetry.nvidia_smi import parse_smi_csv
from costrail.telemetry.pivot import Parsed
from costrail.telemetry.prometheus_api import parse_query_json, pull

__all__ = [
    "SAMPLE_KEY",
    "SEGMENT_COLUMNS",
    "Parsed",
    "SourceSummary",
    "TelemetryReport",
    "instance_id_from_provider_id",
    "load_prometheus",
    "load_telemetry",
    "parse_exposition",
    "parse_query_json",
    "parse_smi_csv",
    "pull",
    "read_host_map",
    "segment_schema",
]
