"""AWS IMDSv2 watcher against a local IMDSv2 stand-in (token-then-GET, 401 without a token)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from costrail.spot import (
    AwsSpotWatcher,
    MetadataResponseError,
    MetadataUnreachableError,
    NoticeKind,
)
from tests.spot.metadata_standins import ImdsV2StandIn, bare_get_status, closed_port_url


def test_stand_in_refuses_a_get_without_a_session_token(imds: ImdsV2StandIn) -> None:
    imds.instance_action = {"action": "terminate", "time": "2026-03-01T12:02:00Z"}

    assert bare_get_status(imds.url + "/latest/meta-data/spot/instance-action") == 401


def test_no_pending_action_means_no_notice(imds: ImdsV2StandIn) -> None:
    assert AwsSpotWatcher(imds.url).check() is None


def test_terminate_action_becomes_a_notice_with_the_announced_time(imds: ImdsV2StandIn) -> None:
    imds.instance_action = {"action": "terminate", "time": "2026-03-01T12:02:00Z"}

    notice = AwsSpotWatcher(imds.url).check()

    assert notice is not None
    assert (notice.provider, notice.kind) == ("aws", NoticeKind.TERMINATE)
    assert notice.deadline == datetime(2026, 3, 1, 12, 2, tzinfo=UTC)
    assert '"terminate"' in notice.raw


@pytest.mark.parametrize(
    ("action", "kind"), [("stop", NoticeKind.STOP), ("hibernate", NoticeKind.HIBERNATE)]
)
def test_stop_and_hibernate_actions_keep_their_kind(
    imds: ImdsV2StandIn, action: str, kind: NoticeKind
) -> None:
    imds.instance_action = {"action": action, "time": "2026-03-01T12:02:00Z"}

    notice = AwsSpotWatcher(imds.url).check()

    assert notice is not None and notice.kind is kind


def test_token_is_fetched_by_put_with_a_ttl_and_sent_with_every_get(imds: ImdsV2StandIn) -> None:
    watcher = AwsSpotWatcher(imds.url, token_ttl_s=300)

    watcher.check()
    watcher.check()

    puts = [r for r in imds.requests if r[0] == "PUT"]
    gets = [r for r in imds.requests if r[0] == "GET"]
    assert len(puts) == 1
    assert puts[0][3]["x-aws-ec2-metadata-token-ttl-seconds"] == "300"
    assert len(gets) == 4  # instance-action and rebalance, twice
    assert all(r[3]["x-aws-ec2-metadata-token"] in imds.tokens for r in gets)


def test_revoked_token_is_renewed_and_the_check_still_answers(imds: ImdsV2StandIn) -> None:
    watcher = AwsSpotWatcher(imds.url)
    watcher.check()
    imds.revoke_tokens()
    imds.instance_action = {"action": "terminate", "time": "2026-03-01T12:02:00Z"}

    notice = watcher.check()

    assert notice is not None and notice.kind is NoticeKind.TERMINATE
    assert len([r for r in imds.requests if r[0] == "PUT"]) == 2


def test_rebalance_recommendation_is_advice_without_a_deadline(imds: ImdsV2StandIn) -> None:
    imds.rebalance = {"noticeTime": "2026-03-01T11:50:00Z"}

    notice = AwsSpotWatcher(imds.url).check()

    assert notice is not None
    assert notice.kind is NoticeKind.REBALANCE and not notice.kind.is_final
    assert notice.deadline is None


def test_interruption_notice_wins_over_a_rebalance_recommendation(imds: ImdsV2StandIn) -> None:
    imds.rebalance = {"noticeTime": "2026-03-01T11:50:00Z"}
    imds.instance_action = {"action": "stop", "time": "2026-03-01T12:02:00Z"}

    notice = AwsSpotWatcher(imds.url).check()

    assert notice is not None and notice.kind is NoticeKind.STOP


def test_rebalance_is_not_asked_for_when_disabled(imds: ImdsV2StandIn) -> None:
    imds.rebalance = {"noticeTime": "2026-03-01T11:50:00Z"}

    assert AwsSpotWatcher(imds.url, include_rebalance=False).check() is None
    assert not any(r[1].endswith("/rebalance") for r in imds.requests)


def test_unreachable_imds_raises_a_typed_error() -> None:
    with pytest.raises(MetadataUnreachableError):
        AwsSpotWatcher(closed_port_url(), timeout_s=0.5).check()


def test_a_body_that_is_not_json_raises_a_response_error(imds: ImdsV2StandIn) -> None:
    imds.raw_instance_action = b"<html>maintenance</html>"

    with pytest.raises(MetadataResponseError, match="not JSON"):
        AwsSpotWatcher(imds.url).check()


def test_token_ttl_outside_imds_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="token_ttl_s"):
        AwsSpotWatcher(token_ttl_s=30_000)
