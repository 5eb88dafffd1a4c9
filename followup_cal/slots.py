"""Business days and free mid-morning slots.

All wall-clock times are built in the zone they are meant in, so a 10:00 call
stays at 10:00 across a daylight-saving change (DESIGN.md "Time zones").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .config import Settings
from .model import Busy

# (country, subdivision, year) -> that year's public-holiday dates. Injected so the
# callers that may do I/O can pass a disk-cached one (holidays_cache) while the
# planner itself stays pure.
HolidaySource = Callable[[str, str | None, int], Collection[date]]


@lru_cache(maxsize=32)
def _holidays(country: str, subdivision: str | None, year: int):
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision, years=year)


class Calendar:
    """Business days and busy times for one run."""

    def __init__(self, settings: Settings, busy: Sequence[Busy] = (),
                 holidays: HolidaySource | None = None):
        """`holidays`: where public holidays come from; None: the package itself."""
        self.settings = settings
        self._holiday_source: HolidaySource = holidays or _holidays
        self._holiday_years: dict[int, Collection[date]] = {}  # asked thousands of times
        self.busy = sorted(busy, key=lambda b: (b.start, b.end))
        self._starts = [b.start for b in self.busy]
        # the longest busy block bounds how far back an overlap can start
        self._longest = max((b.end - b.start for b in self.busy), default=timedelta(0))

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        dates = self._holiday_years.get(day.year)
        if dates is None:
            s = self.settings
            dates = self._holiday_source(s.country, s.subdivision, day.year)
            self._holiday_years[day.year] = dates
        return day not in dates

    def next_business_day(self, day: date) -> date:
        """`day` itself if it is one, else the next."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def business_day_after(self, day: date) -> date:
        return self.next_business_day(day + timedelta(days=1))

    def is_free(self, start: datetime, end: datetime) -> bool:
        lo = bisect_left(self._starts, start - self._longest)
        for b in self.busy[lo:]:
            if b.start >= end:
                break
            if b.end > start:
                return False
        return True

    def at(self, day: date, clock: time, zone: str) -> datetime:
        return datetime.combine(day, clock, ZoneInfo(zone))

    def mid_morning(
        self, day: date, zone: str, not_before: datetime, minutes: int
    ) -> datetime | None:
        """The first free mid-morning slot on `day` or a later business day.

        None when nothing is free within `slot_search_days` (a full month of
        meetings is a reason to ask the user, not to call at 17:00).
        """
        s = self.settings
        length = timedelta(minutes=minutes)
        step = timedelta(minutes=max(1, s.slot_step_minutes))
        day = self.next_business_day(day)
        for _ in range(max(1, s.slot_search_days)):
            start = self.at(day, s.call_window_start, zone)
            last = self.at(day, s.call_window_end, zone) - length
            while start <= last:
                if start >= not_before and self.is_free(start, start + length):
                    return start
                start += step
            day = self.business_day_after(day)
        return None
