"""Plans a person would act on (issue 11), through the CLI on calendars named after
their quirk: weekend, Friday-evening, holiday-eve and foreign-employer interviews,
the spring-forward night and a custom Outlook VTIMEZONE."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from conftest import ZONE, cli, data, plan_json

NY = ZoneInfo(ZONE)
ME = ("--me", "sam.carter@gmail.com")
WAKING = (time(8), time(21))
TASK = timedelta(minutes=15)


def when(item: dict, zone: str = ZONE) -> datetime:
    return datetime.fromisoformat(item["start"]).astimezone(ZoneInfo(zone))


def kinds(items: list[dict], kind: str) -> list[dict]:
    return [i for i in items if i["kind"] == kind]


def exported(name: str, now: str, tz: str = ZONE) -> list:
    r = cli("export", data(name), "-o", "-", "--now", now, "--timezone", tz, *ME)
    assert r.code == 0, r.err
    return list(icalendar.Calendar.from_ical(r.out.encode()).walk("VEVENT"))


def assert_awake_unless_call(items: list[dict], zone: str = ZONE) -> None:
    """No task for the candidate outside their waking hours, except calls."""
    for i in items:
        if i["channel"] == "phone" or i["kind"] == "prep":
            continue
        start = when(i, zone)
        end = datetime.fromisoformat(i["end"]).astimezone(ZoneInfo(zone))
        assert WAKING[0] <= start.time() and end.time() <= WAKING[1] and \
            start.date() == end.date(), i


INTERVIEW_ENDS = {  # the interview's end in each fixture, candidate in New York
    "interview_saturday.ics": datetime(2026, 3, 7, 12, tzinfo=NY),
    "interview_friday_evening.ics": datetime(2026, 3, 6, 20, 30, tzinfo=NY),
    "interview_holiday_eve_christmas.ics": datetime(2026, 12, 24, 17, tzinfo=NY),
    "employer_london_candidate_new_york.ics": datetime(2026, 3, 10, 12, tzinfo=NY),
    "employer_tokyo_candidate_new_york.ics": datetime(2026, 3, 11, 21, tzinfo=NY),
    "interview_spring_forward_0330.ics": datetime(2026, 3, 8, 4, 30, tzinfo=NY),
}


@pytest.mark.parametrize("name", sorted(INTERVIEW_ENDS))
def test_every_interview_gets_its_thank_you_email_within_24h_in_waking_hours(name):
    end = INTERVIEW_ENDS[name]
    now = (end - timedelta(days=3)).isoformat()
    items = plan_json(name, now=now, extra=ME)
    emails = kinds(items, "thank_you_email")
    assert emails, "seeds 000, 002, 004: the same day, never past 24 h"
    for e in emails:
        assert end < when(e) <= end + timedelta(hours=24)
    assert_awake_unless_call(items)
    for i in items:  # notes, inquiries and the move-on stay on business days
        if i["kind"] in ("thank_you_note", "check_in", "move_on"):
            assert when(i).weekday() < 5, i


def test_saturday_interview_thank_you_the_same_afternoon_note_on_monday():
    """The bug: Saturday's thank-you went to Monday, past 24 h, and was dropped."""
    items = plan_json("interview_saturday.ics", now="2026-03-06T12:00:00", extra=ME)
    emails = kinds(items, "thank_you_email")
    assert {when(e).isoformat() for e in emails} == {"2026-03-07T13:00:00-05:00"}
    assert len(emails) == 2  # Maya Hansen and Dr. Ho Yinsen
    assert {when(n).isoformat() for n in kinds(items, "thank_you_note")} == {
        "2026-03-09T09:00:00-04:00"}


def test_friday_evening_interview_thank_you_before_bedtime_the_same_evening():
    items = plan_json("interview_friday_evening.ics", now="2026-03-06T12:00:00", extra=ME)
    (email,) = kinds(items, "thank_you_email")
    assert when(email).isoformat() == "2026-03-06T20:45:00-05:00"  # 21:00 - task_minutes


def test_holiday_eve_thank_you_on_the_eve():
    items = plan_json("interview_holiday_eve_christmas.ics", now="2026-12-20T12:00:00",
                      extra=ME)
    (email,) = kinds(items, "thank_you_email")
    assert when(email).isoformat() == "2026-12-24T18:00:00-05:00"
    for i in kinds(items, "check_in"):
        assert when(i).date() not in {datetime(2026, 12, 25).date(), datetime(2027, 1, 1).date()}


def test_london_employer_check_in_reminded_the_evening_before_scheduled_for_their_morning():
    """The bug: the reminder sat at 05:00 in the candidate's New York morning."""
    items = plan_json("employer_london_candidate_new_york.ics", now="2026-03-09T12:00:00",
                      extra=ME)
    checks = kinds(items, "check_in")
    assert len(checks) == 2 and all(c["timezone"] == "Europe/London" for c in checks)
    assert_awake_unless_call(items)
    # decided by Fri 20 March: Mon 23 10:00 London (06:00 New York) -> Fri evening
    assert when(checks[0]).isoformat() == "2026-03-20T20:45:00-04:00"
    drafts = [str(e["DESCRIPTION"]) for e in exported(
        "employer_london_candidate_new_york.ics", "2026-03-09T12:00:00")
        if str(e["SUMMARY"]).startswith("Check-in email")]
    assert "Schedule it to arrive at 10:00 London time (06:00 yours), Monday, March 23" in (
        drafts[0])
    assert "Schedule it to arrive at 10:00 London time (05:00 yours), Tuesday, March 31" in (
        drafts[1])


def test_tokyo_employer_nothing_on_the_candidates_sunday_evening():
    """The bug: 10:00 Monday in Tokyo is 20:00 Sunday in New York."""
    items = plan_json("employer_tokyo_candidate_new_york.ics", now="2026-03-09T12:00:00",
                      extra=ME)
    assert_awake_unless_call(items)
    checks = kinds(items, "check_in")
    assert checks and all(c["timezone"] == "Asia/Tokyo" for c in checks)
    assert all(when(c).weekday() < 5 for c in checks)
    drafts = [str(e["DESCRIPTION"]) for e in exported(
        "employer_tokyo_candidate_new_york.ics", "2026-03-09T12:00:00")
        if str(e["SUMMARY"]).startswith("Check-in email")]
    assert all("arrive at 10:00 Tokyo time (21:00 " in d for d in drafts), drafts


def test_calls_stay_in_the_employers_mid_morning_and_say_both_times(home):
    (home / "config.toml").write_text('check_in_channel = "phone"\n')
    items = plan_json("employer_london_candidate_new_york.ics", now="2026-03-09T12:00:00",
                      extra=ME)
    calls = kinds(items, "check_in")
    assert calls and all(c["channel"] == "phone" for c in calls)
    for c in calls:
        local = when(c, "Europe/London")
        assert time(10) <= local.time() <= time(11, 15) and local.weekday() < 5
        mine = when(c)
        assert f"at {local:%H:%M} London time ({mine:%H:%M} yours)" in c["summary"]


def test_spring_forward_0330_prep_an_hour_before_in_real_time():
    items = plan_json("interview_spring_forward_0330.ics", now="2026-03-07T12:00:00", extra=ME)
    (prep,) = kinds(items, "prep")
    assert when(prep).isoformat() == "2026-03-08T01:30:00-05:00"  # 03:30 EDT = 07:30Z


def test_outlook_custom_vtimezone_prep_exactly_an_hour_before():
    """The custom zone's interviews, 03:30 on the EU spring-forward night and the Monday
    after: prep exactly 60 minutes before in real time, in Berlin and in New York."""
    for tz in ("Europe/Berlin", ZONE, "America/Sao_Paulo"):
        items = plan_json("outlook_custom_vtimezone_dst.ics", now="2026-03-20T12:00:00",
                          tz=tz, extra=ME)
        preps = sorted(datetime.fromisoformat(p["start"]) for p in kinds(items, "prep"))
        utc = [p.astimezone(ZoneInfo("UTC")).strftime("%m-%d %H:%M") for p in preps]
        assert utc == ["03-29 00:30", "03-30 07:00"], tz


def test_outlook_custom_vtimezone_weekend_interview_gets_its_thank_you():
    items = plan_json("outlook_custom_vtimezone_dst.ics", now="2026-03-20T12:00:00",
                      tz="Europe/Berlin", extra=ME)
    umbrella = [e for e in kinds(items, "thank_you_email") if e["company"].startswith("Umbrella")]
    assert [when(e, "Europe/Berlin").isoformat() for e in umbrella] == [
        "2026-03-29T08:00:00+02:00"]  # the interview ended 04:30; waking from 08:00


@pytest.mark.parametrize("value", ['["21:00", "08:00"]', '["8am", "9pm"]', '"08:00"',
                                   '["08:00"]', '["25:00", "26:00"]', '["08:00", "08:10"]'])
def test_bad_waking_hours_exit_2(home, value):
    (home / "config.toml").write_text(f"waking_hours = {value}\n")
    r = cli("plan", "--ics", data("interview_saturday.ics"), "--now", "2026-03-06T12:00:00",
            "--timezone", ZONE, *ME)
    assert r.code == 2 and "waking_hours" in r.err and "Traceback" not in r.err


def test_waking_hours_is_a_setting(home):
    (home / "config.toml").write_text('waking_hours = ["07:00", "23:00"]\n')
    items = plan_json("interview_friday_evening.ics", now="2026-03-06T12:00:00", extra=ME)
    (email,) = kinds(items, "thank_you_email")
    assert when(email).isoformat() == "2026-03-06T21:30:00-05:00"  # the hour after, awake
