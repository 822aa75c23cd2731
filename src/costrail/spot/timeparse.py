"""Parse the time formats the metadata services use into aware UTC datetimes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

logger = logging.getLogger("costrail.spot")


def parse_iso_utc(text: str, *, source: str) -> datetime | None:
    """ISO 8601 as AWS writes it (`2026-03-01T12:02:00Z`); None, with a warning, if unparsable."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        logger.warning("%s: cannot parse time %r; notice kept without a deadline", source, text)
        return None
    return _as_utc(parsed)


def parse_http_date_utc(text: str, *, source: str) -> datetime | None:
    """RFC 1123 as Azure writes `NotBefore` (`Mon, 19 Sep 2016 18:29:47 GMT`); None if blank."""
    if not text.strip():
        return None
    try:
        parsed = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        logger.warning("%s: cannot parse time %r; notice kept without a deadline", source, text)
        return None
    return _as_utc(parsed)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
