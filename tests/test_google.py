"""Google Calendar: the real client against a fake Calendar v3 server (tests/fake_google.py).

Nothing is mocked on the client side: google-api-python-client, google-auth and
httplib2 talk HTTP to the fake through FOLLOWUP_CAL_GOOGLE_API_URL, with a token
file in FOLLOWUP_CAL_HOME. Back-off sleeps are cut short (`fast_backoff`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fake_google import google_event

from followup_cal.calendars import google

from conftest import ZONE, cli

NOW = "2026-03-01T09:00"  # a Sunday; the interviews are in the week ahead
RUN_CLI = "from followup_cal.cli import main; main()"  # the console script's own entry


def sync(*args: str, now: str = NOW):
    return cli("sync", "--now", now, "--timezone", ZONE, *args)


def acme(fake, start="2026-03-02T10:00:00", **kw) -> dict:
    return fake.seed(google_event("Phone screen with Acme", start, **kw))


def globex(fake, start="2026-03-03T14:00:00", **kw) -> dict:
    kw.setdefault("attendees", (("ann@globex.com", "Ann Lee"), ("bo@globex.com", "Bo Park")))
    kw.setdefault("organizer", ("talent@globex.com", "Globex Talent"))
    return fake.seed(google_event("Onsite interview - Globex", start, **kw))


def planned(now: str = NOW, paths=()) -> dict[str, object]:
    """What the one planner says, read through the Google source: {event id: FollowUp}."""
    from followup_cal import pipeline
    from followup_cal.calendars.ics import IcsFiles
    from followup_cal.cli import parse_now
    from followup_cal.config import build_settings
    from followup_cal.ledger import Ledger

    settings = build_settings(timezone=ZONE)
    when = parse_now(now, ZONE)
    sources = [IcsFiles(paths)] if paths else []
    data = pipeline.collect([*sources, google.GoogleSource()], settings, when)
    with Ledger.open() as ledger:
        items = pipeline.plan(data, settings, when, ledger).items
    return {google.event_id(f.key): f for f in items}


def dedicated(fake) -> str:
    cals = fake.secondary()
    assert len(cals) == 1, [c.summary for c in cals]
    assert cals[0].summary == google.CALENDAR_NAME
    return cals[0].id


def ours(fake, calendar: str | None = None) -> dict[str, dict]:
    events = fake.events_in(calendar or dedicated(fake))
    return {i: e for i, e in events.items() if google.is_ours(e)}


def start_of(event: dict) -> datetime:
    return datetime.fromisoformat(event["start"]["dateTime"])


# -- import cost and ids -------------------------------------------------------------------


def test_help_does_not_import_google_libraries():
    code = (
        "import sys\n"
        "from followup_cal.cli import cli\n"
        "for args in (['--help'], ['sync', '--help'], ['auth', '--help']):\n"
        "    try:\n"
        "        cli(args, prog_name='followup-cal')\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('googleapiclient', "
        "'google_auth_oauthlib', 'google_auth_httplib2', 'httplib2', 'oauthlib')"
        " or m.startswith('google.auth') or m.startswith('google.oauth2')]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "--target" in out.stdout and "--credentials" in out.stdout


def test_event_ids_are_google_base32hex_and_stable():
    import base64
    import hashlib
    import re

    key = "abc@google.com\x1fthank_you_email\x1fjane@acme.com\x1f0"
    gid = google.event_id(key)
    assert re.fullmatch(r"[a-v0-9]{5,1024}", gid)
    assert gid == base64.b32hexencode(hashlib.sha256(key.encode()).digest()).decode() \
        .lower().rstrip("=")
    assert google.event_id(key + "x") != gid


def test_extended_property_keys_fit_google_limit():
    from followup_cal.model import FollowUp

    t = datetime(2026, 3, 2, 11, tzinfo=ZoneInfo(ZONE))
    f = FollowUp("u", "k", "check_in", "phone", "Acme", None, "iv", "iv", None, t, t, ZONE,
                 "Call", "d", busy=True)
    body = google.event_body(f, _settings())
    assert all(len(k) <= 44 for k in body["extendedProperties"]["private"])
    assert body["transparency"] == "opaque" and body["colorId"] == google.COLORS["check_in"]
    assert body["reminders"] == {"useDefault": False,
                                 "overrides": [{"method": "popup", "minutes": 10}]}


def _settings():
    from followup_cal.config import build_settings

    return build_settings(timezone=ZONE)


# -- reading: Google JSON to CalendarEvent ---------------------------------------------------


@pytest.mark.parametrize(("ics", "google_sequence", "day"), [
    ("sequence_export_original.ics", 3, 25),  # the export (SEQUENCE 0, 24th) is older
    ("sequence_update_new_time.ics", 1, 26),  # the update (SEQUENCE 2, 26th) is newer,
])                                            # though Google's `updated` is later
def test_an_ics_export_and_a_google_event_of_one_uid_the_higher_sequence_wins(
        fake, ics, google_sequence, day):
    """issue 10/13: Google's events carry `sequence` and `updated` into versions.merge, so
    the same invitation read from an .ics file and from Google is one interview, the
    newer by SEQUENCE (then by stamp), in either order of the sources."""
    from followup_cal import pipeline
    from followup_cal.calendars.ics import IcsFiles
    from followup_cal.cli import parse_now
    from followup_cal.config import build_settings

    from conftest import data as data_file

    fake.seed(google_event("Interview with Initech (Data Engineer)", "2026-03-25T10:00:00",
                           iCalUID="initech-onsite-7@initech.com", sequence=google_sequence,
                           organizer=("karen.wu@initech.com", "Karen Wu"),
                           attendees=(("michael.chen@initech.com", "Michael Chen"),)))
    settings = build_settings(timezone=ZONE)
    when = parse_now("2026-03-20T09:00", ZONE)
    for order in ((IcsFiles([data_file(ics)]), google.GoogleSource()),
                  (google.GoogleSource(), IcsFiles([data_file(ics)]))):
        found = pipeline.collect(list(order), settings, when)
        initech = [iv for iv in found.interviews if iv.company == "Initech"]
        assert [iv.start.astimezone(ZoneInfo(ZONE)).day for iv in initech] == [day]


def test_google_sequence_and_updated_reach_the_event():
    item = {"id": "e", "iCalUID": "e@acme.com", "sequence": 4,
            "updated": "2026-03-02T16:00:01.250Z",
            "start": {"dateTime": "2026-03-02T16:00:00Z"},
            "end": {"dateTime": "2026-03-02T17:00:00Z"}}
    ev = google.to_event(item, "g")
    assert ev.sequence == 4
    assert ev.stamp == datetime(2026, 3, 2, 16, 0, 1, 250000, tzinfo=timezone.utc)
    bare = google.to_event({k: v for k, v in item.items() if k not in ("sequence", "updated")},
                           "g")
    assert bare.sequence == 0 and bare.stamp is None


def test_google_json_maps_to_calendar_event():
    item = {
        "id": "evt1", "iCalUID": "evt1@google.com", "status": "confirmed",
        "summary": "  Technical   screen:  Initech ", "description": "notes",
        "start": {"dateTime": "2026-03-02T16:00:00Z", "timeZone": "America/Chicago"},
        "end": {"dateTime": "2026-03-02T17:00:00Z", "timeZone": "America/Chicago"},
        "organizer": {"email": "HR@Initech.com", "displayName": "HR"},
        "attendees": [
            {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
            {"email": "bob@initech.com", "displayName": "Bob", "responseStatus": "declined"},
            {"email": "r1@resource.calendar.google.com", "resource": True},
            {"email": "al@initech.com", "optional": True, "responseStatus": "tentative"},
        ],
    }
    ev = google.to_event(item, "google:primary")
    assert ev.uid == "evt1@google.com" and ev.recurrence_id is None
    assert ev.summary == "Technical screen: Initech"
    assert ev.start == datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("America/Chicago"))
    assert ev.tzid == "America/Chicago" and not ev.all_day and not ev.transparent
    assert ev.organizer.email == "hr@initech.com"
    me, bob, room, al = ev.attendees
    assert me.is_self and me.partstat == "ACCEPTED"
    assert bob.partstat == "DECLINED" and room.cutype == "RESOURCE"
    assert al.role == "OPT-PARTICIPANT" and al.partstat == "TENTATIVE"
    assert google.self_addresses(item) == {"me@example.com"}

    utc = {**item, "start": {"dateTime": "2026-03-02T16:00:00Z", "timeZone": "UTC"},
           "end": {"dateTime": "2026-03-02T17:00:00Z"}}
    assert google.to_event(utc, "g").tzid is None

    day = {"id": "d", "summary": "Holiday", "transparency": "transparent",
           "start": {"date": "2026-03-04"}, "end": {"date": "2026-03-05"}, "status": "tentative"}
    ev = google.to_event(day, "g")
    assert ev.all_day and ev.start == date(2026, 3, 4) and ev.transparent
    assert ev.status == "TENTATIVE" and ev.uid == "d"

    ours = {**item, "extendedProperties": {"private": {google.MARKER_KEY: google.MARKER_VALUE}}}
    assert google.to_event(ours, "g").ours and not google.to_event(item, "g").ours


def test_recurring_instance_has_same_identity_form_as_ics_reader():
    item = {"id": "s_20260302T150000Z", "iCalUID": "series@google.com",
            "recurringEventId": "s", "summary": "Interview loop",
            "originalStartTime": {"dateTime": "2026-03-02T10:00:00-05:00",
                                  "timeZone": "America/New_York"},
            "start": {"dateTime": "2026-03-02T10:00:00-05:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2026-03-02T11:00:00-05:00", "timeZone": "America/New_York"}}
    ev = google.to_event(item, "g")
    assert ev.uid == "series@google.com"
    assert ev.recurrence_id == "2026-03-02T15:00:00+00:00"  # as ics._rid_key writes it


def test_source_reads_every_page_and_uses_self_as_me(fake):
    fake.page_size = 1  # one event a page, an empty page with a token after each
    acme(fake)
    globex(fake)
    fake.seed(google_event("Dentist", "2026-03-04T10:00:00", me=None, attendees=(),
                           organizer=None))
    fake.seed(google_event("Lunch", "2026-03-04T12:00:00", me=None, attendees=(),
                           organizer=None, transparency="transparent"))
    items = planned()
    lists = [c for c in fake.calls if c[1] == "events.list"]
    assert len(lists) >= 7  # 4 events, one per page, empty pages between
    recipients = {f.recipient.email for f in items.values() if f.recipient}
    assert "me@example.com" not in recipients  # self: true is the user
    assert {"jane@acme.com", "ann@globex.com", "bo@globex.com"} <= recipients


def test_busy_times_come_from_the_same_listing(fake):
    from followup_cal.cli import parse_now

    fake.seed(google_event("Dentist", "2026-03-04T10:00:00", me=None, attendees=(),
                           organizer=None))
    fake.seed(google_event("Focus", "2026-03-04T13:00:00", me=None, attendees=(),
                           organizer=None, transparency="transparent"))
    fake.seed(google_event("Maybe", "2026-03-04T15:00:00", me=None, attendees=(),
                           organizer=None, status="tentative"))
    from followup_cal import pipeline

    data = pipeline.collect([google.GoogleSource()], _settings(), parse_now(NOW, ZONE))
    assert [b.start.astimezone(ZoneInfo(ZONE)).hour for b in data.busy] == [10]


def test_primary_calendar_id_is_me_when_google_marks_nothing(fake):
    fake.mark_self = False
    acme(fake)
    recipients = {f.recipient.email for f in planned().values() if f.recipient}
    assert "me@example.com" not in recipients and "jane@acme.com" in recipients
    assert ("GET", "calendars.get") in fake.calls  # calendars.get("primary"): its id


def test_configured_calendars_are_the_ones_read(fake, home):
    from fake_google import Calendar

    from followup_cal.config import Settings

    if not hasattr(Settings, "google_calendars"):
        pytest.skip("config.py has no google_calendars yet")
    fake.calendars["work@acme.example"] = Calendar("work@acme.example", "Work", ZONE)
    fake.seed(google_event("Interview with Globex", "2026-03-02T10:00:00"),
              calendar="work@acme.example")
    acme(fake)  # on primary, which is no longer read
    (home / "config.toml").write_text('google_calendars = ["work@acme.example"]\n'
                                      "google_retries = 2\n")
    items = planned()
    assert items and {f.company for f in items.values()} == {"Globex"}
    (home / "config.toml").write_text('google_calendars = ["nope@example.com"]\n')
    r = sync()
    assert r.code == 2 and "nope@example.com" in r.err


def test_fake_window_semantics_and_weekly_series(fake):
    """timeMin bounds the END (exclusive), timeMax the START; a series expands."""
    from followup_cal.calendars.google.auth import load

    fake.seed(google_event("Ends at min", "2026-03-02T09:00:00", minutes=60))
    fake.seed(google_event("Starts at max", "2026-03-02T12:00:00", minutes=60))
    fake.seed(google_event("Inside", "2026-03-02T09:30:00", minutes=60))
    fake.seed(google_event("Weekly sync", "2026-03-02T10:00:00", minutes=30,
                           recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"]))
    service = google.build_service(load())
    got = service.events().list(calendarId="primary", timeMin="2026-03-02T10:00:00-05:00",
                                timeMax="2026-03-02T12:00:00-05:00", singleEvents=True,
                                maxResults=50).execute()
    assert {e["summary"] for e in got["items"]} == {"Inside", "Weekly sync"}
    series = []
    request = service.events().list(calendarId="primary", singleEvents=True,
                                    timeMin="2026-03-01T00:00:00Z", q="x")
    while request is not None:
        page = request.execute()
        series += [e for e in page.get("items", []) if e["summary"] == "Weekly sync"]
        request = service.events().list_next(request, page)
    assert len(series) == 4 and len({e["id"] for e in series}) == 4
    # wall-clock time stays 10:00 New York across the DST change of March 8
    hours = [datetime.fromisoformat(e["start"]["dateTime"]).astimezone(ZoneInfo(ZONE)).hour
             for e in series]
    assert hours == [10, 10, 10, 10]
    assert all(e["recurringEventId"] and e["originalStartTime"] for e in series)


def test_weekly_interview_series_gives_follow_ups_per_occurrence(fake):
    fake.seed(google_event("Interview with Acme", "2026-03-02T10:00:00",
                           recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"]))
    items = planned()
    identities = {f.interview_identity for f in items.values()}
    assert len(identities) == 2 and all("#2026-03-" in i for i in identities)
    r = sync()
    assert r.code == 0, r.err
    assert set(ours(fake)) == set(items)


# -- the sink: reconcile -------------------------------------------------------------------


def test_first_sync_creates_exactly_the_plan_and_second_writes_nothing(fake):
    acme(fake)
    globex(fake)
    expected = planned()
    r = sync()
    assert r.code == 0, r.err
    assert r.out.strip().splitlines() == [
        f"synced 'Interview follow-ups' (new calendar): {len(expected)} created, 0 updated, "
        "0 deleted, 0 unchanged"]
    events = ours(fake)
    assert set(events) == set(expected)
    for gid, f in expected.items():
        ev = events[gid]
        assert ev["summary"] == f.summary and start_of(ev) == f.start
        private = ev["extendedProperties"]["private"]
        assert private[google.KEY_PROP] == google.key_digest(f.key).hex()
        assert ev["reminders"]["overrides"] == [{"method": "popup", "minutes": 10}]
        assert ev["transparency"] == ("opaque" if f.busy else "transparent")
        assert ev["colorId"] == google.COLORS[f.kind]
        assert "attendees" not in ev  # never invite anyone
    writes = fake.write_requests
    assert writes == len(expected) + 1  # + the calendar

    r = sync()
    assert r.code == 0, r.err
    assert fake.write_requests == writes  # steady state: zero writes
    assert r.out.strip() == (f"synced 'Interview follow-ups': 0 created, 0 updated, "
                             f"0 deleted, {len(expected)} unchanged")
    assert [c for c in fake.calls if c[0] != "GET"].count(("POST", "calendars.insert")) == 1


def test_plan_google_shows_what_sync_writes(fake):
    from followup_cal.cli import cli as group

    if not any(p.name == "google" for p in group.commands["plan"].params):
        pytest.skip("`plan --google` not wired into cli.py yet")
    acme(fake)
    globex(fake)
    r = cli("plan", "--google", "--json", "--now", NOW, "--timezone", ZONE)
    assert r.code == 0, r.err
    shown = {(p["summary"], p["start"]) for p in r.json()}
    assert sync().code == 0
    written = {(e["summary"], start_of(e).astimezone(ZoneInfo(ZONE)).isoformat())
               for e in ours(fake).values()}
    assert written == shown


def test_rescheduled_interview_moves_its_follow_ups(fake):
    iv = acme(fake)
    assert sync().code == 0
    before = ours(fake)
    fake.modify(iv["id"], google_event("Phone screen with Acme", "2026-03-04T15:00:00"))
    expected = planned()
    r = sync("-v")
    assert r.code == 0, r.err
    after = ours(fake)
    assert set(after) == set(expected)
    assert set(before) & set(after)  # the same events, moved: same ids
    for gid in set(before) & set(after):
        assert start_of(after[gid]) == expected[gid].start
    assert r.out.strip().splitlines()[-1].startswith("synced 'Interview follow-ups': 0 created")
    moved = [gid for gid in set(before) & set(after) if start_of(before[gid]) !=
             start_of(after[gid])]
    assert moved
    writes = fake.write_requests
    assert sync().code == 0 and fake.write_requests == writes


def test_cancelled_interview_removes_its_future_follow_ups(fake):
    iv = acme(fake)
    keep = globex(fake)
    assert sync().code == 0
    acme_ids = {g for g, e in ours(fake).items() if "Acme" in e["summary"]}
    assert acme_ids
    fake.user_delete(iv["id"])  # the employer cancelled: the event is gone
    r = sync()
    assert r.code == 0, r.err
    assert f"{len(acme_ids)} deleted" in r.out
    left = ours(fake)
    assert not acme_ids & set(left) and set(left) == set(planned())
    cancelled = fake.events_in(dedicated(fake), cancelled=True)
    assert all(cancelled[g]["status"] == "cancelled" for g in acme_ids)
    assert keep["id"] in fake.events_in("primary")
    writes = fake.write_requests
    assert sync().code == 0 and fake.write_requests == writes


def test_outcome_recorded_removes_future_follow_ups(fake):
    acme(fake)
    assert sync().code == 0
    assert ours(fake)
    r = cli("outcome", "Acme", "rejected", "--now", NOW, "--timezone", ZONE)
    assert r.code == 0, r.err
    r = sync()
    assert r.code == 0, r.err
    assert ours(fake) == {}


@pytest.mark.parametrize("listing_shows_deleted", [True, False])
def test_follow_up_the_user_deleted_stays_deleted(fake, listing_shows_deleted):
    fake.list_hides_deleted = not listing_shows_deleted  # then: insert, 409, get
    acme(fake)
    assert sync().code == 0
    gid = sorted(ours(fake))[0]
    fake.user_delete(gid, dedicated(fake))
    r = sync("-v")
    assert r.code == 0, r.err
    assert "1 left deleted by you" in r.out
    assert gid not in ours(fake)
    assert fake.events_in(dedicated(fake), cancelled=True)[gid]["status"] == "cancelled"
    writes = fake.write_requests
    r = sync()
    assert r.code == 0 and fake.write_requests == writes  # not even an insert attempt
    from followup_cal.ledger import Ledger

    with Ledger.open() as ledger:
        rows = [w for w in ledger.written(f"google:{dedicated(fake)}") if w.deleted_by_user]
    assert len(rows) == 1 and google.event_id(rows[0].key) == gid


def test_follow_ups_come_back_with_their_interview_but_user_deletions_stay(fake):
    iv = acme(fake)
    assert sync().code == 0
    everything = ours(fake)
    gone = next(g for g, e in everything.items() if e["summary"].startswith("Thank-you email"))
    fake.user_delete(gone, dedicated(fake))
    fake.modify(iv["id"], {"description": "#rejected"})  # a tag in the notes: stop
    r = sync()
    assert r.code == 0, r.err
    assert all(e["summary"].startswith("Prepare") for e in ours(fake).values())
    fake.modify(iv["id"], {"description": ""})  # the tag was a mistake
    r = sync("-v")
    assert r.code == 0, r.err
    assert set(ours(fake)) == set(everything) - {gone}
    assert "restore" in r.out
    writes = fake.write_requests
    assert sync().code == 0 and fake.write_requests == writes


def test_events_that_are_not_ours_are_never_touched(fake):
    iv = acme(fake)
    mine = fake.seed(google_event("Gym", "2026-03-05T10:00:00", me=None, attendees=(),
                                  organizer=None))
    assert sync("--target", "primary").code == 0
    assert len(fake.secondary()) == 0  # --target: no dedicated calendar
    on_primary = fake.events_in("primary")
    assert set(ours(fake, "primary")) == set(planned())
    before = {i: e["etag"] for i, e in on_primary.items() if not google.is_ours(e)}
    fake.user_delete(iv["id"])
    r = sync("--target", "primary")
    assert r.code == 0, r.err
    after = fake.events_in("primary", cancelled=True)
    assert {i: after[i]["etag"] for i in before if i != iv["id"]} == \
        {i: t for i, t in before.items() if i != iv["id"]}
    assert after[mine["id"]]["status"] == "confirmed"
    assert ours(fake, "primary") == {}
    assert r.out.startswith("synced google:primary:")


def test_a_follow_up_that_already_fell_due_is_not_chased_forward(fake):
    acme(fake)  # Mon 10:00-10:45; the thank-you e-mail is due about 11:45
    assert sync(now="2026-03-02T12:10").code == 0
    email = next(e for e in ours(fake).values() if e["summary"].startswith("Thank-you email"))
    writes = fake.write_requests
    r = sync(now="2026-03-02T13:20")  # overdue: the plan rolls it to "now"
    assert r.code == 0, r.err
    assert fake.write_requests == writes
    assert start_of(ours(fake)[email["id"]]) == start_of(email)


def test_dry_run_prints_changes_and_writes_nothing(fake):
    acme(fake)
    r = sync("--dry-run")
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert lines[-1].startswith("dry run for 'Interview follow-ups' (not created yet): "
                                "would create ")
    assert sum(1 for line in lines if line.startswith("create")) == len(planned())
    assert fake.write_requests == 0 and fake.secondary() == []
    assert sync().code == 0
    writes = fake.write_requests
    r = sync("--dry-run")
    assert fake.write_requests == writes and "would create 0" in r.out


def test_target_that_does_not_exist_is_bad_input(fake):
    acme(fake)
    r = sync("--target", "nobody@group.calendar.google.com")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "nobody@group.calendar.google.com" in r.err and fake.write_requests == 0


def test_calendar_creation_whose_response_was_lost_makes_one_calendar(fake):
    acme(fake)
    fake.fail("lost", when=lambda method, route: route == "calendars.insert")
    r = sync()
    assert r.code == 0, r.err
    dedicated(fake)  # exactly one
    assert set(ours(fake)) == set(planned())


def test_dedicated_calendar_deleted_by_the_user_is_made_again(fake):
    acme(fake)
    assert sync().code == 0
    first = dedicated(fake)
    del fake.calendars[first]
    calls = len(fake.calls)
    r = sync()
    assert r.code == 0, r.err
    assert "gone" in r.err and dedicated(fake) != first
    # the 404 was confirmed (calendars.get / calendarList.get, backing off) first
    gets = [c for c in fake.calls[calls:] if c[1] in ("calendars.get", "calendarList.get")]
    assert len(gets) == 1 + google.NOT_FOUND_TRIES  # the primary id, then the checks
    assert set(ours(fake)) == set(planned())


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "500", "503", "403rate", "drop", "lost"])
def test_each_transient_fault_is_retried(fake, kind):
    acme(fake)
    writes = lambda method, route: method != "GET"  # noqa: E731
    fake.fail(kind, times=2, when=writes)
    fake.fail(kind, times=1, when=lambda method, route: route == "events.list")
    r = sync()
    assert r.code == 0, r.err
    assert fake.faults_served[kind] == 3
    assert set(ours(fake)) == set(planned())


def test_lost_insert_response_comes_back_409_and_counts_as_created(fake):
    acme(fake)
    fake.fail("lost", times=3, when=lambda method, route: route == "events.insert")
    r = sync()
    assert r.code == 0, r.err
    expected = planned()
    assert f"{len(expected)} created" in r.out
    assert set(ours(fake)) == set(expected)
    assert ("GET", "events.get") in fake.calls  # the 409 was looked into


@pytest.mark.parametrize("kind,reason", [("quota", "quotaExceeded"),
                                         ("daily", "dailyLimitExceeded")])
def test_quota_exceeded_stops_with_one_line(fake, kind, reason):
    acme(fake)
    fake.fail(kind, when=lambda method, route: route == "events.list")
    r = sync()
    assert r.code == 1
    assert len(r.err.strip().splitlines()) == 1 and reason in r.err
    assert "Traceback" not in r.err and fake.write_requests == 0
    assert fake.faults_served[kind] == 1  # not retried


def test_server_errors_beyond_the_retries_exit_1_with_one_line(fake, monkeypatch):
    acme(fake)
    fake.fail("500", times=50)
    r = sync()
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert "HTTP 500" in r.err


def test_proxy_variables_do_not_break_the_client(fake, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    acme(fake)
    r = sync()
    assert r.code == 0, r.err


@pytest.mark.parametrize("seed", range(4))
def test_a_fifth_of_requests_failing_converges_without_duplicates(fake, seed):
    acme(fake)
    globex(fake)
    expected = planned()
    fake.chaos(0.2, kinds=("429", "500", "503", "403rate", "drop", "lost"), seed=seed)
    codes = []
    for _ in range(4):
        r = sync()
        assert r.code in (0, 1), r.err
        if r.code:
            assert len(r.err.strip().splitlines()) == 1
        codes.append(r.code)
    assert 0 in codes
    assert sum(fake.faults_served.values()) > 0
    fake.chaos(0)
    assert set(ours(fake)) == set(expected)
    every = fake.events_in(dedicated(fake), cancelled=True)
    assert set(every) == set(expected)  # nothing extra, nothing deleted and re-made
    writes = fake.write_requests
    r = sync()
    assert r.code == 0 and fake.write_requests == writes


def test_a_sync_killed_midway_is_finished_by_the_next(fake, home):
    acme(fake)
    globex(fake)
    expected = planned()
    assert len(expected) > 6
    fake.block_after_writes = 4  # the calendar and 3 events land; the 5th write hangs
    proc = subprocess.Popen([sys.executable, "-c", RUN_CLI, "sync", "--now", NOW,
                             "--timezone", ZONE], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fake.blocked.wait(30), proc.communicate(timeout=5)
    finally:
        proc.kill()
        proc.wait()
    fake.block_after_writes = None
    fake.release.set()
    landed = ours(fake)
    assert 0 < len(landed) < len(expected)
    r = sync()
    assert r.code == 0, r.err
    assert set(ours(fake)) == set(expected)
    assert set(fake.events_in(dedicated(fake), cancelled=True)) == set(expected)
    writes = fake.write_requests
    assert sync().code == 0 and fake.write_requests == writes


# -- cron: the lock and the output ------------------------------------------------------------


def test_second_sync_waits_then_exits_0_when_one_is_running(fake, monkeypatch):
    from followup_cal import sync as syncing

    monkeypatch.setattr(syncing, "LOCK_WAIT_SECONDS", 0.3)
    acme(fake)
    with syncing.sync_lock(wait=0) as got:
        assert got
        r = sync()
    assert r.code == 0
    assert r.out.strip() == "another sync is running; this one did nothing"
    assert fake.calls == []


def test_lock_released_lets_the_waiting_sync_run(fake, monkeypatch):
    from followup_cal import sync as syncing

    monkeypatch.setattr(syncing, "LOCK_WAIT_SECONDS", 10)
    acme(fake)
    held = threading.Event()
    done = threading.Event()

    def holder():
        with syncing.sync_lock(wait=0):
            held.set()
            done.wait(0.3)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    r = sync()
    t.join()
    assert r.code == 0 and r.out.startswith("synced"), r.out + r.err


def test_quiet_by_default_verbose_lists_changes(fake):
    acme(fake)
    r = sync()
    assert len(r.out.strip().splitlines()) == 1 and r.err == ""
    r = sync("-v")
    lines = r.out.strip().splitlines()
    assert len(lines) == len(planned()) + 1
    assert all(line.startswith("same") for line in lines[:-1])


def test_sync_also_reads_ics_files(fake):
    from conftest import data

    r = sync("--ics", data("google_utc_x_wr_timezone.ics"), now="2026-03-01T08:00")
    assert r.code == 0, r.err
    assert set(ours(fake)) == set(planned("2026-03-01T08:00",
                                          (data("google_utc_x_wr_timezone.ics"),)))
    assert ours(fake)


def test_ledger_records_what_was_written(fake):
    from followup_cal.ledger import Ledger

    acme(fake)
    assert sync().code == 0
    with Ledger.open() as ledger:
        state = ledger.get_state(google.CALENDAR_STATE)
        rows = ledger.written(f"google:{state}")
    assert state == dedicated(fake)
    assert {google.event_id(w.key) for w in rows} == set(ours(fake))


# -- issue 12: Google as Google behaves ---------------------------------------------------------


def test_fake_takes_each_methods_scopes_from_the_discovery_document(fake):
    """The fake's scope checks are Google's: read from calendar.v3.json, not written here."""
    import json
    from importlib.util import find_spec
    from pathlib import Path

    from fake_google import OLD_SCOPES

    from followup_cal.calendars.google.auth import CALENDARLIST_SCOPE, SCOPES, load

    doc = json.loads((Path(find_spec("googleapiclient").origin).parent /
                      "discovery_cache/documents/calendar.v3.json").read_text())
    assert CALENDARLIST_SCOPE in doc["auth"]["oauth2"]["scopes"]  # spelled as Google does
    methods = doc["resources"]["calendarList"]["methods"]
    assert CALENDARLIST_SCOPE in methods["list"]["scopes"]
    assert not set(OLD_SCOPES) & set(methods["list"]["scopes"])  # the old pair cannot list
    by_name = {name: scopes for _m, _p, name, scopes in fake.methods}
    assert by_name["calendarList.list"] == frozenset(methods["list"]["scopes"])
    assert len(by_name) == sum(len(r.get("methods", {})) for r in doc["resources"].values())
    assert all(by_name[m] & set(SCOPES) for m in (
        "calendarList.list", "calendars.insert", "calendars.get", "events.list",
        "events.insert", "events.patch", "events.delete", "events.get"))

    fake.granted = frozenset(OLD_SCOPES)  # a token from before: its box never ticked
    fake.access_tokens = {"old"}
    from fake_google import write_token

    from conftest import ZONE as _zone  # noqa: F401

    write_token(os.environ["FOLLOWUP_CAL_HOME"], fake, token="old")
    service = google.build_service(load())
    from googleapiclient.errors import HttpError

    with pytest.raises(HttpError) as err:
        service.calendarList().list().execute()
    assert err.value.status_code == 403
    assert "insufficientPermissions" in google.http_reasons(err.value)
    assert service.events().list(calendarId="primary").execute()["items"] == []
    assert service.calendarList().get(calendarId="primary").execute()["primary"]


def test_state_lost_then_sync_again_finds_the_same_calendar(fake, home):
    """Acceptance: first sync, state.db deleted, sync again: one calendar, each follow-up
    once, the calendar is the plan."""
    from fake_google import on_calendar
    from fake_google import planned as plan_json

    acme(fake)
    globex(fake)
    assert sync().code == 0
    first = dedicated(fake)
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (home / name).unlink(missing_ok=True)
    writes = fake.write_requests
    r = sync()
    assert r.code == 0, r.err
    assert dedicated(fake) == first and fake.write_requests == writes
    assert on_calendar(fake) == plan_json(("--now", NOW, "--timezone", ZONE))


def _old_token(fake, home, **kw):
    """A token saved before issue 12: calendar.events and calendar.app.created only."""
    from fake_google import OLD_SCOPES, write_token

    fake.granted = frozenset(OLD_SCOPES)
    fake.access_tokens = {"old-token"}
    return write_token(home, fake, token="old-token", scopes=OLD_SCOPES, **kw)


def test_old_token_keeps_syncing_a_known_calendar_and_asks_for_auth(fake, home):
    acme(fake)
    assert sync().code == 0
    _old_token(fake, home)
    writes, calls = fake.write_requests, len(fake.calls)
    r = sync()
    assert r.code == 0, r.err
    line = r.err.strip()
    assert len(line.splitlines()) == 1 and "run `followup-cal auth` again" in line
    assert "calendar.calendarlist.readonly" in line and "Traceback" not in line
    assert fake.write_requests == writes
    assert ("GET", "calendarList.list") not in fake.calls[calls:]


def test_old_token_never_creates_a_calendar_it_cannot_prove_missing(fake, home):
    """Before: calendarList.list got 403, read as "no calendars": a second calendar, every
    follow-up twice."""
    acme(fake)
    assert sync().code == 0
    (home / "state.db").unlink()
    _old_token(fake, home)
    writes = fake.write_requests
    r = sync()
    assert r.code == 1
    line = r.err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "calendar.calendarlist.readonly" in line and "followup-cal auth" in line
    assert fake.write_requests == writes and len(fake.secondary()) == 1


def test_granted_scopes_are_checked_not_the_requested_ones(fake, home):
    """The file says all three; on refresh Google says which were granted (a box was
    unticked): that is what counts."""
    from fake_google import OLD_SCOPES, SCOPES, write_token

    acme(fake)
    fake.granted = frozenset(OLD_SCOPES)
    write_token(home, fake, token="stale", expiry="2020-01-01T00:00:00Z", scopes=SCOPES)
    fake.token_scopes["refresh-1"] = frozenset(OLD_SCOPES)
    r = sync()
    assert r.code == 1 and "calendar.calendarlist.readonly" in r.err
    assert fake.secondary() == [] and fake.write_requests == 0


def test_a_fresh_calendar_answering_404_is_not_made_twice(fake):
    """Google may not know a calendar everywhere just after making it: back off, retry."""
    acme(fake)
    fake.fresh_404s = 3
    r = sync()
    assert r.code == 0, r.err
    dedicated(fake)  # exactly one
    assert set(ours(fake)) == set(planned())
    writes = fake.write_requests
    assert sync().code == 0 and fake.write_requests == writes


def test_a_404_on_the_known_calendar_is_confirmed_before_anything_is_created(fake):
    acme(fake)
    assert sync().code == 0
    first = dedicated(fake)
    fake.calendars[first].fresh = 2  # two passing 404s, then it answers again
    writes, calls = fake.write_requests, len(fake.calls)
    r = sync()
    assert r.code == 0, r.err
    assert dedicated(fake) == first and fake.write_requests == writes
    routes = [route for _m, route in fake.calls[calls:]]
    # the primary id; then a 404 confirmed: a 404 again, then the calendar is there
    assert routes.count("calendars.get") + routes.count("calendarList.get") == 3


def test_without_app_created_a_gone_calendar_is_confirmed_by_the_list_scope(fake, home):
    """A token that may not use calendars.get (no calendar.app.created box): the primary
    id and the 404 check go through calendarList.get; nothing is created without it."""
    from fake_google import SCOPE_ROOT, write_token

    acme(fake)
    assert sync().code == 0
    del fake.calendars[dedicated(fake)]
    fake.granted = frozenset({SCOPE_ROOT + "calendar.events",
                              SCOPE_ROOT + "calendar.calendarlist.readonly"})
    fake.access_tokens = {"narrow"}
    write_token(home, fake, token="narrow")
    calls = len(fake.calls)
    r = sync()
    assert r.code == 1 and "calendar.app.created" in r.err and fake.secondary() == []
    routes = [route for _m, route in fake.calls[calls:]]
    assert routes.count("calendarList.get") == 1 + google.NOT_FOUND_TRIES
    assert routes.count("calendars.get") == 2  # refused once for the primary, once here


def _removed_then_back(fake, meanwhile, *args: str):
    """Follow-ups we removed (a #rejected tag), `meanwhile(gone ids)`, then the tag was a
    mistake: they are planned again. (all ids before, the ones removed, that sync)."""
    iv = acme(fake)
    assert sync().code == 0
    everything = ours(fake)
    fake.modify(iv["id"], {"description": "#rejected"})
    assert sync().code == 0
    gone = set(everything) - set(ours(fake))
    assert gone
    meanwhile(gone)
    fake.modify(iv["id"], {"description": ""})
    return everything, gone, sync(*args)


def _quiet_after(fake) -> None:
    writes = fake.write_requests
    r = sync()
    assert r.code == 0 and fake.write_requests == writes, r.out


def test_a_reserved_id_moves_on_to_the_next_generation(fake):
    """Google purged the removed events, keeping their ids: they come back under fresh
    ids, recorded in the ledger, and then stay quiet."""
    from followup_cal.ledger import Ledger

    def purge(gone):
        assert fake.purge() >= len(gone)  # they disappear, their ids stay reserved

    everything, _gone, r = _removed_then_back(fake, purge)
    assert r.code == 0, r.err
    now = ours(fake)
    assert len(now) == len(everything) and set(now) != set(everything)
    fresh = set(now) - set(everything)
    assert all(google.generation_of(gid) == 1 for gid in fresh)
    with Ledger.open() as ledger:
        gens = ledger.generations(f"google:{dedicated(fake)}")
    assert sorted(gens.values()) == [1] * len(fresh)
    _quiet_after(fake)


def test_a_reserved_id_with_the_state_lost_is_passed_over(fake, home):
    """insert 409, get 404: the id is reserved; with no ledger the next one is found."""
    def purge_and_forget(_gone):
        fake.purge()
        (home / "state.db").unlink()

    everything, _gone, r = _removed_then_back(fake, purge_and_forget)
    assert r.code == 0, r.err
    assert len(ours(fake)) == len(everything)
    _quiet_after(fake)


def test_a_restore_google_refuses_gets_a_fresh_id(fake):
    """Patching back an event we deleted is refused (403 here): a fresh id, not a jam."""
    def refuse(gone):
        for gid in gone:
            fake.refuse(gid, 403, "forbidden", methods=("PATCH",))

    everything, gone, r = _removed_then_back(fake, refuse)
    assert r.code == 0, r.err
    assert len(ours(fake)) == len(everything) and not gone & set(ours(fake))
    _quiet_after(fake)


def _fail_nth_insert(n: int, times: int):
    """A `when` for fake.fail: the n-th distinct insert fails `times` times in a row."""
    seen = {"inserts": 0}

    def when(method, route):
        if route != "events.insert":
            return False
        seen["inserts"] += 1
        return n <= seen["inserts"] < n + times

    return when


def test_one_event_that_fails_does_not_stop_the_run(fake):
    acme(fake)
    globex(fake)
    expected = planned()
    retries = _settings().google_retries
    fake.fail("500", times=retries + 1, when=_fail_nth_insert(2, retries + 1))
    r = sync()
    assert r.code == 1
    assert r.out.strip().endswith("1 failed (the next sync retries them)"), r.out
    assert f"{len(expected) - 1} created" in r.out
    line = r.err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "1 follow-up event(s) could not be written" in line and "HTTP 500" in line
    assert "after retries" in line
    assert len(ours(fake)) == len(expected) - 1
    writes = fake.write_requests
    r = sync()  # only what is left
    assert r.code == 0, r.err
    assert "1 created" in r.out and fake.write_requests == writes + 1
    assert set(ours(fake)) == set(expected)


@pytest.mark.parametrize("reason,says", [("forbiddenForNonOrganizer", "organizer"),
                                         ("forbidden", "HTTP 403")])
def test_a_refused_patch_fails_alone_saying_what_google_said(fake, reason, says):
    """forbiddenForNonOrganizer is not a missing permission (no `auth`); a 403 that was
    not retried does not say "after retries"."""
    iv = acme(fake)
    assert sync().code == 0
    some = sorted(ours(fake))[0]
    fake.refuse(some, 403, reason, methods=("PATCH",))
    fake.modify(iv["id"], google_event("Phone screen with Acme", "2026-03-04T15:00:00"))
    r = sync()
    assert r.code == 1
    assert "1 failed" in r.out
    line = r.err.strip()
    assert len(line.splitlines()) == 1 and says in line
    assert "auth" not in line and "after retries" not in line


def test_a_failed_delete_is_retried_by_the_next_run(fake):
    iv = acme(fake)
    assert sync().code == 0
    some = sorted(ours(fake))[-1]
    fake.refuse(some, 400, "invalid", methods=("DELETE",))
    fake.user_delete(iv["id"])  # cancelled: every follow-up goes
    r = sync()
    assert r.code == 1 and "1 failed" in r.out
    assert set(ours(fake)) == {some}
    fake.refusals.clear()
    r = sync()
    assert r.code == 0 and "1 deleted" in r.out, r.out
    assert ours(fake) == {}


def test_steady_state_sync_makes_no_write_and_at_most_3_requests(fake):
    fake.page_size = 250  # Google's page; the tool asks for 250 and 2500
    fake.empty_pages = False
    acme(fake)
    globex(fake)
    assert sync().code == 0
    calls = len(fake.calls)
    writes = fake.write_requests
    r = sync()
    assert r.code == 0, r.err
    assert fake.write_requests == writes
    made = fake.calls[calls:]
    assert len(made) <= 3, made


def test_self_on_a_shared_calendar_is_its_owner_not_the_user(fake, home):
    """A calendar shared by someone else: `self: true` marks them. Their decline is not
    the user's, and they are not the user."""
    fake.add_calendar("sam@partner.example", "Sam", owner="sam@partner.example",
                      access="reader")
    fake.seed(google_event("Interview with Globex", "2026-03-02T10:00:00",
                           attendees=(("ann@globex.com", "Ann Lee"),
                                      ("sam@partner.example", "Sam"))),
              calendar="sam@partner.example")
    ev = fake.calendars["sam@partner.example"].events
    for body in ev.values():
        for a in body["attendees"]:
            if a["email"] == "sam@partner.example":
                a["responseStatus"] = "declined"
    (home / "config.toml").write_text('google_calendars = ["primary", "sam@partner.example"]\n')
    items = planned()
    assert {f.company for f in items.values()} == {"Globex"}
    recipients = {f.recipient.email for f in items.values() if f.recipient}
    assert "me@example.com" not in recipients and "ann@globex.com" in recipients


def test_invitations_not_answered_yet_are_read(fake):
    fake.seed(google_event("Phone screen with Acme", "2026-03-02T10:00:00"), hidden=True)
    items = planned()
    assert items and {f.company for f in items.values()} == {"Acme"}
    assert all("showHiddenInvitations" not in str(c) for c in fake.calls)  # routes only


def test_event_types_google_defines_as_never_interviews_or_busy():
    def item(kind, transparency="opaque"):
        return {"id": kind, "summary": "Interview with Acme", "eventType": kind,
                "transparency": transparency,
                "start": {"dateTime": "2026-03-02T10:00:00-05:00"},
                "end": {"dateTime": "2026-03-02T11:00:00-05:00"}}

    assert google.to_event(item("workingLocation"), "g") is None
    assert google.to_event(item("birthday"), "g") is None
    for busy in ("outOfOffice", "focusTime"):
        assert not google.to_event(item(busy, "transparent"), "g").transparent
    assert google.to_event(item("default", "transparent"), "g").transparent


def test_working_locations_and_birthdays_in_the_calendar_plan_nothing(fake):
    fake.seed(google_event("Interview with Acme", "2026-03-02T10:00:00",
                           eventType="workingLocation"))
    fake.seed({"summary": "Interview with Globex", "eventType": "birthday",
               "start": {"date": "2026-03-03"}, "end": {"date": "2026-03-04"}})
    assert planned() == {}


def test_quota_messages_tell_usage_limits_from_the_daily_quota(fake):
    acme(fake)
    fake.fail("quota", when=lambda method, route: route == "events.list")
    r = sync()
    assert r.code == 1 and "usage limits" in r.err and "minutes" in r.err
    assert "daily" not in r.err and "midnight" not in r.err and "after retries" not in r.err
    fake.fail("daily", when=lambda method, route: route == "events.list")
    r = sync()
    assert r.code == 1 and "midnight Pacific" in r.err


def test_ledger_migrates_from_version_2_to_event_generations(home):
    import sqlite3

    from followup_cal.ledger import MIGRATIONS, SCHEMA_VERSION, Ledger

    path = home / "state.db"
    conn = sqlite3.connect(str(path))
    for steps in MIGRATIONS[:2]:
        for sql in steps:
            conn.execute(sql)
    conn.execute("INSERT INTO state (key, value) VALUES ('google_calendar_id', 'c1')")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Ledger.open(path) as ledger:
        assert ledger.version == SCHEMA_VERSION
        assert ledger.get_state("google_calendar_id") == "c1"
        assert ledger.generations("google:c1") == {}
        ledger.set_generation("google:c1", "u@x", 2)
        ledger.set_generation("google:c1", "u@x", 3)
        assert ledger.generations("google:c1") == {"u@x": 3}
        assert ledger.generations("google:other") == {}


def _legacy_hash(event: dict) -> str:
    """The hash events written before issue 13 carry: a digest of the body and mark."""
    import hashlib
    import json

    body = {k: event[k] for k in ("summary", "description", "start", "end", "status",
                                  "transparency", "colorId", "visibility", "reminders")}
    mark = google._private(event)[google.WHEN_PROP]
    return hashlib.sha256(json.dumps([body, mark], sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def test_events_written_with_the_old_hash_are_rewritten_once_in_place(fake):
    """issue 13: Google's hash is sync.content_hash, as on every calendar. An event
    written before carries the old body digest: the first sync patches it once under
    the same id (no insert, no duplicate), and the next writes nothing."""
    acme(fake)
    assert sync().code == 0
    cal = dedicated(fake)
    before = ours(fake)
    from followup_cal.calendars.google.events import HASH_PROP

    for gid, event in before.items():
        fake.modify(gid, {"extendedProperties": {"private": {HASH_PROP: _legacy_hash(event)}}},
                    cal)
    calls = len(fake.calls)
    r = sync()
    assert r.code == 0, r.err
    assert f"{len(before)} updated" in r.out, r.out
    routes = [route for _m, route in fake.calls[calls:]]
    assert routes.count("events.patch") == len(before) and "events.insert" not in routes
    assert set(ours(fake)) == set(before)
    from fake_google import on_calendar

    on_calendar(fake)  # no duplicate
    _quiet_after(fake)


def test_a_new_reminder_setting_rewrites_each_event_once(fake, home):
    """The setting is ours to apply; a reminder the user set on one event is theirs."""
    acme(fake)
    assert sync().code == 0
    mine = sorted(ours(fake))[0]
    fake.modify(mine, {"reminders": {"useDefault": True}}, dedicated(fake))
    _quiet_after(fake)
    (home / "config.toml").write_text("reminder_minutes = 30\n")
    r = sync()
    assert r.code == 0, r.err
    assert all(e["reminders"]["overrides"] == [{"method": "popup", "minutes": 30}]
               for e in ours(fake).values())
    _quiet_after(fake)


def test_a_deletion_with_the_state_lost_stays_deleted(fake, home):
    """The tombstone Google keeps is the user's word even when state.db is gone: it is
    listed (showDeleted), named by the planned follow-up's key, and left deleted."""
    acme(fake)
    assert sync().code == 0
    gid = sorted(ours(fake))[0]
    fake.user_delete(gid, dedicated(fake))
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (home / name).unlink(missing_ok=True)
    writes = fake.write_requests
    r = sync("-v")
    assert r.code == 0, r.err
    assert "1 left deleted by you" in r.out and fake.write_requests == writes
    assert gid not in ours(fake)


def test_an_old_deletion_met_on_create_stays_deleted(fake, home):
    """A check-in the user deleted, its time long past, so the listing (from a day before
    now) no longer shows its tombstone; with state.db lost the planner moves it, overdue,
    to the next free slot under the same id. The insert meets the tombstone (409, then
    get: cancelled): that is the user's deletion, left as it is, not restored."""
    acme(fake)
    assert sync().code == 0
    checks = {gid: e for gid, e in ours(fake).items() if "Check-in" in e["summary"]
              or "check in" in e["summary"]}
    gid, first = min(checks.items(), key=lambda kv: start_of(kv[1]))
    fake.user_delete(gid, dedicated(fake))
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (home / name).unlink(missing_ok=True)
    later = (start_of(first) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    r = sync("-v", now=later)
    assert r.code == 0, r.err
    assert "left deleted by you" in r.out
    assert gid not in ours(fake)  # still a tombstone, not brought back
