"""Which version of an event is true: the newest, whatever order the inputs come in
(issue 10). Files: an export, a later invite update and an Outlook cancellation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup_cal.model import CalendarEvent
from followup_cal.versions import merge

from conftest import cli, data, plan_json

NOW = "2026-03-20T09:00"
EXPORT, UPDATE, CANCEL = ("sequence_export_original.ics", "sequence_update_new_time.ics",
                          "method_cancel_outlook.ics")
UTC = timezone.utc


def _starts(plan: list[dict], company: str) -> set[str]:
    return {f["start"][:10] for f in plan if f["company"] == company}


@pytest.mark.parametrize("files", [(EXPORT, UPDATE), (UPDATE, EXPORT)])
def test_the_update_with_a_higher_sequence_wins_in_either_order(files):
    """SEQUENCE 2 moved the onsite from Tuesday 24th to Thursday 26th; the export
    (SEQUENCE 0) has the later DTSTAMP, as Google stamps every event at export."""
    plan = plan_json(*files, now=NOW)
    prep = [f for f in plan if f["company"] == "Initech" and f["kind"] == "prep"]
    assert [f["start"][:10] for f in prep] == ["2026-03-26"]
    assert "2026-03-24" not in _starts(plan, "Initech")
    assert "Globex" in {f["company"] for f in plan}  # not touched by the update


@pytest.mark.parametrize("files", [(EXPORT, CANCEL), (CANCEL, EXPORT)])
def test_an_outlook_cancellation_cancels_in_either_order(files):
    plan = plan_json(*files, now=NOW)
    assert "Globex" not in {f["company"] for f in plan}
    assert "Initech" in {f["company"] for f in plan}


@pytest.mark.parametrize("order", [(EXPORT, UPDATE, CANCEL), (CANCEL, UPDATE, EXPORT),
                                   (UPDATE, CANCEL, EXPORT)])
def test_export_writes_the_same_file_in_any_order(order, tmp_path, home):
    outs = []
    for files in (order, order[::-1]):
        out = tmp_path / f"out{len(outs)}.ics"
        r = cli("export", *map(data, files), "-o", str(out), "--now", NOW,
                "--timezone", "America/New_York")
        assert r.code == 0, r.err
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert b"Initech" in outs[0] and b"Globex" not in outs[0]


# -- generated versions ----------------------------------------------------------------

def _cal(*events: str, method: str = "PUBLISH") -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN",
                        f"METHOD:{method}", *events, "END:VCALENDAR", ""])


def _ev(uid: str, day: int, *extra: str, hour: int = 14) -> str:
    return "\r\n".join([
        "BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:202603{day:02d}T{hour:02d}0000Z",
        f"DTEND:202603{day:02d}T{hour + 1:02d}0000Z", "SUMMARY:Interview with Acme (Engineer)",
        "ORGANIZER;CN=Ann Lee:mailto:ann@acme.com",
        "ATTENDEE;CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@acme.com",
        "ATTENDEE;CN=Sam Carter;PARTSTAT=ACCEPTED:mailto:sam.carter@gmail.com",
        *extra, "END:VEVENT"])


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def _prep_days(*paths: str) -> list[str]:
    plan = plan_json(*paths, now=NOW, extra=("--me", "sam.carter@gmail.com"))
    return sorted(f["start"][:10] for f in plan if f["kind"] == "prep")


@pytest.mark.parametrize("older, newer", [
    # equal SEQUENCE: the later DTSTAMP, then the later LAST-MODIFIED
    (("SEQUENCE:1", "DTSTAMP:20260301T000000Z"), ("SEQUENCE:1", "DTSTAMP:20260305T000000Z")),
    (("SEQUENCE:1", "DTSTAMP:20260301T000000Z", "LAST-MODIFIED:20260301T000000Z"),
     ("SEQUENCE:1", "DTSTAMP:20260301T000000Z", "LAST-MODIFIED:20260302T000000Z")),
    # SEQUENCE first, whatever the stamps say
    (("SEQUENCE:1", "DTSTAMP:20260309T000000Z"), ("SEQUENCE:3", "DTSTAMP:20260301T000000Z")),
    # no SEQUENCE is SEQUENCE 0
    (("DTSTAMP:20260309T000000Z",), ("SEQUENCE:1", "DTSTAMP:20260301T000000Z")),
])
def test_the_newer_version_wins_in_both_orders(older, newer, tmp_path):
    a = _write(tmp_path, "a.ics", _cal(_ev("x@acme.com", 24, *older)))
    b = _write(tmp_path, "b.ics", _cal(_ev("x@acme.com", 26, *newer)))
    assert _prep_days(a, b) == _prep_days(b, a) == ["2026-03-26"]


def test_a_tie_is_broken_the_same_way_in_both_orders(tmp_path):
    same = ("SEQUENCE:1", "DTSTAMP:20260301T000000Z")
    a = _write(tmp_path, "a.ics", _cal(_ev("x@acme.com", 24, *same)))
    b = _write(tmp_path, "b.ics", _cal(_ev("x@acme.com", 26, *same)))
    days = _prep_days(a, b)
    assert days == _prep_days(b, a) and len(days) == 1


def test_a_cancellation_at_a_tie_cancels(tmp_path):
    """Same SEQUENCE and stamp: a cancellation is the later act (Outlook's own
    cancellations sometimes keep the invite's SEQUENCE)."""
    same = ("SEQUENCE:0", "DTSTAMP:20260301T000000Z")
    a = _write(tmp_path, "a.ics", _cal(_ev("x@acme.com", 24, *same)))
    b = _write(tmp_path, "b.ics", _cal(_ev("x@acme.com", 24, *same), method="CANCEL"))
    assert _prep_days(a, b) == _prep_days(b, a) == []


def test_an_older_cancellation_does_not_cancel_the_rescheduled_interview(tmp_path):
    cancel = _write(tmp_path, "c.ics", _cal(_ev("x@acme.com", 24, "SEQUENCE:1",
                                                "STATUS:CANCELLED")))
    rebooked = _write(tmp_path, "r.ics", _cal(_ev("x@acme.com", 26, "SEQUENCE:2")))
    assert _prep_days(cancel, rebooked) == _prep_days(rebooked, cancel) == ["2026-03-26"]


SERIES = ("RRULE:FREQ=WEEKLY;COUNT=3", "SEQUENCE:0", "DTSTAMP:20260301T000000Z")


def test_one_occurrence_cancelled_or_moved_from_another_file(tmp_path):
    """A weekly interview series (23, 30 March, 6 April): an Outlook cancellation of the
    30th and an update moving the 6th to the 7th, each in its own file."""
    series = _write(tmp_path, "s.ics", _cal(_ev("loop@acme.com", 23, *SERIES)))
    cancel = _write(tmp_path, "c.ics", _cal(_ev(
        "loop@acme.com", 30, "RECURRENCE-ID:20260330T140000Z", "SEQUENCE:1",
        "STATUS:CANCELLED"), method="CANCEL"))
    moved = _write(tmp_path, "m.ics", _cal(
        _ev("loop@acme.com", 7, "RECURRENCE-ID:20260406T140000Z", "SEQUENCE:1").replace(
            "20260307", "20260407"), method="REQUEST"))
    want = ["2026-03-23", "2026-04-07"]
    assert _prep_days(series, cancel, moved) == want
    assert _prep_days(moved, cancel, series) == want


def test_a_cancelled_master_cancels_the_series(tmp_path):
    series = _write(tmp_path, "s.ics", _cal(_ev("loop@acme.com", 23, *SERIES)))
    cancel = _write(tmp_path, "c.ics", _cal(_ev("loop@acme.com", 23, "SEQUENCE:1"),
                                            method="CANCEL"))
    assert _prep_days(series, cancel) == _prep_days(cancel, series) == []


def test_an_update_of_the_series_replaces_every_occurrence(tmp_path):
    """The loop moved from Mondays to Tuesdays (SEQUENCE 1): no Monday is left."""
    old = _write(tmp_path, "o.ics", _cal(_ev("loop@acme.com", 23, *SERIES)))
    new = _write(tmp_path, "n.ics", _cal(_ev(
        "loop@acme.com", 24, "RRULE:FREQ=WEEKLY;COUNT=3", "SEQUENCE:1")))
    want = ["2026-03-24", "2026-03-31", "2026-04-07"]
    assert _prep_days(old, new) == _prep_days(new, old) == want


# -- any order of several files: the same plan ------------------------------------------

VERSIONS = [
    _cal(_ev("a@acme.com", 23, "SEQUENCE:0", "DTSTAMP:20260310T000000Z"),
         _ev("b@acme.com", 25, "SEQUENCE:0"), _ev("loop@acme.com", 23, *SERIES)),
    _cal(_ev("a@acme.com", 24, "SEQUENCE:2", "DTSTAMP:20260302T000000Z")),
    _cal(_ev("b@acme.com", 25, "SEQUENCE:1", "STATUS:CANCELLED"), method="CANCEL"),
    _cal(_ev("loop@acme.com", 31, "RECURRENCE-ID:20260330T140000Z", "SEQUENCE:1")
         .replace("20260331T140000Z", "20260331T160000Z")
         .replace("20260331T150000Z", "20260331T170000Z")),
    _cal(_ev("a@acme.com", 27, "SEQUENCE:1", "DTSTAMP:20260311T000000Z"),
         _ev("b@acme.com", 26, "SEQUENCE:0", "DTSTAMP:20260312T000000Z")),
]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(order=st.permutations(range(len(VERSIONS))))
def test_the_plan_never_depends_on_the_order_of_the_files(order, tmp_path_factory):
    folder = tmp_path_factory.mktemp("versions")
    paths = [_write(folder, f"v{i}.ics", VERSIONS[i]) for i in range(len(VERSIONS))]
    plan = plan_json(*(paths[i] for i in order), now=NOW,
                     extra=("--me", "sam.carter@gmail.com"))
    expected = plan_json(*paths, now=NOW, extra=("--me", "sam.carter@gmail.com"))
    assert plan == expected
    preps = sorted(f["start"][:16] for f in plan if f["kind"] == "prep")
    # a: SEQUENCE 2 on the 24th; b: cancelled; the loop: 23rd, 31st (moved), 6 April
    assert [p[:10] for p in preps] == ["2026-03-23", "2026-03-24", "2026-03-31", "2026-04-06"]


# -- the merge on its own ---------------------------------------------------------------

def _occ(rid: str | None = None, **kw) -> CalendarEvent:
    start = datetime(2026, 3, 23, 14, tzinfo=UTC)
    base = CalendarEvent(uid="u", recurrence_id=rid, summary="Interview with Acme",
                         description="", start=start, end=start, tzid=None)
    return replace(base, **kw)


@given(st.permutations([
    _occ(sequence=0, stamp=datetime(2026, 3, 9, tzinfo=UTC)),
    _occ(sequence=1, summary="newer"),
    _occ(sequence=1, stamp=datetime(2026, 3, 1, tzinfo=UTC), summary="newest"),
    _occ(sequence=1, stamp=datetime(2026, 3, 1, tzinfo=UTC), summary="newest too"),
    _occ(rid="2026-03-30", sequence=0),
    _occ(rid="2026-03-30", sequence=2, override=True, status="CANCELLED"),
    _occ(uid="v", sequence=0, method="CANCEL"),
]))
def test_merge_is_blind_to_the_order(events):
    kept = merge(events)
    assert [(e.uid, e.recurrence_id, e.summary) for e in kept] == [("u", None, "newest too")]


def test_a_source_without_versions_keeps_everything_it_gives():
    """Google today gives no SEQUENCE: nothing is dropped but cancelled occurrences."""
    events = [_occ(rid=f"r{i}", summary=f"s{i}") for i in range(3)]
    assert merge(events[::-1]) == events
    assert merge([*events, _occ(rid="r3", status="CANCELLED")]) == events


def test_an_invite_and_its_cancellation_in_one_file(tmp_path):
    """Two VCALENDARs in one file (a mail client's saved thread), or both VEVENTs in
    one calendar: the cancellation with the higher SEQUENCE wins either way."""
    invite = _ev("x@acme.com", 24, "SEQUENCE:0")
    cancel = _ev("x@acme.com", 24, "SEQUENCE:1", "STATUS:CANCELLED")
    two = _write(tmp_path, "two.ics", _cal(cancel, method="CANCEL") + _cal(invite,
                                                                            method="REQUEST"))
    one = _write(tmp_path, "one.ics", _cal(cancel, invite))
    assert _prep_days(two) == _prep_days(one) == []
    kept = _write(tmp_path, "kept.ics", _cal(invite))
    assert _prep_days(kept) == ["2026-03-24"]
