"""Fixtures for the spot tests: running metadata stand-ins (see metadata_standins.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.spot.metadata_standins import (
    GcpMetadataStandIn,
    ImdsV2StandIn,
    ScheduledEventsStandIn,
)


@pytest.fixture
def imds() -> Iterator[ImdsV2StandIn]:
    with ImdsV2StandIn() as standin:
        yield standin


@pytest.fixture
def gcp_metadata() -> Iterator[GcpMetadataStandIn]:
    with GcpMetadataStandIn() as standin:
        yield standin


@pytest.fixture
def scheduled_events() -> Iterator[ScheduledEventsStandIn]:
    with ScheduledEventsStandIn() as standin:
        yield standin
