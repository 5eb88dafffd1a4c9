"""The streaming pre-filter: same plan as the full parse, on much less text (issue 5)."""

from __future__ import annotations

import importlib.util
import re
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from followup_cal.calendars import prefilter as prefiltering
from followup_cal.calendars.ics import Reading, read_events
from followup_cal.calendars.prefilter import prefilter
from followup_cal.config import Settings
from followup_cal.detect import Detector
from followup_cal.model import CalendarEvent

from conftest import DATA, ZONE, cli

# Windows that cut through the fixtures (mostly March-April 2026) at both ends,
# so interviews, busy times and recurring series fall in and out of them.
NOWS = ("2026-03-20T09:00", "2026-05-12T12:00", "2025-12-15T08:00", "2026-08-30T10:00")
KEEP = Detector.build(Settings(), ()).is_interview_summary
UTC = timezone.utc


def _fresh_zones() -> None:
    """icalendar caches VTIMEZONEs process-wide; each run starts as a new process would."""
    from icalendar.timezone import tzp

    cache = getattr(tzp, "_TZP__tz_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def _plan(path: str, now: str, enabled: bool, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(prefiltering, "ENABLED", enabled)
    r = cli("plan", "--json", "--ics", path, "--now", now, "--timezone", ZONE)
    return r.code, r.out, r.err


def _events(path: str, now: str, enabled: bool) -> list[str]:
    """The occurrences read, in a stable order (recurring_ical_events yields them in an
    order that can change from one call to the next, even for the same calendar).

    An interview in full; any other event as a busy time is read from it (the filter
    keeps no summary, notes, people or alarms of events that are only busy times)."""
    from followup_cal.detect import Window

    settings = Settings(timezone=ZONE)
    when = datetime.fromisoformat(now).replace(tzinfo=ZoneInfo(ZONE))
    since = Window.around(when, settings).busy_start  # busy times before it are never used
    events = read_events([path], settings, when, Reading(), prefilter=enabled)
    return sorted(_seen(e) for e in events if KEEP(e.summary) or (
        e.end > since.date() if e.all_day else e.end > since))


def _seen(e: CalendarEvent) -> str:
    if KEEP(e.summary):
        return repr(e)
    declined = tuple(a for a in e.attendees if a.partstat.upper() == "DECLINED")
    # nor the stamps of a busy time whose UID the file holds once (prefilter.STAMPS)
    return repr(replace(e, summary="", description="", organizer=None, attendees=declined,
                        stamp=None))


# -- same plan on every test calendar -----------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.ics")))
def test_same_plan_with_and_without_prefilter(name, monkeypatch):
    path = str(DATA / name)
    _fresh_zones()  # the filtered text runs first: it must bring its own VTIMEZONEs
    for now in NOWS:
        fast = _plan(path, now, True, monkeypatch)
        full = _plan(path, now, False, monkeypatch)
        if full[0] == 2:  # not a calendar: both paths refuse it with the same line
            assert fast == full
            continue
        assert full[0] == 0, full[2]
        assert fast[:2] == full[:2], f"{name} at {now}"
        assert _events(path, now, True) == _events(path, now, False), f"{name} at {now}"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.ics")))
def test_plain_events_read_without_the_expander_as_with_it(name, monkeypatch):
    """ics.occurrences reads a plain single event itself: every occurrence the
    expander gives is still there, and the plan is the same."""
    from followup_cal.calendars import ics

    path = str(DATA / name)
    for now in NOWS:
        try:
            own = _events(path, now, True)
        except ics.InputError:
            continue
        mine = _plan(path, now, True, monkeypatch)
        monkeypatch.setattr(ics, "SERIES", (*ics.SERIES, "DTSTART"))  # all through it
        expanded = _events(path, now, True)
        assert set(expanded) <= set(own), f"{name} at {now}"
        assert _plan(path, now, True, monkeypatch) == mine, f"{name} at {now}"
        monkeypatch.undo()


def test_the_windows_exercise_the_filter():
    """The comparison above is only worth something if the filter drops events in it
    (most fixtures hold only interviews, which are kept whatever their date)."""
    settings = Settings(timezone=ZONE)
    from followup_cal.detect import Window

    cut = set()
    for path in DATA.glob("*.ics"):
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        for now in NOWS:
            w = Window.around(datetime.fromisoformat(now).replace(tzinfo=ZoneInfo(ZONE)), settings)
            if len(prefilter(text, KEEP, w.start, w.busy_end)) < len(text):
                cut.add(path.name)
    assert len(cut) >= 6, cut


def test_quirk_fixtures_plan_and_differ_from_a_naive_filter(monkeypatch):
    """Folded keyword, override before master, X-WR-TIMEZONE: real plans, kept events."""
    for name, company in [("prefilter_keyword_folded.ics", "Umbrella"),
                          ("prefilter_override_before_master.ics", "Initech"),
                          ("prefilter_lowercase_two_calendars_lf.ics", "Stark Industries"),
                          ("google_utc_x_wr_timezone.ics", None)]:
        code, out, err = _plan(str(DATA / name), NOWS[0], True, monkeypatch)
        assert code == 0, err
        if company:
            assert f'"company": "{company}"' in out
    # the folded keyword keeps an interview from the start of the interview window
    # (here: 2018), where busy times are looked for only from 2030
    text = (DATA / "prefilter_keyword_folded.ics").read_bytes().decode()
    out = prefilter(text, KEEP, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 6, 1, tzinfo=UTC),
                    since=datetime(2018, 1, 1, tzinfo=UTC))
    assert re.findall(r"(?m)^UID:(.*?)\r$", out) == ["folded-keyword-1@google.com",
                                                     "folded-keyword-old@google.com"]
    out = prefilter(text, KEEP, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 6, 1, tzinfo=UTC))
    assert "BEGIN:VEVENT" not in out  # an interview before the window cannot matter
    # the call moves off the 10:00 meeting kept as a busy time
    _, out, _ = _plan(str(DATA / "prefilter_keyword_folded.ics"), NOWS[0], True, monkeypatch)
    assert '"start": "2026-03-24T11:00:00-04:00"' in out
    # the occurrence moved to November stays moved: no interview on March 24
    _, out, _ = _plan(str(DATA / "prefilter_override_before_master.ics"), NOWS[0], True,
                      monkeypatch)
    assert "2026-03-24" not in out and '"company": "Massive Dynamic"' in out


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_export", Path(__file__).parents[1] / "benchmarks" / "bench_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_export_same_plan(tmp_path, monkeypatch):
    """The benchmark's ten-year export, small: same plan at interviews old and new."""
    text = _bench().generate(240, now="2026-03-20T09:00:00", zone=ZONE, seed=11,
                             interview_share=0.05)
    path = tmp_path / "export.ics"
    path.write_text(text, encoding="utf-8", newline="")
    starts = sorted(re.findall(r"DTSTART[^\r\n]*:(\d{8})T[^\r\n]*\r\n(?:[^\r\n]*\r\n)*?"
                               r"SUMMARY:[^\r\n]*(?:[Ii]nterview|screen)", text))
    nows = ["2026-03-20T09:00", f"{starts[len(starts) // 2][:4]}-{starts[len(starts) // 2][4:6]}"
            f"-{starts[len(starts) // 2][6:]}T18:00"]
    planned = 0
    _fresh_zones()
    for now in nows:
        fast = _plan(str(path), now, True, monkeypatch)
        full = _plan(str(path), now, False, monkeypatch)
        assert full[0] == 0, full[2]
        assert fast[:2] == full[:2], now
        planned += full[1].count('"kind"')
    assert planned > 0
    w_start = datetime(2026, 1, 19, tzinfo=UTC)
    assert len(prefilter(text, KEEP, w_start, datetime(2026, 7, 16, tzinfo=UTC))) < len(text) / 3


# -- what the filter keeps -------------------------------------------------------------

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
END = datetime(2026, 4, 1, 12, tzinfo=UTC)


def ev(uid: str, start: str | None, end: str | None = None, summary: str = "Meeting",
       *extra: str) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z"]
    if start is not None:
        lines.append(start if ":" in start else f"DTSTART:{start}")
    if end is not None:
        lines.append(end if ":" in end else f"DTEND:{end}")
    lines += [f"SUMMARY:{summary}", *extra, "END:VEVENT"]
    return "\n".join(lines)


def cal(*parts: str, nl: str = "\r\n") -> str:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "X-WR-CALNAME:me@example.com",
            "X-WR-TIMEZONE:Europe/Berlin"]
    return "\n".join([*head, *parts, "END:VCALENDAR", ""]).replace("\r\n", "\n").replace("\n", nl)


def kept(text: str, since: datetime | None = None) -> list[str]:
    out = prefilter(text, KEEP, START, END, since=since)
    return [u.strip() for u in re.findall(r"(?im)^uid:(.*)$", out)]


VTIMEZONE = "\n".join([
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
    "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE"])


def test_keeps_what_can_matter_and_drops_the_rest():
    text = cal(
        VTIMEZONE,
        ev("in-window", "20260310T100000Z", "20260310T110000Z"),
        ev("old", "20190310T100000Z", "20190310T110000Z"),
        ev("later", "20270310T100000Z", "20270310T110000Z"),
        ev("old-interview", "20190310T100000Z", "20190310T110000Z", "Interview with Acme"),
        ev("recent-interview", "20260115T100000Z", "20260115T110000Z", "Interview with Acme"),
        ev("recent-gym", "20260115T100000Z", "20260115T110000Z", "Gym"),
        ev("excluded", "20260115T100000Z", "20260115T110000Z", "Mock interview"),
        ev("margin-before", "20260227T150000Z", "20260227T160000Z"),
        ev("too-early", "20260225T100000Z", "20260225T110000Z"),
        ev("margin-after", "20260402T230000Z", "20260403T000000Z"),
        ev("too-late", "20260405T100000Z", "20260405T110000Z"),
        ev("long-trip", "DTSTART;VALUE=DATE:20260201", "DTEND;VALUE=DATE:20260305"),
        ev("zoned", "DTSTART;TZID=Europe/Berlin:20260315T090000",
           "DTEND;TZID=Europe/Berlin:20260315T100000"),
        ev("quoted-zone", 'DTSTART;TZID="(UTC+01:00) Amsterdam, Berlin":20260315T090000',
           'DTEND;TZID="(UTC+01:00) Amsterdam, Berlin":20260315T100000'),
        ev("duration", "20260228T100000Z", None, "Workshop", "DURATION:P2D"),
        ev("short-duration", "20260220T100000Z", None, "Workshop", "DURATION:PT1H"),
        ev("forever", "20150105T090000Z", "20150105T100000Z", "Gym", "RRULE:FREQ=WEEKLY"),
        ev("ended", "20150105T090000Z", "20150105T100000Z", "Gym",
           "RRULE:FREQ=WEEKLY;UNTIL=20200101T000000Z"),
        ev("ends-in-window", "20150105T090000Z", "20150105T100000Z", "Gym",
           "RRULE:FREQ=WEEKLY;UNTIL=20260302"),
        ev("counted", "20150105T090000Z", "20150105T100000Z", "Gym", "RRULE:FREQ=DAILY;COUNT=3"),
        ev("rdate", "20150105T090000Z", "20150105T100000Z", "Gym", "RDATE:20260310T090000Z"),
        ev("rdate-first", "20270105T090000Z", "20270105T100000Z", "Gym",
           "RDATE:20260310T090000Z"),
        ev("starts-later", "20270105T090000Z", "20270105T100000Z", "Gym", "RRULE:FREQ=WEEKLY"),
        ev("bad-start", "2026-03-10", None, "Yoga"),
        ev("no-start", None, None, "Yoga"),
        ev("ends-before-start", "20190310T100000Z", "20190309T100000Z"),
        "BEGIN:VTODO\nUID:todo\nDTSTAMP:20260101T000000Z\nSUMMARY:Interview prep\nEND:VTODO",
        "BEGIN:VJOURNAL\nUID:journal\nDTSTAMP:20260101T000000Z\nEND:VJOURNAL",
        "BEGIN:VFREEBUSY\nUID:freebusy\nDTSTAMP:20260101T000000Z\nEND:VFREEBUSY",
        "BEGIN:X-VENDOR-THING\nUID:vendor\nEND:X-VENDOR-THING",
    )
    assert kept(text, since=datetime(2026, 1, 1, tzinfo=UTC)) == [
        "in-window", "recent-interview", "margin-before", "margin-after", "long-trip", "zoned",
        "quoted-zone", "duration", "forever", "ends-in-window", "counted", "rdate", "rdate-first",
        "bad-start",
        "no-start", "ends-before-start", "vendor",
    ]
    out = prefilter(text, KEEP, START, END)
    for line in ("X-WR-TIMEZONE:Europe/Berlin", "X-WR-CALNAME:me@example.com", "PRODID:-//test//EN",
                 "BEGIN:VTIMEZONE", "TZID:Europe/Berlin"):
        assert f"\r\n{line}\r\n" in out


def test_keyword_folded_anywhere_and_escaped():
    folded = "\r\n".join(["BEGIN:VEVENT", "UID:folded", "DTSTART:20190310T100000Z",
                          "SUMMARY:Phone scr", " een: Acme", "END:VEVENT"])
    tabbed = "\r\n".join(["BEGIN:VEVENT", "UID:tabbed", "DTSTART:20190310T100000Z",
                          "SUMMARY;LANGUAGE=en:Final\\nro", "\tund\\, Acme", "END:VEVENT"])
    gym = ev("gym", "20190310T100000Z", None, "Gym")
    since = datetime(2019, 1, 1, tzinfo=UTC)  # busy times from START only
    assert kept(cal(folded, gym, tabbed), since) == ["folded", "tabbed"]


def test_series_and_overrides_share_a_fate_in_any_order():
    override = ev("series", "20270101T100000Z", "20270101T110000Z", "Moved",
                  "RECURRENCE-ID:20260310T100000Z")
    master = ev("series", "20260303T100000Z", "20260303T110000Z", "Sync",
                "RRULE:FREQ=WEEKLY;COUNT=4")
    old_override = ev("old", "20190312T100000Z", "20190312T110000Z", "Sync",
                      "RECURRENCE-ID:20190311T100000Z")
    old_master = ev("old", "20190304T100000Z", "20190304T110000Z", "Sync",
                    "RRULE:FREQ=WEEKLY;UNTIL=20190401T000000Z")
    interview_override = ev("hm", "20190312T100000Z", "20190312T110000Z", "Hiring manager chat",
                            "RECURRENCE-ID:20190311T100000Z")
    plain_master = ev("hm", "20190304T100000Z", "20190304T110000Z", "Sync",
                      "RRULE:FREQ=WEEKLY;UNTIL=20190401T000000Z")
    text = cal(override, old_override, interview_override, master, old_master, plain_master)
    # interviews looked for since 2019, busy times from START: the old plain series goes
    assert kept(text, datetime(2019, 1, 1, tzinfo=UTC)) == ["series", "hm", "series", "hm"]
    assert kept(text) == ["series", "series"]


def test_line_endings_case_and_several_calendars():
    parts = (VTIMEZONE, ev("a", "20260310T100000Z", "20260310T110000Z"),
             ev("b", "20190310T100000Z", "20190310T110000Z"))
    crlf, lf = cal(*parts), cal(*parts, nl="\n")
    lower = re.sub(r"(?m)^(BEGIN|END|UID|DTSTART|DTEND|SUMMARY)",
                   lambda m: m.group(1).lower(), crlf)
    two = crlf + cal(ev("c", "20190310T100000Z"), ev("d", "20260311T100000Z"))
    assert kept(crlf) == kept(lf) == ["a"]
    assert kept(lower) == ["a"] and prefilter(lower, KEEP, START, END) != lower
    assert kept(two) == ["a", "d"]
    assert prefilter(two, KEEP, START, END).count("BEGIN:VCALENDAR") == 2


def test_nested_alarm_is_part_of_its_event():
    """An alarm's own SUMMARY is not its event's; kept events are read without alarms."""
    alarm = ["BEGIN:VALARM", "ACTION:DISPLAY", "SUMMARY:Interview soon", "DESCRIPTION:x",
             "TRIGGER:-PT15M", "END:VALARM"]
    text = cal(ev("old", "20190310T100000Z", "20190310T110000Z", "Gym", *alarm),
               ev("new", "20260310T100000Z", "20260310T110000Z", "Gym", *alarm),
               ev("iv", "20260311T100000Z", "20260311T110000Z", "Interview with Acme", *alarm))
    out = prefilter(text, KEEP, START, END)
    assert kept(text) == ["new", "iv"]
    assert "VALARM" not in out and "Interview soon" not in out


def test_busy_times_keep_only_what_they_are_read_from():
    """An event kept only as a busy time loses its summary, notes, people and place,
    and lines that say the default; one kept as an interview (or in an interview's
    series) keeps them; none loses a line the reader uses (ics.to_events)."""
    people = ["ORGANIZER;CN=Ann:mailto:ann@acme.com",
              "ATTENDEE;PARTSTAT=ACCEPTED;CN=Bo:mailto:bo@acme.com",
              "ATTENDEE;CN=Me;PARTSTAT=DECL", " INED:mailto:me@example.com",
              "DESCRIPTION:call me\\, maybe", "SEQUENCE:0", "LOCATION:Room 4",
              "X-FOLLOWUP-CAL-KIND:call", "TRANSP:OPAQUE", "STATUS:TENTATIVE"]
    text = cal(ev("busy", "20260310T100000Z", "20260310T110000Z", "Gym", *people,
                  "RRULE:FREQ=WEEKLY", "EXDATE:20260317T100000Z"),
               ev("moved", "20260311T100000Z", "20260311T110000Z", "Gym", "SEQUENCE:2",
                  "RECURRENCE-ID:20260324T100000Z"),
               ev("iv", "20260312T100000Z", "20260312T110000Z", "Phone screen: Acme", *people),
               ev("iv", "20260313T100000Z", "20260313T110000Z", "Moved", *people,
                  "RECURRENCE-ID:20260319T100000Z"))
    out = prefilter(text, KEEP, START, END)
    events = re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", out, re.S)
    busy, moved, iv, iv_moved = ([line.split(":")[0].split(";")[0] for line in
                                  re.split(r"\r\n(?! )", e.strip())] for e in events)
    # SEQUENCE tells versions of one event apart (versions.merge); a busy time's
    # DTSTAMP only where the file holds its UID twice, and so its SEQUENCE:0 (alone,
    # it says what no SEQUENCE says)
    assert busy == ["UID", "DTSTART", "DTEND", "ATTENDEE",
                    "X-FOLLOWUP-CAL-KIND", "STATUS", "RRULE", "EXDATE"]  # TRANSP:OPAQUE: default
    assert "DECL\r\n INED" in events[0]  # the declined attendee, fold and all
    assert moved == ["UID", "DTSTART", "DTEND", "SEQUENCE", "RECURRENCE-ID"]
    full = ["UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "ATTENDEE",
            "ATTENDEE", "DESCRIPTION", "SEQUENCE", "X-FOLLOWUP-CAL-KIND", "TRANSP", "STATUS"]
    assert iv == full and iv_moved == [*full, "RECURRENCE-ID"]
    assert "LOCATION" not in out
    # two versions of one busy time in a file: both keep their stamps
    text = cal(ev("gym", "20260310T100000Z", "20260310T110000Z", "Gym", "SEQUENCE:1"),
               ev("gym", "20260311T100000Z", "20260311T110000Z", "Gym", "SEQUENCE:1",
                  "LAST-MODIFIED:20260305T000000Z"))
    out = prefilter(text, KEEP, START, END)
    assert out.count("DTSTAMP:") == 2 and "LAST-MODIFIED:20260305T000000Z" in out
    # a series' SEQUENCE:0 beside an override without one: recurring-ical-events
    # tells the two apart, so it stays
    text = cal(ev("wk", "20260310T100000Z", "20260310T110000Z", "Gym", "SEQUENCE:0",
                  "RRULE:FREQ=WEEKLY"),
               ev("wk", "20260318T100000Z", "20260318T110000Z", "Gym",
                  "RECURRENCE-ID:20260317T100000Z"))
    out = prefilter(text, KEEP, START, END)
    assert out.count("SEQUENCE:0") == 1 and out.count("DTSTAMP:") == 2
    # all day, TRANSP:OPAQUE is what makes it busy (ics.to_events); a repeated line is
    # not the default's (icalendar reads a list)
    text = cal(ev("day", "DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260311", "Trip",
                  "TRANSP:OPAQUE", "STATUS:CONFIRMED"),
               ev("twice", "20260310T100000Z", "20260310T110000Z", "Gym", "STATUS:CONFIRMED",
                  "STATUS:CONFIRMED", "SEQUENCE:0"))
    day, twice = re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", prefilter(text, KEEP, START, END),
                            re.S)
    assert "TRANSP:OPAQUE" in day and "STATUS" not in day
    assert twice.count("STATUS:CONFIRMED") == 2 and "SEQUENCE" not in twice  # a lone UID
    # no UID: ics.prepare makes one from the whole text, so all of it stays
    no_uid = "\n".join(["BEGIN:VEVENT", "DTSTART:20260310T100000Z", "DTEND:20260310T110000Z",
                        "SUMMARY:Gym", "DESCRIPTION:bring shoes", "END:VEVENT"])
    assert "DESCRIPTION:bring shoes" in prefilter(cal(no_uid), KEEP, START, END)
    # an old interview series kept for an occurrence moved into the window keeps its people
    old = ev("old-iv", "20190304T100000Z", "20190304T110000Z", "Interview with Acme", *people,
             "RRULE:FREQ=WEEKLY;UNTIL=20190401T000000Z")
    moved_in = ev("old-iv", "20260311T100000Z", "20260311T110000Z", "Sync",
                  "RECURRENCE-ID:20190311T100000Z", *people)
    out = prefilter(cal(old, moved_in), KEEP, START, END)
    master, override = re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", out, re.S)
    assert "ORGANIZER" in master and "DESCRIPTION" in master
    assert "ORGANIZER" not in override and "DESCRIPTION" not in override


def test_output_is_the_original_lines_in_order():
    long = "DESCRIPTION:" + "word " * 60
    folded = [long[:75]] + [" " + long[i:i + 74] for i in range(75, len(long), 74)]
    text = cal(VTIMEZONE, ev("a", "20260310T100000Z", None, "Interview", *folded),
               ev("b", "20190310T100000Z", None, "Gym", *folded),
               ev("c", "DTSTART;TZID=Europe/Berlin:20260315T090000", None, "Final round",
                  *folded),
               ev("d", "20260310T100000Z", None, "Gym", *folded))
    out = prefilter(text, KEEP, START, END)
    original = iter(text.split("\r\n"))
    assert all(line in original for line in out.split("\r\n"))  # a subsequence, in order
    assert out.count(folded[1]) == 2 and "UID:b\r\n" not in out and "UID:d\r\n" in out


@pytest.mark.parametrize("text", [
    "<html><body>404</body></html>",
    "",
    " BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    cal(ev("a", "20190310T100000Z").replace("BEGIN:VEVENT", "BEGIN;X-A=1:VEVENT")),
    cal(ev("a", "20190310T100000Z").replace("END:VEVENT", "END:VEV\r\n ENT")),
    cal(ev("a", "20190310T100000Z").replace("END:VEVENT", "END:VEVENT ")),
    cal(ev("a", "20190310T100000Z").replace("END:VEVENT", "END :VEVENT")),
    cal(ev("a", "20190310T100000Z").replace("END:VEVENT", "E\r\n ND:VEVENT")),
    cal(ev("a", "20190310T100000Z").replace("SUMMARY:Meeting", "SUMMARY:Meet\r\n\r\n ing")),
    cal(ev("a", "20190310T100000Z").replace("END:VEVENT", "END:VTODO")),
    cal(ev("a", "20190310T100000Z")).replace("END:VCALENDAR\r\n", ""),
    cal(ev("a", "20190310T100000Z")) + "X-TRAILING:1\r\n",
    "PRODID:x\r\n" + cal(ev("a", "20190310T100000Z")),
    cal(ev("a", "20190310T100000Z")) + "BEGIN:VEVENT\r\nEND:VEVENT\r\n",
])
def test_text_it_cannot_be_sure_of_is_returned_whole(text):
    assert prefilter(text, KEEP, START, END) is text


def test_a_line_icalendar_cannot_read_keeps_its_component():
    odd = ev("odd", "20190310T100000Z", None, "Gym", "this line has no colon")
    odd_alarm = ev("odd-alarm", "20190310T100000Z", None, "Gym", "BEGIN:VALARM",
                   "TRIGGER:-PT5M", "garbage", "END:VALARM")
    todo = "BEGIN:VTODO\nUID:todo\nnot a property\nEND:VTODO"
    fine = ev("fine", "20190310T100000Z", None, "Gym", "X-Vendor_name.x:1")
    assert kept(cal(odd, odd_alarm, todo, fine)) == ["odd", "odd-alarm", "todo"]


@pytest.mark.parametrize("bad", [
    'SUMMARY;X-A="' + "a" * 300_000 + ":x",
    "X-NO-COLON" + "a" * 300_000,
    "\r\n" * 200_000,
    "DESCRIPTION:x" + "\r\n :" * 100_000,
    "DTSTART;" + ";" * 200_000 + ":1",
])
def test_no_backtracking_blowup(bad):
    text = cal(ev("a", "20190310T100000Z", None, "Gym", bad))
    t0 = time.perf_counter()
    prefilter(text, KEEP, START, END)
    assert time.perf_counter() - t0 < 2.0


def test_scales_linearly_and_fast():
    """Twenty times the events: about twenty times the time (no quadratic step)."""
    one = ev("e{}", "20190310T100000Z", "20190310T110000Z", "Gym", "DESCRIPTION:" + "x" * 200)
    small = cal(*(one.format(i) for i in range(500)))
    large = cal(*(one.format(i) for i in range(10_000)))

    def best(text: str) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            prefilter(text, KEEP, START, END)
            times.append(time.perf_counter() - t0)
        return min(times)

    assert best(large) < 60 * best(small) + 0.05
    assert kept(large) == []


# -- random calendars: the same occurrences either way ------------------------------------

def _stamp(t: datetime, all_day: bool, zone: str) -> str:
    if all_day:
        return f";VALUE=DATE:{t:%Y%m%d}"
    return f"{zone}:{t:%Y%m%dT%H%M%S}" if zone.startswith(";") else f":{t:%Y%m%dT%H%M%S}{zone}"


def _random_calendar(draw) -> str:
    from datetime import timedelta

    from hypothesis import strategies as st

    base = datetime(2026, 3, 20, 9)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN"]
    if draw(st.booleans()):
        lines.append("X-WR-TIMEZONE:Europe/Berlin")
    for i in range(draw(st.integers(1, 7))):
        uid = draw(st.sampled_from(["a", "b", "c", f"own-{i}"]))
        start = base + timedelta(days=draw(st.integers(-400, 400)), hours=draw(st.integers(0, 23)))
        all_day = draw(st.booleans())
        zone = draw(st.sampled_from(["", "Z", ";TZID=Europe/Berlin", ";TZID=America/New_York"]))

        length = timedelta(days=draw(st.integers(1, 3))) if all_day else timedelta(
            minutes=draw(st.sampled_from([0, 30, 90, 60 * 30])))
        ev_lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                    draw(st.sampled_from([f"DTSTART{_stamp(start, all_day, zone)}"] * 9
                                         + ["DTSTART:2026031X", "X-Vendor_note.1:x"]))]
        end = _stamp(start + length, all_day, zone)
        until = start + timedelta(days=draw(st.integers(0, 300)))
        moved = _stamp(start - timedelta(days=draw(st.integers(-60, 60))), all_day, zone)
        ev_lines.append(draw(st.sampled_from(
            [f"DTEND{end}", "", f"DURATION:P{length.days}DT{length.seconds}S"])))
        ev_lines.append(draw(st.sampled_from([
            "", "", "RRULE:FREQ=WEEKLY", "RRULE:FREQ=DAILY;COUNT=5",
            f"RRULE:FREQ=WEEKLY;UNTIL={until:%Y%m%d}", f"RECURRENCE-ID{moved}"])))
        ev_lines.append("SUMMARY:" + draw(st.sampled_from(
            ["Gym", "Interview with Acme", "Phone screen: Globex (Analyst)", "Mock interview"])))
        ev_lines.append(draw(st.sampled_from(["", "STATUS:CANCELLED", "TRANSP:TRANSPARENT"])))
        ev_lines += draw(st.lists(st.sampled_from([  # what a trimmed event may lose or keep
            "SEQUENCE:0", "SEQUENCE:2", "DESCRIPTION:Interview notes\\, by Friday",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.com",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@acme.com", "ORGANIZER:mailto:ann@acme.com",
            "X-FOLLOWUP-CAL-KIND:call", "LOCATION:Room 4", "STATUS:CONFIRMED", "TRANSP:OPAQUE",
            "STATUS:TENTATIVE"]), max_size=3))
        if draw(st.booleans()):
            ev_lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "END:VALARM"]
        ev_lines.append("END:VEVENT")
        lines += [line for line in ev_lines if line]
        if draw(st.integers(0, 9)) == 0:
            lines += ["BEGIN:VTODO", f"UID:{uid}", "SUMMARY:Interview prep", "END:VTODO"]
    lines.append("END:VCALENDAR")
    width = draw(st.integers(8, 80))
    folded = []
    for line in lines:  # fold anywhere past the name, as exporters may
        folded.append(line[:width])
        folded += [" " + line[j:j + width] for j in range(width, len(line), width)]
    if draw(st.booleans()):
        folded = [re.sub(r"^(BEGIN|END|SUMMARY|DTSTART|UID)", lambda m: m.group(1).lower(), x)
                  for x in folded]
    return draw(st.sampled_from(["\r\n", "\n"])).join(folded) + "\r\n"


def test_random_calendars_same_occurrences(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = tmp_path / "fuzz.ics"

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        text = data.draw(st.composite(lambda draw: _random_calendar(draw))())
        path.write_text(text, encoding="utf-8", newline="")
        for now in NOWS[:2]:
            fast = full = None
            try:
                fast = _events(str(path), now, True)
            except Exception as exc:  # noqa: BLE001 - both paths must fail alike
                fast = type(exc)
            try:
                full = _events(str(path), now, False)
            except Exception as exc:  # noqa: BLE001
                full = type(exc)
            assert fast == full, text

    check()


# -- the encoding, found from what is read -------------------------------------------------

@pytest.mark.parametrize("where", ["kept notes", "dropped summary", "kept summary"])
def test_cp1252_is_found_from_what_the_filter_reads(where):
    """Without a BOM: UTF-8 if everything decoded reads as UTF-8, else cp1252, as
    ics.decode decides for the whole file (which costs a pass over all of it)."""
    from followup_cal.calendars.ics import filtered_text

    notes = "DESCRIPTION:Société Générale" if where == "kept notes" else "DESCRIPTION:x"
    old = "Café Müller" if where == "dropped summary" else "Gym"
    summary = "Interview: Société Générale" if where == "kept summary" else "Interview: Acme"
    text = cal(ev("iv", "20260310T100000Z", "20260310T110000Z", summary, notes),
               ev("old", "20190310T100000Z", "20190310T110000Z", old))
    out = filtered_text(text.encode("cp1252"), KEEP, START, END)
    assert "UID:iv" in out and "UID:old" not in out
    assert "Ã" not in out and "\ufffd" not in out
    if where != "dropped summary":
        assert "Société Générale" in out
    assert filtered_text(text.encode("utf-8"), KEEP, START, END) == out
