"""Typed errors of the spot-safety library: metadata services, checkpoints, optional extras."""

from __future__ import annotations

from costrail.errors import CostrailError


class SpotError(CostrailError):
    """Every error `costrail.spot` raises on purpose."""

    exit_code = 7


class MetadataUnreachableError(SpotError):
    """The instance metadata service did not answer (refused, timed out, DNS failure).

    Off-cloud this is expected; on a cloud VM it usually means a firewall, a container network
    namespace or (AWS) an IMDS hop limit of 1 seen from inside a container. Watchers raise it
    from `check()`; `watch()` logs it and keeps polling, so it never stops a training loop.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"metadata service at {url} unreachable: {reason}")


class MetadataResponseError(SpotError):
    """The metadata service answered, but not the way its documented protocol says it should."""

    def __init__(self, url: str, status: int, detail: str) -> None:
        self.url = url
        self.status = status
        self.detail = detail
        super().__init__(f"unexpected answer from {url} (HTTP {status}): {detail}")


class CheckpointError(SpotError):
    """A checkpoint cannot be written or read."""


class CheckpointCorruptError(CheckpointError):
    """A complete checkpoint's bytes no longer match the size or sha256 in its marker."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        super().__init__(
            f"checkpoint {url} is corrupt: {detail} — it was changed after it was written; "
            "resume from an older checkpoint (CheckpointStore.restore_latest skips it)"
        )


class MissingExtraError(SpotError):
    """An optional dependency (PyTorch) is needed for this helper but is not installed."""

    def __init__(self, package: str, purpose: str) -> None:
        self.package = package
        super().__init__(
            f"{purpose} needs {package}, which is not installed — pip install {package}"
        )
