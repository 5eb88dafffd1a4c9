"""Concurrent runs (issue 6, point 4): real processes started together.

Two `sync`s: one runs, the other waits for it (or, when it waited too long, exits 0
saying so); the calendar ends at the plan; state.db stays intact. Two `export`s to
one file: one whole file, no temp file left. `outcome` / `contacted` racing `plan`:
no write lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fake_google import (
    assert_converged,
    google_event,
    integrity,
    planned,
    serve,
    write_token,
)

from followup_cal.calendars import google
from followup_cal.ledger import Ledger

from conftest import ZONE, cli, data

NOW = "2026-03-01T09:00"
ARGS = ("--now", NOW, "--timezone", ZONE)
RUN = "from followup_cal.cli import main; main()"
SHORT_WAIT = "from followup_cal import sync; sync.LOCK_WAIT_SECONDS = 0.3\n"
BUSY = "another sync is running; this one did nothing"


@pytest.fixture
def fake(home, monkeypatch):
    server = serve(monkeypatch)
    write_token(home, server)
    server.seed(google_event("Phone screen with Acme", "2026-03-02T10:00:00"))
    server.seed(google_event(
        "Onsite interview - Globex", "2026-03-03T14:00:00",
        attendees=(("ann@globex.com", "Ann Lee"), ("bo@globex.com", "Bo Park")),
        organizer=("talent@globex.com", "Globex Talent")))
    yield server
    server.stop()


def start(*args: str, hook: str = "", env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", hook + RUN, *args],
                            env=dict(os.environ, **(env or {})), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running after {timeout} s: {out} {err}") from None
    return proc.returncode, out, err










# -- two syncs ----------------------------------------------------------------------------------


def test_two_syncs_started_together_one_writes_the_other_waits_and_writes_nothing(fake, home):
    procs = [start("sync", *ARGS) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [code for code, _out, _err in results] == [0, 0], results
    assert all(err == "" for _c, _o, err in results), results
    lines = sorted(out.strip() for _c, out, _e in results)
    assert all(len(line.splitlines()) == 1 for line in lines), lines
    want = planned(ARGS)
    first = f"synced '{google.CALENDAR_NAME}' (new calendar): {len(want)} created"
    assert sum(line.startswith(first) for line in lines) == 1, lines
    second = [line for line in lines if not line.startswith(first)][0]
    # it waited for the lock, then found everything done; or it gave up waiting
    assert second == BUSY or (f"0 created, 0 updated, 0 deleted, {len(want)} unchanged"
                              in second), second
    # one calendar, each event inserted once: the runs did not overlap
    assert fake.write_requests == len(want) + 1
    assert_converged(fake, home, ARGS)


def test_sync_that_cannot_get_the_lock_exits_0_and_a_killed_holder_frees_it(fake, home):
    fake.hold_request(8)  # the first sync stops mid-writes, holding the lock
    holder = start("sync", *ARGS)
    waiter = None
    try:
        deadline = time.monotonic() + 30
        while not fake.held.is_set():
            assert holder.poll() is None and time.monotonic() < deadline, finish(holder)
            time.sleep(0.01)
        # a second one waits 0.3 s, then leaves it to the first: exit 0, one line, no request
        calls = len(fake.calls)
        code, out, err = finish(start("sync", *ARGS, hook=SHORT_WAIT))
        assert (code, out.strip(), err) == (0, BUSY, "")
        assert len(fake.calls) == calls
        # a third waits (5 s by default); the first dies, the kernel drops its lock, it runs
        waiter = start("sync", *ARGS)
        time.sleep(0.5)
        assert waiter.poll() is None
        holder.kill()
        finish(holder)
        fake.hold_request(None)
        fake.unhold.set()
        code, out, err = finish(waiter)
        assert code == 0 and out.startswith("synced") and err == "", (out, err)
    finally:
        for proc in (holder, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert_converged(fake, home, ARGS)


# -- two exports --------------------------------------------------------------------------------

SOURCE = data("google_utc_x_wr_timezone.ics")
EXPORT_NOW = "2026-03-01T08:00"


def test_exports_to_one_file_at_once_leave_one_whole_file(tmp_path, home):
    out = tmp_path / "followups.ics"
    ref = tmp_path / "reference.ics"
    r = cli("export", SOURCE, "-o", str(ref), "--now", EXPORT_NOW, "--timezone", ZONE)
    assert r.code == 0, r.err
    (home / "state.db").unlink()  # the racing runs start from nothing, like the reference
    for extra in ("state.db-wal", "state.db-shm"):
        (home / extra).unlink(missing_ok=True)
    out.write_bytes(b"an older file\r\n")
    procs = [start("export", SOURCE, "-o", str(out), "--now", EXPORT_NOW, "--timezone", ZONE)
             for _ in range(3)]
    results = [finish(p) for p in procs]
    assert [code for code, _o, _e in results] == [0, 0, 0], results
    assert out.read_bytes() == ref.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "followups.ics", "reference.ics"]  # no temp file left behind
    assert integrity(home / "state.db") == "ok"
    with Ledger.open() as ledger:
        rows = ledger.written(f"ics:{out.resolve()}")
    r = cli("plan", "--json", "--ics", SOURCE, "--now", EXPORT_NOW, "--timezone", ZONE)
    assert {w.uid for w in rows} == {item["uid"] for item in r.json()}


# -- outcome / contacted racing plan -------------------------------------------------------------


def calendar(path: Path, companies: list[str]) -> None:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//race//EN"]
    start = datetime(2026, 2, 24, 10, 0)
    for i, company in enumerate(companies):
        begin = start + timedelta(days=i % 4, hours=i % 3)
        domain = company.lower() + ".example.com"
        lines += ["BEGIN:VEVENT", f"UID:race-{i}@example.com", "DTSTAMP:20260101T000000Z",
                  f"DTSTART;TZID={ZONE}:{begin:%Y%m%dT%H%M%S}",
                  f"DTEND;TZID={ZONE}:{begin + timedelta(minutes=45):%Y%m%dT%H%M%S}",
                  f"SUMMARY:Interview with {company}",
                  f"ORGANIZER;CN=Recruiter:mailto:hr@{domain}",
                  "ATTENDEE;CN=Me:mailto:me@example.com",
                  f"ATTENDEE;CN=Pat Person:mailto:pat@{domain}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.write_text("\r\n".join(lines) + "\r\n")


def test_outcome_and_contacted_racing_plan_lose_no_write(tmp_path, home):
    companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Soylent"]
    source = tmp_path / "race.ics"
    calendar(source, companies)
    now = ("--now", "2026-03-02T12:00", "--timezone", ZONE, "--me", "me@example.com")
    r = cli("plan", "--ics", str(source), "--json", *now)  # the applications are known
    assert r.code == 0, r.err
    before = {item["company"] for item in r.json()}
    assert before == set(companies)
    rejected, contacted = companies[:3], companies[3:]
    procs = [start("plan", "--ics", str(source), "--json", *now) for _ in range(2)]
    procs += [start("outcome", c, "rejected", *now) for c in rejected]
    procs += [start("contacted", c, "--via", "email", *now) for c in contacted]
    procs += [start("plan", "--ics", str(source), "--json", *now)]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _o, _e in results), results
    assert integrity(home / "state.db") == "ok"
    with Ledger.open() as ledger:
        assert sorted(o.company for o in ledger.outcomes() if o.source == "cli") == sorted(
            rejected)
        assert sorted(c.company for c in ledger.contacts() if c.source == "cli") == sorted(
            contacted)
    r = cli("plan", "--ics", str(source), "--json", *now)
    items = r.json()
    assert not {i["company"] for i in items} & set(rejected)  # nothing after an outcome
    for company in contacted:  # the logged inquiry pushed every check-in a week past it
        check_ins = [datetime.fromisoformat(i["start"]) for i in items
                     if i["company"] == company and i["kind"] == "check_in"]
        assert check_ins and min(check_ins) >= datetime.fromisoformat(
            "2026-03-09T12:00-05:00"), (company, check_ins)
    r = cli("status", "--json", *now)
    status = {row["company"]: row for row in json.loads(r.out)}
    assert all(status[c]["outcome"] == "rejected" for c in rejected)
    assert all(status[c]["inquiries_made"] == 1 for c in contacted)
