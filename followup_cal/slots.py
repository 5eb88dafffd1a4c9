"""Business days, waking hours and free mid-morning slots.

All wall-clock times are built in the zone they are meant in, so a 10:00 call
stays at 10:00 across a daylight-saving change; every offset is counted in UTC
(DESIGN.md "Time"). What this module returns is in UTC: comparing two aware
datetimes that share a tzinfo compares their wall times, not the instants.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from .config import Settings
from .model import Busy

UTC = timezone.utc  # datetime.UTC is Python 3.11+; the package supports 3.10

# (country, subdivision, year) -> that year's public-holiday dates. Injected so the
# callers that may do I/O can pass a disk-cached one (holidays_cache) while the
# planner itself stays pure.
HolidaySource = Callable[[str, str | None, int], Collection[date]]


def wall(day: date, clock: time, zone: str) -> datetime:
    """`clock` on `day` in `zone`, as a UTC instant.

    A wall time that does not exist that day (the spring-forward gap) moves
    forward to the first that does, the moment of the change (DESIGN.md "Time");
    an ambiguous one (fall-back) is the first of the two.
    """
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=tz).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=1 reads it with the offset after the change, an earlier
    # instant before the gap; the change itself lies between the two readings.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(lo, first), max(lo, first)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def local_day(t: datetime, zone: str) -> date:
    return t.astimezone(ZoneInfo(zone)).date()


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
        self._waking: dict[date, tuple[datetime, datetime]] = {}
        self.busy = sorted((Busy(b.start.astimezone(UTC), b.end.astimezone(UTC)) for b in busy),
                           key=lambda b: (b.start, b.end))
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
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        lo = bisect_left(self._starts, start - self._longest)
        for b in self.busy[lo:]:
            if b.start >= end:
                break
            if b.end > start:
                return False
        return True

    def at(self, day: date, clock: time, zone: str) -> datetime:
        return wall(day, clock, zone)

    # -- the candidate's waking hours (issue 11) -------------------------------------

    def waking(self, day: date) -> tuple[datetime, datetime]:
        """The first and the last moment a task of `task_minutes` can start on `day`."""
        hours = self._waking.get(day)
        if hours is None:
            s = self.settings
            first, last = s.waking_hours
            hours = (wall(day, first, s.timezone),
                     wall(day, last, s.timezone) - timedelta(minutes=s.task_minutes))
            self._waking[day] = hours
        return hours

    def awake(self, t: datetime) -> bool:
        first, last = self.waking(local_day(t, self.settings.timezone))
        return first <= t <= last

    def next_awake(self, t: datetime) -> datetime:
        """`t` if the candidate is awake then, else their next waking morning."""
        day = local_day(t, self.settings.timezone)
        first, last = self.waking(day)
        if t < first:
            return first
        if t <= last:
            return t
        return self.waking(day + timedelta(days=1))[0]

    def last_awake(self, t: datetime, business: bool = False,
                   days: int | None = None) -> datetime | None:
        """The latest waking moment at or before `t` (on a business day if asked),
        looked for over `days` days back (default: as far as slots are searched)."""
        day = local_day(t, self.settings.timezone)
        for _ in range(self.settings.slot_search_days if days is None else days):
            first, last = self.waking(day)
            if first <= t and (not business or self.is_business_day(day)):
                return min(t, last)
            day -= timedelta(days=1)
        return None

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
        not_before = not_before.astimezone(UTC)
        for _ in range(max(1, s.slot_search_days)):
            start = wall(day, s.call_window_start, zone)
            last = wall(day, s.call_window_end, zone) - length
            while start <= last:
                if start >= not_before and self.is_free(start, start + length):
                    return start
                start += step
            day = self.business_day_after(day)
        return None
