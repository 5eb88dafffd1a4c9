"""The event parser on every fixture calendar (tests/data/README.md).

Each test reads one fixture through `ics.read_sources` with a fixed `now` and
checks what the README says the parser must extract from it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from followup_cal.calendars import ics
from followup_cal.config import Settings
from followup_cal.detect import company_key
from followup_cal.model import Person, SourceData

from conftest import DATA, ZONE, cli, data

NY = ZoneInfo(ZONE)
UTC = timezone.utc
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=NY)
ME = "sam.carter@gmail.com"
GOOGLE = "google_utc_x_wr_timezone.ics"
SERIES = "google_recurring_tzid_series.ics"
OUTLOOK_QUOTED = "outlook_windows_tzid_quoted.ics"
OUTLOOK_UNQUOTED = "outlook_windows_tzid_unquoted.ics"
APPLE = "apple_iana_vtimezone_email_param.ics"
PHRASES = "event_decision_phrases.ics"
BUSY_DAY = "example_busy_day.ics"


def read(name: str, now: datetime = NOW, tz: str = ZONE, me: tuple[str, ...] = (ME,)
         ) -> SourceData:
    return ics.read_sources([data(name)], Settings(timezone=tz, me=me), now)


def uids(sd: SourceData) -> set[str]:
    return {iv.uid for iv in sd.interviews}


def one(sd: SourceData, uid: str):
    found = [iv for iv in sd.interviews if iv.uid == uid]
    assert len(found) == 1, [iv.uid for iv in sd.interviews]
    return found[0]


def z(iso: str) -> datetime:
    """An aware datetime from ISO text ('Z' or an offset)."""
    value = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert value.tzinfo is not None
    return value


def people(*pairs: tuple[str | None, str]) -> tuple[Person, ...]:
    return tuple(Person(name=n, email=e) for n, e in pairs)


def emails(persons) -> set[str]:
    return {(p.email or "").lower() for p in persons}


def assert_times(iv, start: str, end: str) -> None:
    assert iv.start.tzinfo is not None and iv.end.tzinfo is not None
    assert iv.start == z(start), iv.start.isoformat()
    assert iv.end == z(end), iv.end.isoformat()


def covers(sd: SourceData, start: str, end: str) -> bool:
    """Some busy block covers [start, end)."""
    s, e = z(start), z(end)
    return any(b.start <= s and e <= b.end for b in sd.busy)


def overlaps(sd: SourceData, start: str, end: str) -> bool:
    s, e = z(start), z(end)
    return any(b.start < e and s < b.end for b in sd.busy)


# -- google_utc_x_wr_timezone.ics -------------------------------------------------------

ACME = "5k2v9q0c1t3hb8m4f7n6r2d0ls@google.com"


def test_google_utc_only_the_real_interview_counts():
    sd = read(GOOGLE)
    assert uids(sd) == {ACME}
    # "Mock interview with Alex" says "interview" but is practice; Dentist and
    # the standup are not interviews at all.
    assert "0hq4m8c2p6s1v3b5n7k9t2j4rg@google.com" not in uids(sd)


def test_google_utc_acme_facts():
    iv = one(read(GOOGLE), ACME)
    assert iv.recurrence_id is None
    assert (iv.company, iv.role) == ("Acme Corp", "Product Designer")
    assert_times(iv, "2026-03-03T19:00:00Z", "2026-03-03T20:30:00Z")
    assert iv.start == datetime(2026, 3, 3, 14, 0, tzinfo=NY)
    assert iv.interviewers == people(
        ("Jane Roe", "jane.roe@acmecorp.com"),
        ("Bob Stone", "bob.stone@acmecorp.com"),
        ("Priya Nair", "priya.nair@acmecorp.com"),  # NEEDS-ACTION is still an interviewer
    )
    assert ME not in emails(iv.interviewers)
    assert not any("resource.calendar.google.com" in e for e in emails(iv.interviewers))
    assert iv.recruiter == Person("Rita Recruiter", "rita@acmecorp.com")
    assert iv.instruction is not None
    assert iv.instruction.on == date(2026, 3, 13)
    assert iv.instruction.explicit is False


@pytest.mark.parametrize("candidate_zone", [ZONE, "America/Chicago", "Europe/London"])
def test_google_utc_employer_zone_is_the_candidates(candidate_zone):
    # README says "America/New_York, from X-WR-TIMEZONE". DESIGN.md: the event's
    # own TZID when it is neither UTC nor floating, else the candidate's zone.
    # Google's event is UTC, so the candidate's zone wins (the two agree when
    # the candidate lives in New York, which is the README's set-up).
    iv = one(read(GOOGLE, tz=candidate_zone), ACME)
    assert iv.employer_tz == candidate_zone
    assert_times(iv, "2026-03-03T19:00:00Z", "2026-03-03T20:30:00Z")


def test_google_utc_non_interviews_are_busy():
    sd = read(GOOGLE)
    assert covers(sd, "2026-03-05T08:00:00-05:00", "2026-03-05T09:00:00-05:00")  # Dentist
    assert covers(sd, "2026-03-03T09:30:00-05:00", "2026-03-03T09:45:00-05:00")  # standup


# -- google_recurring_tzid_series.ics ---------------------------------------------------

GLOBEX = "1c9q6f3o8e2r5u7w0y4b6d8h1k@google.com"
SERIES_NOW = datetime(2026, 4, 1, 8, 0, tzinfo=NY)


def test_series_yields_one_interview_per_occurrence_with_the_override_moved():
    sd = read(SERIES, now=SERIES_NOW)
    got = sorted(sd.interviews, key=lambda iv: iv.start)
    assert [iv.uid for iv in got] == [GLOBEX] * 3
    assert [(iv.start, iv.end) for iv in got] == [
        (z("2026-04-16T10:00:00+02:00"), z("2026-04-16T11:00:00+02:00")),
        (z("2026-04-23T12:00:00+02:00"), z("2026-04-23T13:00:00+02:00")),  # moved
        (z("2026-04-30T10:00:00+02:00"), z("2026-04-30T11:00:00+02:00")),
    ]
    # the override replaces its occurrence: nothing left at the original 10:00
    assert z("2026-04-23T10:00:00+02:00") not in {iv.start for iv in got}
    # identity includes the recurrence date: the UID alone is not unique
    assert all(iv.recurrence_id for iv in got)
    assert [z(iv.recurrence_id) for iv in got] == [
        z("2026-04-16T10:00:00+02:00"),
        z("2026-04-23T10:00:00+02:00"),
        z("2026-04-30T10:00:00+02:00"),
    ]
    assert len({iv.identity for iv in got}) == 3


def test_series_occurrence_facts():
    for iv in read(SERIES, now=SERIES_NOW).interviews:
        assert (iv.company, iv.role) == ("Globex", None)
        assert iv.employer_tz == "Europe/Berlin"
        assert iv.interviewers == people(("Lena Vogel", "lena.vogel@globex.com"))
        assert iv.recruiter == Person("Greta Hoffmann", "greta.hoffmann@globex.com")
        assert iv.instruction is None


@pytest.mark.parametrize(
    ("now", "starts"),
    [
        # window ends 2026-04-26: the third occurrence is outside
        (datetime(2026, 2, 25, 8, 0, tzinfo=NY),
         ["2026-04-16T10:00:00+02:00", "2026-04-23T12:00:00+02:00"]),
        # window starts 2026-04-23 09:00Z: the original slot (08:00Z) is before it,
        # the moved one (10:00Z) inside it
        (datetime(2026, 4, 23, 9, 0, tzinfo=UTC) + timedelta(days=60),
         ["2026-04-23T12:00:00+02:00", "2026-04-30T10:00:00+02:00"]),
        # window ends 2026-04-23 09:00Z: the moved occurrence is after it
        (datetime(2026, 4, 23, 9, 0, tzinfo=UTC) - timedelta(days=60),
         ["2026-04-16T10:00:00+02:00"]),
    ],
    ids=["end-cuts-third", "start-between-original-and-moved", "end-between-original-and-moved"],
)
def test_series_only_occurrences_in_the_window(now, starts):
    sd = read(SERIES, now=now)
    assert sorted(iv.start for iv in sd.interviews) == [z(s) for s in starts]


# -- outlook_windows_tzid_quoted.ics ----------------------------------------------------

INITECH_1 = ("040000008200E00074C5B7101A82E0080000000080C4D1B2A7ABDC01000000000000000010000000"
             "8D6B4F0E2A1C4E7BA39F5D20C6E81B47")
INITECH_2 = ("040000008200E00074C5B7101A82E00800000000005E7C3A6CB2DC01000000000000000010000000"
             "2F9A7C5E3B1D4A6C8E0F2B4D6A8C0E1F")


def test_outlook_quoted_both_events_are_interviews_with_unfolded_uids():
    sd = read(OUTLOOK_QUOTED)
    assert uids(sd) == {INITECH_1, INITECH_2}


def test_outlook_quoted_windows_zone_and_email_instruction():
    iv = one(read(OUTLOOK_QUOTED), INITECH_1)
    assert (iv.company, iv.role) == ("Initech", "Data Analyst")
    assert_times(iv, "2026-03-10T17:00:00Z", "2026-03-10T18:00:00Z")  # PDT, after the US switch
    assert iv.employer_tz == "America/Los_Angeles"
    assert iv.interviewers == people(
        ("Michael Chen", "michael.chen@initech.com"),
        ("Laura Diaz", "laura.diaz@initech.com"),  # OPT-PARTICIPANT is still an interviewer
    )
    assert "confroom4b@initech.com" not in emails(iv.interviewers)
    assert ME not in emails(iv.interviewers)
    assert iv.recruiter == Person("Karen Wu", "karen.wu@initech.com")
    # "email me in one week", not the decoy "about an hour and" (2026-03-10)
    assert iv.instruction is not None
    assert (iv.instruction.on, iv.instruction.explicit, iv.instruction.channel) == (
        date(2026, 3, 17), True, "email")


def test_outlook_quoted_summary_folded_inside_a_word():
    sd = read(OUTLOOK_QUOTED)
    iv = one(sd, INITECH_2)
    assert (iv.company, iv.role) == ("Initech", "Senior Analyst")
    assert_times(iv, "2026-03-19T20:00:00Z", "2026-03-19T20:30:00Z")
    assert iv.employer_tz == "America/Los_Angeles"
    assert iv.interviewers == people(("Bill Lumbergh", "bill.lumbergh@initech.com"))
    assert iv.recruiter == Person("Karen Wu", "karen.wu@initech.com")
    assert iv.instruction is None  # a phone number is not a date
    # same employer as interview 1: one application
    assert company_key(iv.company) == company_key(one(sd, INITECH_1).company)


# -- outlook_windows_tzid_unquoted.ics --------------------------------------------------

VANDELAY = ("040000008200E00074C5B7101A82E0080000000000A1B6F4F6B0DC01000000000000000010000000"
            "5C3E1A9F7B2D4C8E9A1B3C5D7E9F0A2B")
PENDANT = ("040000008200E00074C5B7101A82E0080000000080F0C2E1F8B1DC01000000000000000010000000"
           "9E7C5A3B1D2F4E6A8C0B2D4F6A8E0C1D")


def test_outlook_unquoted_windows_zone_and_phone_instruction():
    sd = read(OUTLOOK_UNQUOTED)
    assert uids(sd) == {VANDELAY, PENDANT}
    iv = one(sd, VANDELAY)
    assert (iv.company, iv.role) == ("Vandelay Industries", None)
    assert_times(iv, "2026-03-12T18:00:00Z", "2026-03-12T19:00:00Z")
    assert iv.employer_tz == "America/New_York"
    assert iv.interviewers == people(("Art Vandelay", "art.vandelay@vandelayindustries.com"))
    assert iv.recruiter == Person("Gina Morales", "gina.morales@vandelayindustries.com")
    assert iv.instruction is not None
    assert (iv.instruction.on, iv.instruction.explicit, iv.instruction.channel) == (
        date(2026, 3, 13), True, "phone")


def test_outlook_custom_zone_name_matched_by_its_rules():
    iv = one(read(OUTLOOK_UNQUOTED, tz="Europe/London"), PENDANT)
    assert (iv.company, iv.role) == ("Pendant Publishing", "Associate Editor")
    assert_times(iv, "2026-03-18T14:30:00Z", "2026-03-18T15:00:00Z")
    assert iv.start.utcoffset() == timedelta(hours=-5)
    # the custom name has US Central rules: America/Chicago (the README also
    # allows a documented fallback to the candidate's zone; the code matches).
    assert iv.employer_tz == "America/Chicago"
    assert ZoneInfo(iv.employer_tz).utcoffset(iv.start.replace(tzinfo=None)) == timedelta(hours=-5)
    assert iv.interviewers == people(("Elaine Benes", "elaine.benes@pendantpublishing.com"))
    assert iv.recruiter == Person("Jackie Chiles", "jackie.chiles@pendantpublishing.com")
    assert iv.instruction is None


# -- apple_iana_vtimezone_email_param.ics -----------------------------------------------

HOOLI_APPLE = "C2B7E6A1-5D3F-4E9A-8B1C-7F0D2E4A6B98"


def test_apple_email_param_addresses_and_next_week_decision():
    sd = read(APPLE)
    assert uids(sd) == {HOOLI_APPLE}  # Yoga is not an interview
    iv = one(sd, HOOLI_APPLE)
    assert (iv.company, iv.role) == ("Hooli", "Staff Engineer")
    assert_times(iv, "2026-03-11T17:00:00Z", "2026-03-11T21:00:00Z")
    assert iv.employer_tz == "America/Los_Angeles"
    # urn:uuid values: the address is only in EMAIL=; the candidate is recognised by it
    assert iv.interviewers == people(("Dana Lee", "dana.lee@hooli.com"),
                                     ("Raj Patel", "raj.patel@hooli.com"))
    assert iv.recruiter == Person("Chris Park", "chris.park@hooli.com")
    # "They will decide next week": the week of Mon 2026-03-16, not the decoy
    # "Four-hour" (2026-04-11)
    assert iv.instruction is not None
    assert date(2026, 3, 16) <= iv.instruction.on <= date(2026, 3, 20)
    assert iv.instruction.explicit is False


# -- event_status_cancelled.ics ---------------------------------------------------------

INITRODE = "5f0c2a7e-91b4-4d3a-8e6f-2b1d9c4a7e30"
CHOTCHKIES = "b7d41e93-2c6a-4f85-a1e0-6c3b8d2f9a14"


def test_cancelled_interview_is_skipped():
    sd = read("event_status_cancelled.ics")
    assert uids(sd) == {CHOTCHKIES}
    assert not overlaps(sd, "2026-03-17T10:00:00-04:00", "2026-03-17T11:00:00-04:00")


def test_cancelled_file_the_real_interview():
    iv = one(read("event_status_cancelled.ics"), CHOTCHKIES)
    assert (iv.company, iv.role) == ("Chotchkie's", "Shift Manager")
    assert_times(iv, "2026-03-19T19:00:00Z", "2026-03-19T20:00:00Z")
    assert iv.employer_tz == "America/New_York"
    assert iv.interviewers == people(("Joanna Nash", "joanna.nash@chotchkies.com"))
    assert iv.recruiter == Person("Stan Waters", "stan.waters@chotchkies.com")
    # "we should hear by Friday", not the decoy "we" (2026-03-25)
    assert iv.instruction is not None
    assert (iv.instruction.on, iv.instruction.explicit) == (date(2026, 3, 20), False)


# -- event_declined_by_me.ics -----------------------------------------------------------

FERRIS = "6m0o2q4s6u8w0y2a4c6e8g0i2k@google.com"
DAILY_PLANET = "8p2r4t6v8x0z2b4d6f8h0j2l4n@google.com"


@pytest.mark.parametrize("me", [(ME,), ()], ids=["me-configured", "me-from-calname"])
def test_declined_interview_is_skipped(me):
    sd = read("event_declined_by_me.ics", me=me)
    assert uids(sd) == {DAILY_PLANET}
    assert FERRIS not in uids(sd)
    assert not overlaps(sd, "2026-03-17T15:00:00Z", "2026-03-17T16:00:00Z")


def test_declined_file_the_real_interview():
    iv = one(read("event_declined_by_me.ics"), DAILY_PLANET)
    assert (iv.company, iv.role) == ("Daily Planet", "Copy Editor")
    assert_times(iv, "2026-03-18T14:00:00Z", "2026-03-18T15:00:00Z")
    assert iv.employer_tz == "America/New_York"
    assert iv.interviewers == people(("Perry White", "perry.white@dailyplanet.com"))
    assert iv.recruiter == Person("Lois Lane", "lois.lane@dailyplanet.com")
    assert iv.instruction is None


# -- event_d_all_day_interview.ics ------------------------------------------------------

@pytest.mark.parametrize("me", [(ME,), ()])
def test_all_day_interview_is_skipped_without_type_error(me):
    sd = read("event_d_all_day_interview.ics", me=me)
    assert sd.interviews == ()
    # transparent all-day event: not busy either
    assert not overlaps(sd, "2026-03-19T12:00:00-04:00", "2026-03-19T13:00:00-04:00")


# -- event_dt_floating.ics --------------------------------------------------------------

WAYNE = "e2a9c6f1-4b8d-4e3a-9f7c-1d5b3a8e6c02"


@pytest.mark.parametrize("candidate_zone", [ZONE, "Europe/London"])
def test_floating_time_is_read_in_the_candidates_zone(candidate_zone):
    iv = one(read("event_dt_floating.ics", tz=candidate_zone), WAYNE)
    tz = ZoneInfo(candidate_zone)
    assert iv.start.tzinfo is not None
    assert iv.start == datetime(2026, 3, 17, 11, 0, tzinfo=tz)
    assert iv.end == datetime(2026, 3, 17, 11, 30, tzinfo=tz)
    assert iv.employer_tz == candidate_zone


def test_floating_file_facts():
    iv = one(read("event_dt_floating.ics"), WAYNE)
    assert_times(iv, "2026-03-17T15:00:00Z", "2026-03-17T15:30:00Z")
    assert (iv.company, iv.role) == ("Wayne Enterprises", "Business Analyst")
    fox = Person("Lucius Fox", "lucius.fox@wayne-enterprises.com")
    assert iv.interviewers == (fox,)  # organizer who also attends
    assert iv.recruiter == fox
    assert iv.instruction is None


# -- event_dt_unknown_tzid.ics ----------------------------------------------------------

WEYLAND = "itv-20260318-7731@scheduler.example-recruiting.com"


@pytest.mark.parametrize("candidate_zone", [ZONE, "Europe/London"])
def test_unknown_tzid_read_in_the_candidates_zone_with_a_warning(candidate_zone):
    sd = read("event_dt_unknown_tzid.ics", tz=candidate_zone)
    iv = one(sd, WEYLAND)
    tz = ZoneInfo(candidate_zone)
    assert iv.start == datetime(2026, 3, 18, 15, 0, tzinfo=tz)
    assert iv.end == datetime(2026, 3, 18, 16, 0, tzinfo=tz)
    assert iv.employer_tz == candidate_zone
    assert any("Mars/Olympus_Mons" in w for w in sd.warnings), sd.warnings


def test_unknown_tzid_file_facts():
    iv = one(read("event_dt_unknown_tzid.ics"), WEYLAND)
    assert (iv.company, iv.role) == ("Weyland-Yutani", "Terraforming Engineer")
    assert iv.interviewers == people(("Ellen Ripley", "ellen.ripley@weyland-yutani.com"))
    assert iv.recruiter == Person("Carter Burke", "carter.burke@weyland-yutani.com")
    assert iv.instruction is None


def test_known_zones_give_no_unknown_zone_warning():
    for name in (GOOGLE, OUTLOOK_QUOTED, OUTLOOK_UNQUOTED, APPLE, "event_dt_floating.ics"):
        assert read(name).warnings == (), name


# -- event_cp1252_accents.ics -----------------------------------------------------------

SOCGEN = ("040000008200E00074C5B7101A82E0080000000000D26A1B3CB8DC01000000000000000010000000"
          "7A5C3E1F9B0D4F2A6C8E0A2C4E6B8D1F")


def test_cp1252_accents_preserved():
    raw = (DATA / "event_cp1252_accents.ics").read_bytes()
    assert "Société".encode("cp1252") in raw  # the fixture really is cp1252
    iv = one(read("event_cp1252_accents.ics"), SOCGEN)
    assert iv.summary == "Entretien / Interview with Société Générale"
    assert (iv.company, iv.role) == ("Société Générale", None)
    assert "\ufffd" not in iv.summary + iv.company
    assert_times(iv, "2026-03-25T09:00:00Z", "2026-03-25T10:00:00Z")
    assert iv.employer_tz == ZONE  # UTC event, no X-WR-TIMEZONE: the candidate's
    # upper-case MAILTO: read case-insensitively; the candidate is left out
    assert iv.interviewers == people(("José Müller", "jose.muller@socgen.com"))
    assert iv.recruiter == Person(None, "claire.dubois@socgen.com")
    assert iv.instruction is None


# -- event_utf8_bom.ics -----------------------------------------------------------------

NORDISK = "6f3e9d2c-8a1b-4c7e-b5d0-3a2f1e9c8b74"


def test_utf8_bom_file_is_read():
    assert (DATA / "event_utf8_bom.ics").read_bytes().startswith(b"\xef\xbb\xbf")
    iv = one(read("event_utf8_bom.ics"), NORDISK)
    assert (iv.company, iv.role) == ("Nordisk Design", "UX Designer")
    assert_times(iv, "2026-03-24T15:30:00Z", "2026-03-24T16:30:00Z")
    assert iv.employer_tz == "America/Chicago"
    assert iv.interviewers == people(("Zoë Ångström", "zoe.angstrom@nordisk-design.com"))
    assert iv.recruiter == Person("Märta Lindqvist", "marta.lindqvist@nordisk-design.com")
    # "decision by March 27", not the decoy "We" (2026-03-25)
    assert iv.instruction is not None
    assert (iv.instruction.on, iv.instruction.explicit) == (date(2026, 3, 27), False)


# -- event_broken_among_good.ics --------------------------------------------------------

def test_broken_event_skipped_with_a_warning_the_others_read():
    sd = read("event_broken_among_good.ics")
    assert uids(sd) == {"good-event-1@example.com", "good-event-2@example.com"}
    assert any("broken-event-1@example.com" in w for w in sd.warnings), sd.warnings

    hooli = one(sd, "good-event-1@example.com")
    assert (hooli.company, hooli.role) == ("Hooli", "Site Reliability Engineer")
    assert_times(hooli, "2026-03-23T14:00:00Z", "2026-03-23T15:00:00Z")
    assert hooli.interviewers == people(("Dana Lee", "dana.lee@hooli.com"))
    assert hooli.recruiter == Person("Gavin Belson", "gavin.belson@hooli.com")

    initech = one(sd, "good-event-2@example.com")
    assert (initech.company, initech.role) == ("Initech", "Data Engineer")
    assert_times(initech, "2026-03-26T17:00:00Z", "2026-03-26T18:00:00Z")
    assert initech.interviewers == people(("Michael Chen", "michael.chen@initech.com"))
    assert initech.recruiter == Person("Karen Wu", "karen.wu@initech.com")

    for iv in (hooli, initech):
        assert iv.employer_tz == ZONE
        assert iv.instruction is None


# -- event_decision_phrases.ics ---------------------------------------------------------

PHRASE_CASES = [
    # uid, company, role, start, end, interviewers, organizer, (earliest, latest), explicit, channel
    ("a1phrase0decisionbymarch6@google.com", "Pied Piper", "Backend Engineer",
     "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z",
     [("Richard Hendricks", "richard@piedpiper.com")],
     ("Erlich Bachman", "erlich@piedpiper.com"),
     (date(2026, 3, 6), date(2026, 3, 6)), False, None),
    ("a2phrase0decisionbyaug1st@google.com", "Cyberdyne Systems", "ML Engineer",
     "2026-07-14T14:00:00Z", "2026-07-14T15:00:00Z",
     [("Sarah Connor", "sarah.connor@cyberdyne.com")],
     ("Miles Dyson", "miles.dyson@cyberdyne.com"),
     (date(2026, 8, 1), date(2026, 8, 1)), False, None),  # decoy "We" -> 07-15
    ("a3phrase0shouldhearbyfri@google.com", "Soylent", "Product Manager",
     "2026-04-08T18:00:00Z", "2026-04-08T18:30:00Z",
     [("Sol Roth", "sol.roth@soylent.com")],
     ("Sol Roth", "sol.roth@soylent.com"),
     (date(2026, 4, 10), date(2026, 4, 10)), False, None),
    ("a4phrase0decisionnextweek@google.com", "Massive Dynamic", "Data Scientist",
     "2026-04-16T15:00:00Z", "2026-04-16T16:00:00Z",
     [("Walter Bishop", "walter.bishop@massivedynamic.com"),
      ("Astrid Farnsworth", "astrid.farnsworth@massivedynamic.com")],
     ("Nina Sharp", "nina.sharp@massivedynamic.com"),
     (date(2026, 4, 20), date(2026, 4, 24)), False, None),  # the week of Mon 04-20
    ("a5phrase0emailmeinoneweek@google.com", "Tyrell Corp", "UX Researcher",
     "2026-05-08T17:00:00Z", "2026-05-08T18:00:00Z",
     [("Eldon Tyrell", "eldon.tyrell@tyrellcorp.com")],
     ("Rachael Rosen", "rachael.rosen@tyrellcorp.com"),
     (date(2026, 5, 15), date(2026, 5, 15)), True, "email"),
    ("a6phrase0callbyfridaymorn@google.com", "Wonka Industries", "Operations Lead",
     "2026-05-11T19:00:00Z", "2026-05-11T20:00:00Z",
     [("Willy Wonka", "willy.wonka@wonka.com")],
     ("Charlie Bucket", "charlie.bucket@wonka.com"),
     (date(2026, 5, 15), date(2026, 5, 15)), True, "phone"),
    ("a7phrase0nodecisiondate0@google.com", "Oscorp", "Lab Technician",
     "2026-05-20T14:00:00Z", "2026-05-20T15:00:00Z",
     [("Otto Octavius", "otto.octavius@oscorp.com")],
     ("Harry Osborn", "harry.osborn@oscorp.com"),
     None, False, None),
]


@pytest.mark.parametrize(
    ("uid", "company", "role", "start", "end", "interviewers", "organizer", "on",
     "explicit", "channel"),
    PHRASE_CASES,
    ids=[c[0].split("@")[0] for c in PHRASE_CASES],
)
def test_decision_phrases(uid, company, role, start, end, interviewers, organizer, on,
                          explicit, channel):
    now = z(start) - timedelta(days=1)
    iv = one(read(PHRASES, now=now), uid)
    assert (iv.company, iv.role) == (company, role)
    assert_times(iv, start, end)
    assert iv.employer_tz == ZONE
    assert iv.interviewers == people(*interviewers)
    assert iv.recruiter == Person(*organizer)
    if on is None:
        assert iv.instruction is None
        return
    assert iv.instruction is not None
    assert on[0] <= iv.instruction.on <= on[1], iv.instruction
    assert iv.instruction.explicit is explicit
    if explicit:
        assert iv.instruction.channel == channel


def test_only_interviews_within_sixty_days_of_now_are_read():
    sd = read(PHRASES, now=NOW)  # window 2025-12-31 .. 2026-04-30
    assert uids(sd) == {
        "a1phrase0decisionbymarch6@google.com",
        "a3phrase0shouldhearbyfri@google.com",
        "a4phrase0decisionnextweek@google.com",
    }


# -- not_a_calendar_html.ics ------------------------------------------------------------

def test_html_page_is_an_input_error():
    with pytest.raises(ics.InputError):
        read("not_a_calendar_html.ics")


def test_html_page_cli_exit_2_one_line():
    r = cli("plan", "--json", "--now", "2026-03-01T08:00", "--timezone", ZONE,
            "--ics", data("not_a_calendar_html.ics"))
    assert r.code == 2
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert "not_a_calendar_html.ics" in r.err


# -- example_busy_day.ics ---------------------------------------------------------------

UMBRELLA = "4u6w8y0a2c4e6g8i0k2m4o6q8s@google.com"


def test_busy_day_interview():
    sd = read(BUSY_DAY)
    assert uids(sd) == {UMBRELLA}
    iv = one(sd, UMBRELLA)
    assert (iv.company, iv.role) == ("Umbrella Co", None)
    assert_times(iv, "2026-03-03T14:00:00Z", "2026-03-03T14:30:00Z")
    assert iv.employer_tz == "America/New_York"
    assert iv.interviewers == people(("Nora Blake", "nora.blake@umbrellaco.com"))
    assert iv.recruiter == Person("Alice Kim", "alice.kim@umbrellaco.com")
    assert iv.instruction is None


def test_busy_day_busy_times():
    sd = read(BUSY_DAY)
    # opaque, confirmed: busy; together they take 10:00-11:30 on Tue 2026-03-10
    assert covers(sd, "2026-03-10T14:00:00Z", "2026-03-10T14:45:00Z")
    assert covers(sd, "2026-03-10T14:45:00Z", "2026-03-10T15:30:00Z")
    # TRANSP:TRANSPARENT webinar: free
    assert not overlaps(sd, "2026-03-11T14:00:00Z", "2026-03-11T15:00:00Z")


def test_busy_day_tentative_is_not_busy():
    # README calls the conservative reading "busy"; DESIGN.md is silent and
    # Detector.busy treats STATUS:TENTATIVE as free. This test follows the code.
    sd = read(BUSY_DAY)
    assert not overlaps(sd, "2026-03-12T14:00:00Z", "2026-03-12T15:00:00Z")


# -- who the candidate is ---------------------------------------------------------------

NON_GOOGLE = [  # OUTLOOK_QUOTED names its owner (X-OWNER): tested on its own below
    OUTLOOK_UNQUOTED, APPLE, "event_status_cancelled.ics",
    "event_dt_floating.ics", "event_dt_unknown_tzid.ics", "event_cp1252_accents.ics",
    "event_utf8_bom.ics", "event_broken_among_good.ics",
]
GOOGLE_FILES = [GOOGLE, SERIES, "event_declined_by_me.ics", PHRASES, BUSY_DAY]


@pytest.mark.parametrize("name", NON_GOOGLE)
def test_without_me_the_candidate_is_inferred_and_never_an_interviewer(name):
    sd = read(name, me=())
    assert sd.interviews
    assert sd.me == frozenset({ME})
    assert any(ME in w for w in sd.warnings), sd.warnings  # said, not silently assumed
    for iv in sd.interviews:
        assert ME not in emails(iv.interviewers)
        assert "sam carter" not in {(p.name or "").lower() for p in iv.interviewers}
    # the same interviewers as when the candidate is configured
    configured = read(name)
    assert {iv.identity: iv.interviewers for iv in sd.interviews} == {
        iv.identity: iv.interviewers for iv in configured.interviews}


@pytest.mark.parametrize("name", GOOGLE_FILES)
def test_google_files_take_the_candidate_from_x_wr_calname(name):
    sd = read(name, now=SERIES_NOW if name == SERIES else NOW, me=())
    assert sd.interviews
    assert sd.me == frozenset({ME})
    assert not any("assuming" in w for w in sd.warnings), sd.warnings
    for iv in sd.interviews:
        assert ME not in emails(iv.interviewers)


def test_outlook_x_owner_says_who_the_candidate_is():
    """Outlook 16 writes X-OWNER: no --me needed, no guessing, no warning."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from followup_cal.calendars.ics import read_sources
    from followup_cal.config import Settings

    now = datetime(2026, 3, 1, 8, tzinfo=ZoneInfo("America/New_York"))
    data = read_sources([str(DATA / "outlook_windows_tzid_quoted.ics")],
                        Settings(timezone="America/New_York"), now)
    assert data.me == frozenset({"sam.carter@gmail.com"})
    assert not any("assuming you are" in w for w in data.warnings)
    assert all(p.email != "sam.carter@gmail.com" for iv in data.interviews
               for p in iv.interviewers)


@pytest.mark.parametrize("user_zone", ["Europe/London", "Asia/Tokyo", "America/New_York"])
def test_windows_and_custom_outlook_zones_map_to_the_main_iana_zone(user_zone):
    """'Eastern Standard Time' is New York (not Grand Turk, which shares its 2026 rules),
    and '(UTC-06:00) Central Time (US & Canada)' is Chicago, whoever reads the file."""
    from followup_cal.calendars.ics import read_sources

    now = datetime(2026, 3, 1, 8, tzinfo=ZoneInfo(user_zone))
    paths = [data("outlook_windows_tzid_unquoted.ics"), data("outlook_windows_tzid_quoted.ics")]
    found = read_sources(paths, Settings(timezone=user_zone, me=(ME,)), now)
    zones = {iv.company: iv.employer_tz for iv in found.interviews}
    assert zones == {"Vandelay Industries": "America/New_York",
                     "Pendant Publishing": "America/Chicago", "Initech": "America/Los_Angeles"}


def test_patterns_joined_only_where_that_means_the_same():
    """One search per summary instead of one per pattern, where joining is safe."""
    import re

    from followup_cal.detect import Detector, _any_of

    joined = _any_of(Settings().interview_patterns)
    assert len(joined) == 1
    for summary in ("Phone screen - Acme", "Onsite @ Globex", "Lunch", "interviewing"):
        assert bool(joined[0].search(summary)) == any(
            re.search(p, summary, re.I) for p in Settings().interview_patterns)
    # a back-reference, a named group twice, a flag of its own: kept one by one
    for patterns in ([r"(ab)\1", "x"], [r"(?P<n>a)", r"(?P<n>b)"], [r"(?x) a b", "c"]):
        assert len(_any_of(patterns)) == 2
    backref = Detector.build(Settings(interview_patterns=(r"(ab)\1", r"(cd)\1")), ())
    assert backref.is_interview_summary("cdcd") and not backref.is_interview_summary("abcd")
