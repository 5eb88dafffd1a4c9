"""DESIGN.md "Time": offsets in real (UTC) time, "10:00 on day D" in wall time,
over every daylight-saving change of a dozen zones and a custom Outlook VTIMEZONE."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from followup_cal.config import Settings
from followup_cal.model import History, Interview, Person
from followup_cal.rules import plan
from followup_cal.slots import Calendar, wall

from conftest import data

UTC = timezone.utc

ZONES = [
    "America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney",
    "America/Sao_Paulo",  # DST until 2019, changes at midnight
    "Asia/Tehran",  # DST until 2022, changes at midnight
    "Pacific/Chatham", "Australia/Lord_Howe",  # 45-minute zone; 30-minute DST
    "America/Havana",  # changes at midnight: 00:00 does not exist on that day
    "America/Santiago", "Europe/Dublin",  # Dublin: "negative" DST in the tz data
    "Africa/Cairo", "America/Los_Angeles",
]
CUSTOM = "custom"  # the VTIMEZONE of tests/data/outlook_custom_vtimezone_dst.ics
FIRST_YEAR, LAST_YEAR = 2017, 2027
HOLIDAYS = lambda country, sub, year: ()  # noqa: E731  (business days = Mon-Fri here)
ANNA = Person("Anna Berg", "anna@example.com")


@lru_cache(maxsize=1)
def custom_tz():
    import icalendar

    cal = icalendar.Calendar.from_ical(Path(data("outlook_custom_vtimezone_dst.ics")).read_bytes())
    return next(iter(cal.walk("VEVENT"))).start.tzinfo


def tzinfo(zone: str):
    return custom_tz() if zone == CUSTOM else ZoneInfo(zone)


@cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """Every instant the zone's offset changes, FIRST_YEAR..LAST_YEAR (to the minute)."""
    tz = tzinfo(zone)
    out = []
    # dateutil's VTIMEZONE zone is slow to ask: fewer years of it
    t = datetime(2025 if zone == CUSTOM else FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)  # no zone changes twice in a day
    while t < end:
        if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
            lo, hi = t, t + step
            while hi - lo > timedelta(seconds=1):
                mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        t += step
    return tuple(out)


def test_every_zone_has_changes_to_test():
    for zone in [*ZONES, CUSTOM]:
        assert len(transitions(zone)) >= 4, zone


@st.composite
def around_a_change(draw, zones=(*ZONES, CUSTOM)):
    """(zone, an instant within three hours of one of its changes, in that zone)."""
    zone = draw(st.sampled_from(zones))
    change = draw(st.sampled_from(transitions(zone)))
    t = change + timedelta(minutes=draw(st.integers(-180, 180)))
    return zone, t.astimezone(tzinfo(zone))


def one_interview(start: datetime, zone: str, minutes: int) -> Interview:
    return Interview(
        uid="iv@example.com", recurrence_id=None, summary="Interview with Acme",
        company="Acme", role=None, start=start, end=start + timedelta(minutes=minutes),
        employer_tz="Europe/Berlin" if zone == CUSTOM else zone,
        interviewers=(ANNA,), recruiter=ANNA)


def user_zone(zone: str) -> str:
    return "Europe/Berlin" if zone == CUSTOM else zone


DST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@DST
@given(around_a_change(), st.sampled_from([30, 45, 60, 90]), st.integers(0, 180))
def test_prep_is_exactly_its_minutes_before_in_real_time(case, minutes, before):
    zone, start = case
    s = Settings(timezone=user_zone(zone), prep_minutes_before=before)
    now = start - timedelta(days=2)
    preps = [f for f in plan([one_interview(start, zone, minutes)], History(), (), s, now,
                             holidays=HOLIDAYS) if f.kind == "prep"]
    assert len(preps) == 1
    exact = start.astimezone(UTC) - timedelta(minutes=before)
    cal = Calendar(s, (), HOLIDAYS)
    if cal.awake(exact) or not cal.awake(start):
        assert preps[0].start == exact
    else:  # too early for the candidate, awake for the interview: in waking hours, before
        assert cal.awake(preps[0].start) and preps[0].start < start


@DST
@given(around_a_change(), st.sampled_from([30, 45, 60, 90]), st.integers(1, 180))
def test_thank_you_email_is_its_delay_after_the_end_or_in_waking_hours_within_24h(
        case, minutes, delay):
    zone, start = case
    s = Settings(timezone=user_zone(zone), thank_you_email_delay_minutes=delay)
    iv = one_interview(start, zone, minutes)
    emails = [f for f in plan([iv], History(), (), s, start - timedelta(days=1),
                              holidays=HOLIDAYS) if f.kind == "thank_you_email"]
    assert len(emails) == 1, "every interview gets one, weekends too (seeds 000, 002, 004)"
    at, end = emails[0].start, iv.end.astimezone(UTC)
    exact = end + timedelta(minutes=delay)
    cal = Calendar(s, (), HOLIDAYS)
    if cal.awake(exact):
        assert at == exact
    else:
        assert cal.awake(at) and end <= at <= end + timedelta(hours=24)


@DST
@given(around_a_change(ZONES), st.sampled_from(ZONES), st.integers(0, 20))
def test_calls_are_mid_morning_in_the_employers_wall_time(case, candidate, days):
    zone, start = case
    s = Settings(timezone=candidate, check_in_channel="phone", max_inquiries=3,
                 check_in_days=days)
    iv = one_interview(start, zone, 60)
    calls = [f for f in plan([iv], History(), (), s, start - timedelta(days=1),
                             holidays=HOLIDAYS) if f.kind == "check_in"]
    assert len(calls) == 3
    for f in calls:
        assert f.timezone == zone and f.channel == "phone"
        local, end = f.start.astimezone(ZoneInfo(zone)), f.end.astimezone(ZoneInfo(zone))
        assert time(10) <= local.time() and end.time() <= time(11, 30), local
        assert local.weekday() < 5 and end - local == timedelta(minutes=s.call_minutes)


@DST
@given(around_a_change(ZONES), st.integers(-90, 90))
def test_wall_time_is_that_clock_or_the_first_that_exists_after_it(case, shift):
    """On a change day, any clock: itself if it exists, else the moment of the change."""
    zone, near = case
    tz = ZoneInfo(zone)
    naive = (near.replace(tzinfo=None) + timedelta(minutes=shift)).replace(second=0)
    t = wall(naive.date(), naive.time(), zone)
    local = t.astimezone(tz).replace(tzinfo=None)
    exists = datetime.combine(naive.date(), naive.time(), tz).astimezone(UTC).astimezone(
        tz).replace(tzinfo=None) == naive
    event("exists" if exists else "in a gap")
    if exists:
        assert local == naive
    else:
        assert local > naive and t in transitions(zone)
        assert (t - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < naive


@pytest.mark.parametrize("zone, day, clock, expected", [
    # US spring-forward: 02:30 does not exist; the first time that does is 03:00 EDT
    ("America/New_York", date(2026, 3, 8), time(2, 30), "2026-03-08T03:00:00-04:00"),
    # Havana changes at midnight: 00:00 does not exist that day
    ("America/Havana", date(2025, 3, 9), time(0, 0), "2025-03-09T01:00:00-04:00"),
    # fall-back: 01:30 exists twice; the first of the two
    ("America/New_York", date(2026, 11, 1), time(1, 30), "2026-11-01T01:30:00-04:00"),
    # Lord Howe moves by 30 minutes
    ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), "2026-10-04T02:30:00+11:00"),
])
def test_wall_times_on_change_days(zone, day, clock, expected):
    assert wall(day, clock, zone).astimezone(ZoneInfo(zone)).isoformat() == expected


def test_prep_before_a_0330_interview_on_the_spring_forward_night():
    """The bug: 60 minutes "before" in wall time landed on the start itself."""
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 8, 3, 30, tzinfo=ny)
    s = Settings(timezone="America/New_York")
    items = plan([one_interview(start, "America/New_York", 60)], History(), (), s,
                 datetime(2026, 3, 1, tzinfo=ny), holidays=HOLIDAYS)
    prep = next(f for f in items if f.kind == "prep")
    assert start - prep.start == timedelta(minutes=60)
    assert prep.start.astimezone(ny).isoformat() == "2026-03-08T01:30:00-05:00"


def test_settings_zone_change_keeps_call_at_ten_for_a_custom_zone():
    """The custom zone's interview, a call a week later after the EU change: 10:00 Berlin."""
    start = datetime(2026, 3, 27, 10, tzinfo=custom_tz())
    s = replace(Settings(timezone="America/New_York"), check_in_channel="phone")
    calls = [f for f in plan([one_interview(start, CUSTOM, 60)], History(), (), s,
                             datetime(2026, 3, 20, tzinfo=UTC), holidays=HOLIDAYS)
             if f.kind == "check_in"]
    first = calls[0].start.astimezone(ZoneInfo("Europe/Berlin"))
    assert (first.date(), first.time(), first.utcoffset()) == (
        date(2026, 4, 3), time(10), timedelta(hours=2))


@pytest.mark.parametrize("hour, minute, expected", [
    (8, 30, "2026-03-04T08:00:00-05:00"),  # 07:30 is too early: that morning, still before
    (8, 0, "2026-03-03T20:45:00-05:00"),  # no room that morning: the evening before
    (14, 0, "2026-03-04T13:00:00-05:00"),  # awake: exactly an hour before
    (5, 0, "2026-03-04T04:00:00-05:00"),  # an interview at 05:00: the candidate is up for it
])
def test_prep_moves_into_waking_hours_where_the_interview_allows(hour, minute, expected):
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 4, hour, minute, tzinfo=ny)
    items = plan([one_interview(start, "America/New_York", 60)], History(), (),
                 Settings(timezone="America/New_York"), datetime(2026, 3, 1, tzinfo=ny),
                 holidays=HOLIDAYS)
    (prep,) = [f for f in items if f.kind == "prep"]
    assert prep.start.astimezone(ny).isoformat() == expected
    assert prep.end <= start
