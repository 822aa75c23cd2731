"""The canonical `gpu_samples` table: one row per GPU (or MIG instance) per sample time.

Every telemetry source (dcgm-exporter scrapes, Prometheus `query_range` answers, `nvidia-smi`
CSV logs, the `costrail agent` Parquet segments) lands in this one shape, so the GPU analyses
never care where a sample came from. Busy signals are kept apart because they are not equally
true: SM active > tensor active > GR engine active > GPU util (the last one only says "a kernel
ran during the interval"). Activity ratios are fractions 0..1; `gpu_util_pct` is 0..100.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from costrail.schema.costs import TIMESTAMP

GPU_SAMPLES_SCHEMA = ibis.schema(
    {
        "time": TIMESTAMP,
        #: host name as the exporter reports it (`Hostname`/`hostname` label, nvidia-smi host)
        "host": dt.string,
        #: billing resource id when known (EC2 i-…, GCP instance name, Azure VM resource id);
        #: from a Kubernetes node's providerID or a host mapping; null until joined
        "instance_id": dt.string,
        #: Kubernetes node name (equals host on bare VMs)
        "node": dt.string,
        "gpu_index": dt.int32,
        "gpu_uuid": dt.string,
        #: model name as reported, e.g. "NVIDIA H100 80GB HBM3"
        "gpu_model": dt.string,
        "pci_bus_id": dt.string,
        #: MIG profile (e.g. "1g.10gb") and GPU instance id; null for a whole GPU
        "mig_profile": dt.string,
        "mig_instance_id": dt.string,
        "gpu_util_pct": dt.float64,
        "sm_active": dt.float64,
        "tensor_active": dt.float64,
        "gr_engine_active": dt.float64,
        "dram_active": dt.float64,
        "memory_used_mib": dt.float64,
        "memory_total_mib": dt.float64,
        "power_w": dt.float64,
        "namespace": dt.string,
        "pod": dt.string,
        "container": dt.string,
        "job_id": dt.string,
        #: compute processes on the GPU at sample time (agent only; null when unknown)
        "process_count": dt.int32,
        #: seconds of wall time this sample stands for (the scrape / logging interval)
        "interval_s": dt.float64,
        #: "dcgm-exposition", "prometheus", "nvidia-smi" or "agent"
        "source": dt.string,
        "source_file": dt.string,
        "ingest_id": dt.string,
    }
)
