"""The demo's clock: three monthly billing periods cut into UTC hours, with work-hour masks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

HOUR_MS = 3_600_000
#: Acme AI works on US Pacific time; a fixed UTC-7 offset is close enough for work-hour masks.
LOCAL_OFFSET_HOURS = -7
WORKDAY_START_LOCAL_HOUR = 9
WORKDAY_END_LOCAL_HOUR = 19

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Timeline:
    """Consecutive calendar-month billing periods, e.g. ("2026-09", "2026-10", "2026-11").

    Hour `h` is the UTC hour starting `start + h hours`; every array of hours in the demo uses
    this index: period p holds the hours in `[period_start_hours[p], period_end_hours[p])`.
    """

    periods: tuple[str, ...]

    @cached_property
    def period_starts(self) -> tuple[datetime, ...]:
        starts = [
            datetime.strptime(p + "-01", "%Y-%m-%d").replace(tzinfo=UTC) for p in self.periods
        ]
        return tuple(starts)

    @cached_property
    def period_ends(self) -> tuple[datetime, ...]:
        return tuple(_next_month(start) for start in self.period_starts)

    @property
    def start(self) -> datetime:
        return self.period_starts[0]

    @property
    def end(self) -> datetime:
        return self.period_ends[-1]

    @cached_property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    @property
    def days(self) -> int:
        return self.hours // 24

    @cached_property
    def period_start_hours(self) -> IntArray:
        return np.array([self.hour_of(s) for s in self.period_starts], dtype=np.int64)

    @cached_property
    def period_end_hours(self) -> IntArray:
        return np.array([self.hour_of(e) for e in self.period_ends], dtype=np.int64)

    def hours_in_period(self, period_index: int) -> int:
        return int(self.period_end_hours[period_index] - self.period_start_hours[period_index])

    def hour_of(self, moment: datetime) -> int:
        return int((moment - self.start).total_seconds() // 3600)

    def at(self, hour: int) -> datetime:
        return self.start + timedelta(hours=hour)

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    def period_of_hours(self, hours: IntArray) -> IntArray:
        """Billing-period index of each hour (rows starting at a period boundary belong to it)."""
        return np.searchsorted(self.period_start_hours, hours, side="right").astype(np.int64) - 1

    def hours_in_month_of(self, hours: IntArray) -> IntArray:
        """Length in hours of the billing period each hour falls in (the GB-month divisor)."""
        lengths = self.period_end_hours - self.period_start_hours
        return lengths[self.period_of_hours(hours)]

    @cached_property
    def all_hours(self) -> IntArray:
        return np.arange(self.hours, dtype=np.int64)

    @cached_property
    def workday_mask(self) -> BoolArray:
        """True for hours inside local working hours on a local weekday."""
        local = self.all_hours + LOCAL_OFFSET_HOURS
        local_hour = local % 24
        local_day = local // 24
        weekday = (self.start.weekday() + local_day) % 7  # Monday = 0
        in_hours = (local_hour >= WORKDAY_START_LOCAL_HOUR) & (local_hour < WORKDAY_END_LOCAL_HOUR)
        return np.asarray(in_hours & (weekday < 5), dtype=np.bool_)

    @cached_property
    def local_hour(self) -> IntArray:
        return np.asarray((self.all_hours + LOCAL_OFFSET_HOURS) % 24, dtype=np.int64)


def _next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month)


DEMO_TIMELINE = Timeline(periods=("2026-09", "2026-10", "2026-11"))
