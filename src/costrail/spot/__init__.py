"""Spot safety: preemption watchers, atomic checkpoints, the optimal checkpoint interval."""

from costrail.spot.aws import AwsSpotWatcher
from costrail.spot.azure import AzureScheduledEventsWatcher
from costrail.spot.checkpoint import CheckpointInfo, CheckpointStore
from costrail.spot.detect import PROVIDER_ENV, AnyWatcher, auto, detect_provider
from costrail.spot.errors import (
    CheckpointCorruptError,
    CheckpointError,
    MetadataResponseError,
    MetadataUnreachableError,
    MissingExtraError,
    SpotError,
)
from costrail.spot.gcp import GcpPreemptionWatcher
from costrail.spot.interval import (
    CheckpointPlan,
    daly_interval_s,
    expected_overhead_fraction,
    mtbi_s,
    plan_checkpoints,
    young_interval_s,
)
from costrail.spot.notice import NoticeKind, PreemptionNotice, PreemptionWatcher
from costrail.spot.position import LoaderPosition, skip_batches
from costrail.spot.rng import RngState, capture_rng_state, restore_rng_state
from costrail.spot.sigterm import SigtermWatcher
from costrail.spot.watch import WatchHandle, watch

__all__ = [
    "PROVIDER_ENV",
    "AnyWatcher",
    "AwsSpotWatcher",
    "AzureScheduledEventsWatcher",
    "CheckpointCorruptError",
    "CheckpointError",
    "CheckpointInfo",
    "CheckpointPlan",
    "CheckpointStore",
    "GcpPreemptionWatcher",
    "LoaderPosition",
    "MetadataResponseError",
    "MetadataUnreachableError",
    "MissingExtraError",
    "NoticeKind",
    "PreemptionNotice",
    "PreemptionWatcher",
    "RngState",
    "SigtermWatcher",
    "SpotError",
    "WatchHandle",
    "auto",
    "capture_rng_state",
    "daly_interval_s",
    "detect_provider",
    "expected_overhead_fraction",
    "mtbi_s",
    "plan_checkpoints",
    "restore_rng_state",
    "skip_batches",
    "watch",
    "young_interval_s",
]
