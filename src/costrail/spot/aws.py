"""AWS spot interruption notices and rebalance recommendations from IMDSv2."""

from __future__ import annotations

import json
import logging
import time

from costrail.spot.errors import MetadataResponseError
from costrail.spot.metadata_http import HttpReply, send
from costrail.spot.notice import NoticeKind, PreemptionNotice
from costrail.spot.timeparse import parse_iso_utc

logger = logging.getLogger("costrail.spot")

AWS_METADATA_URL = "http://169.254.169.254"
TOKEN_PATH = "/latest/api/token"
INSTANCE_ACTION_PATH = "/latest/meta-data/spot/instance-action"
REBALANCE_PATH = "/latest/meta-data/events/recommendations/rebalance"
TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MAX_TOKEN_TTL_S = 21_600  # IMDSv2 accepts 1 s to 6 h

_ACTIONS = {
    "terminate": NoticeKind.TERMINATE,
    "stop": NoticeKind.STOP,
    "hibernate": NoticeKind.HIBERNATE,
}


class AwsSpotWatcher:
    """Polls IMDSv2 for `spot/instance-action` (the two-minute notice) and, optionally, the
    rebalance recommendation (`events/recommendations/rebalance`, an earlier, softer signal).

    IMDSv2 only: a session token is fetched with PUT and sent with every GET; it is renewed a
    minute before its TTL runs out, and once more if IMDS answers 401 (token expired or revoked).
    Inside containers, the instance's `HttpPutResponseHopLimit` must be at least 2 or the PUT
    never comes back (`MetadataUnreachableError`). AWS recommends polling every 5 seconds.
    """

    provider = "aws"

    def __init__(
        self,
        base_url: str = AWS_METADATA_URL,
        *,
        timeout_s: float = 1.0,
        token_ttl_s: int = MAX_TOKEN_TTL_S,
        include_rebalance: bool = True,
    ) -> None:
        if not 1 <= token_ttl_s <= MAX_TOKEN_TTL_S:
            raise ValueError(f"token_ttl_s must be 1..{MAX_TOKEN_TTL_S}, got {token_ttl_s}")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.token_ttl_s = token_ttl_s
        self.include_rebalance = include_rebalance
        self._token: str | None = None
        self._token_expires_monotonic_s = 0.0

    def check(self) -> PreemptionNotice | None:
        """The interruption notice if one is set; else the rebalance recommendation; else None."""
        action_body = self._get_optional(INSTANCE_ACTION_PATH)
        if action_body is not None:
            return _instance_action_notice(action_body, self.base_url + INSTANCE_ACTION_PATH)
        if self.include_rebalance:
            rebalance_body = self._get_optional(REBALANCE_PATH)
            if rebalance_body is not None:
                return _rebalance_notice(rebalance_body, self.base_url + REBALANCE_PATH)
        return None

    def _get_optional(self, path: str) -> str | None:
        """GET with the session token; None on 404 (IMDS's way of saying 'nothing pending')."""
        url = self.base_url + path
        reply = self._get_with_token(url)
        if reply.status == 401:  # token expired or revoked: fetch a new one and retry once
            self._token = None
            reply = self._get_with_token(url)
        if reply.status == 404:
            return None
        if reply.status != 200:
            raise MetadataResponseError(url, reply.status, reply.text[:200])
        return reply.text

    def _get_with_token(self, url: str) -> HttpReply:
        return send(
            "GET", url, headers={TOKEN_HEADER: self._session_token()}, timeout_s=self.timeout_s
        )

    def _session_token(self) -> str:
        if self._token is not None and time.monotonic() < self._token_expires_monotonic_s:
            return self._token
        url = self.base_url + TOKEN_PATH
        reply = send(
            "PUT", url, headers={TOKEN_TTL_HEADER: str(self.token_ttl_s)}, timeout_s=self.timeout_s
        )
        if reply.status != 200 or not reply.text.strip():
            raise MetadataResponseError(url, reply.status, "no IMDSv2 session token in the answer")
        self._token = reply.text.strip()
        self._token_expires_monotonic_s = time.monotonic() + max(1, self.token_ttl_s - 60)
        return self._token


def _instance_action_notice(body: str, url: str) -> PreemptionNotice:
    document = _json_object(body, url)
    action = str(document.get("action", "")).lower()
    kind = _ACTIONS.get(action)
    if kind is None:
        logger.warning("aws: unknown spot action %r in %s; treated as terminate", action, url)
        kind = NoticeKind.TERMINATE
    time_text = document.get("time")
    deadline = parse_iso_utc(time_text, source=url) if isinstance(time_text, str) else None
    return PreemptionNotice(provider="aws", kind=kind, deadline=deadline, raw=body)


def _rebalance_notice(body: str, url: str) -> PreemptionNotice:
    _json_object(body, url)  # `{"noticeTime": ...}`: when AWS raised it, not a deadline
    return PreemptionNotice(provider="aws", kind=NoticeKind.REBALANCE, deadline=None, raw=body)


def _json_object(body: str, url: str) -> dict[str, object]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise MetadataResponseError(url, 200, f"not JSON: {body[:200]!r}") from error
    if not isinstance(document, dict):
        raise MetadataResponseError(url, 200, f"expected a JSON object: {body[:200]!r}")
    return document
