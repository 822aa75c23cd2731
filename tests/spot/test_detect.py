"""Choosing the watcher: environment variable first, then probing the three metadata services."""

from __future__ import annotations

import time

import pytest

from costrail.errors import ConfigError
from costrail.spot import (
    PROVIDER_ENV,
    AnyWatcher,
    AwsSpotWatcher,
    GcpPreemptionWatcher,
    MetadataUnreachableError,
    NoticeKind,
    SigtermWatcher,
    auto,
    detect_provider,
)
from tests.spot.metadata_standins import (
    GcpMetadataStandIn,
    ImdsV2StandIn,
    ScheduledEventsStandIn,
    closed_port_url,
)


def test_each_cloud_is_recognised_by_its_own_protocol(
    imds: ImdsV2StandIn,
    gcp_metadata: GcpMetadataStandIn,
    scheduled_events: ScheduledEventsStandIn,
) -> None:
    nowhere = closed_port_url()

    assert detect_provider(aws_url=imds.url, gcp_url=nowhere, azure_url=nowhere) == "aws"
    assert detect_provider(aws_url=nowhere, gcp_url=gcp_metadata.url, azure_url=nowhere) == "gcp"
    assert (
        detect_provider(aws_url=nowhere, gcp_url=nowhere, azure_url=scheduled_events.url) == "azure"
    )


def test_a_service_speaking_another_protocol_is_not_mistaken_for_aws(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    nowhere = closed_port_url()

    found = detect_provider(aws_url=gcp_metadata.url, gcp_url=nowhere, azure_url=nowhere)

    assert found is None


def test_off_cloud_detection_gives_up_within_the_probe_timeout() -> None:
    nowhere = closed_port_url()
    started = time.monotonic()

    assert (
        detect_provider(timeout_s=0.3, aws_url=nowhere, gcp_url=nowhere, azure_url=nowhere) is None
    )
    assert time.monotonic() - started < 1.0


def test_environment_variable_skips_probing(imds: ImdsV2StandIn) -> None:
    watcher = auto(env={PROVIDER_ENV: "aws"}, aws_url=imds.url, sigterm=False)

    assert [type(w) for w in watcher.watchers] == [AwsSpotWatcher]
    assert imds.requests == []


def test_kubernetes_setting_watches_sigterm_only() -> None:
    watcher = auto(env={PROVIDER_ENV: "kubernetes"})
    signal_watchers = [w for w in watcher.watchers if isinstance(w, SigtermWatcher)]
    for installed in signal_watchers:
        installed.uninstall()

    assert [w.provider for w in watcher.watchers] == ["sigterm"]
    assert len(signal_watchers) == 1


def test_unknown_provider_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=PROVIDER_ENV):
        auto(env={PROVIDER_ENV: "oracle"})


def test_probing_picks_the_cloud_that_answers(gcp_metadata: GcpMetadataStandIn) -> None:
    nowhere = closed_port_url()

    watcher = auto(
        env={}, aws_url=nowhere, gcp_url=gcp_metadata.url, azure_url=nowhere, sigterm=False
    )

    assert [type(w) for w in watcher.watchers] == [GcpPreemptionWatcher]


def test_any_watcher_reports_a_final_notice_over_advice(
    imds: ImdsV2StandIn, gcp_metadata: GcpMetadataStandIn
) -> None:
    imds.rebalance = {"noticeTime": "2026-03-01T11:50:00Z"}
    gcp_metadata.preempt()
    watcher = AnyWatcher([AwsSpotWatcher(imds.url), GcpPreemptionWatcher(gcp_metadata.url)])

    notice = watcher.check()

    assert notice is not None and notice.kind is NoticeKind.PREEMPT


def test_any_watcher_still_sees_a_notice_when_another_source_fails(
    gcp_metadata: GcpMetadataStandIn,
) -> None:
    gcp_metadata.preempt()
    broken = AwsSpotWatcher(closed_port_url(), timeout_s=0.2)
    watcher = AnyWatcher([broken, GcpPreemptionWatcher(gcp_metadata.url)])

    notice = watcher.check()

    assert notice is not None and notice.provider == "gcp"


def test_any_watcher_raises_when_no_source_answers() -> None:
    watcher = AnyWatcher([AwsSpotWatcher(closed_port_url(), timeout_s=0.2)])

    with pytest.raises(MetadataUnreachableError):
        watcher.check()
