"""Pick the right watcher for this machine: from an environment variable or by probing."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from costrail.errors import ConfigError
from costrail.spot.aws import AWS_METADATA_URL, TOKEN_PATH, TOKEN_TTL_HEADER, AwsSpotWatcher
from costrail.spot.azure import (
    AZURE_METADATA_URL,
    INSTANCE_API_VERSION,
    METADATA_HEADERS,
    AzureScheduledEventsWatcher,
)
from costrail.spot.errors import SpotError
from costrail.spot.gcp import FLAVOR, FLAVOR_HEADER, GCP_METADATA_URL, GcpPreemptionWatcher
from costrail.spot.metadata_http import send
from costrail.spot.notice import PreemptionNotice, PreemptionWatcher
from costrail.spot.sigterm import KUBERNETES_DEFAULT_GRACE_S, SigtermWatcher

logger = logging.getLogger("costrail.spot")

PROVIDER_ENV = "COSTRAIL_SPOT_PROVIDER"
CLOUDS = ("aws", "gcp", "azure")
SIGNAL_ONLY = ("sigterm", "kubernetes", "none")
DEFAULT_PROBE_TIMEOUT_S = 0.5


class AnyWatcher:
    """Asks several watchers; a final notice beats advice, and one failing source does not hide
    another's notice. Raises the first error only when no watcher answered at all."""

    provider = "any"

    def __init__(self, watchers: Sequence[PreemptionWatcher]) -> None:
        self.watchers = tuple(watchers)

    def check(self) -> PreemptionNotice | None:
        advice: PreemptionNotice | None = None
        first_error: SpotError | None = None
        answered = False
        for watcher in self.watchers:
            try:
                notice = watcher.check()
            except SpotError as error:
                first_error = first_error or error
                continue
            answered = True
            if notice is not None and notice.kind.is_final:
                return notice
            advice = advice or notice
        if advice is None and not answered and first_error is not None:
            raise first_error
        return advice


def auto(
    *,
    env: Mapping[str, str] | None = None,
    probe_timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
    aws_url: str = AWS_METADATA_URL,
    gcp_url: str = GCP_METADATA_URL,
    azure_url: str = AZURE_METADATA_URL,
    sigterm: bool = True,
    grace_period_s: float = KUBERNETES_DEFAULT_GRACE_S,
) -> AnyWatcher:
    """The watcher for this machine: its cloud's metadata watcher plus SIGTERM.

    `COSTRAIL_SPOT_PROVIDER` (aws, gcp, azure; or sigterm/kubernetes/none for signals only)
    skips probing. Otherwise the three metadata services are probed in parallel, each with
    `probe_timeout_s`, so off-cloud this costs about that long. SIGTERM is included unless
    `sigterm=False` (it installs a signal handler, so call this from the main thread).
    """
    environment = os.environ if env is None else env
    chosen = environment.get(PROVIDER_ENV, "").strip().lower()
    if chosen and chosen not in CLOUDS + SIGNAL_ONLY:
        raise ConfigError(
            f"{PROVIDER_ENV}={chosen!r} is not one of {', '.join(CLOUDS + SIGNAL_ONLY)}"
        )
    provider = chosen or detect_provider(
        timeout_s=probe_timeout_s, aws_url=aws_url, gcp_url=gcp_url, azure_url=azure_url
    )
    watchers: list[PreemptionWatcher] = []
    if provider == "aws":
        watchers.append(AwsSpotWatcher(aws_url))
    elif provider == "gcp":
        watchers.append(GcpPreemptionWatcher(gcp_url))
    elif provider == "azure":
        watchers.append(AzureScheduledEventsWatcher(azure_url))
    if sigterm:
        watchers.append(SigtermWatcher(grace_period_s=grace_period_s))
    logger.info("spot watcher: %s", ", ".join(w.provider for w in watchers) or "none")
    return AnyWatcher(watchers)


def detect_provider(
    *,
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
    aws_url: str = AWS_METADATA_URL,
    gcp_url: str = GCP_METADATA_URL,
    azure_url: str = AZURE_METADATA_URL,
) -> str | None:
    """aws, gcp or azure — whichever metadata service answers its own protocol — or None.

    Probes run in daemon threads; a probe stuck in DNS (metadata.google.internal off GCP) is
    abandoned after `timeout_s` plus a small margin rather than waited for.
    """
    probes: dict[str, Callable[[], bool]] = {
        "gcp": lambda: _is_gcp(gcp_url, timeout_s),
        "azure": lambda: _is_azure(azure_url, timeout_s),
        "aws": lambda: _is_aws(aws_url, timeout_s),
    }
    answers: queue.Queue[tuple[str, bool]] = queue.Queue()
    for name, probe in probes.items():
        threading.Thread(
            target=_run_probe,
            args=(name, probe, answers),
            name=f"costrail-probe-{name}",
            daemon=True,
        ).start()
    found: set[str] = set()
    deadline = time.monotonic() + timeout_s + 0.25
    for _ in probes:
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            break
        try:
            name, is_here = answers.get(timeout=remaining_s)
        except queue.Empty:
            break
        if is_here:
            found.add(name)
    return next((name for name in probes if name in found), None)


def _run_probe(
    name: str, probe: Callable[[], bool], answers: queue.Queue[tuple[str, bool]]
) -> None:
    try:
        answers.put((name, probe()))
    except SpotError as error:
        logger.debug("probe %s: %s", name, error)
        answers.put((name, False))


def _is_aws(base_url: str, timeout_s: float) -> bool:
    reply = send(
        "PUT",
        base_url.rstrip("/") + TOKEN_PATH,
        headers={TOKEN_TTL_HEADER: "60"},
        timeout_s=timeout_s,
    )
    return reply.status == 200 and bool(reply.text.strip())


def _is_gcp(base_url: str, timeout_s: float) -> bool:
    reply = send(
        "GET",
        base_url.rstrip("/") + "/computeMetadata/v1/instance/id",
        headers={FLAVOR_HEADER: FLAVOR},
        timeout_s=timeout_s,
    )
    return reply.status == 200 and reply.headers.get(FLAVOR_HEADER.lower()) == FLAVOR


def _is_azure(base_url: str, timeout_s: float) -> bool:
    reply = send(
        "GET",
        f"{base_url.rstrip('/')}/metadata/instance?api-version={INSTANCE_API_VERSION}",
        headers=METADATA_HEADERS,
        timeout_s=timeout_s,
    )
    if reply.status != 200:
        return False
    try:
        document = json.loads(reply.text)
    except json.JSONDecodeError:
        return False
    return isinstance(document, dict) and "compute" in document
