"""Crash consistency (issue 6, point 3): SIGKILL at known and at random points.

`sync` runs as a real subprocess against the fake (tests/fake_google.py); the
fake holds the k-th request it receives, before handling it or after (a write
that landed unseen), and the test SIGKILLs the process there. The next run must
end with the calendar at exactly what `plan --google --json` says, with no
duplicate, and a run after that must write nothing. Kills inside a ledger
transaction and during `export` are made the same way: a small hook in the
subprocess signals where it is, and the test kills it there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fake_google import (
    FakeGoogle,
    assert_converged,
    google_event,
    integrity,
    on_calendar,
    planned,
    write_token,
)

from followup_cal.calendars import google
from followup_cal.ledger import SCHEMA_VERSION, Ledger
from followup_cal.rules import UID_DOMAIN

from conftest import ZONE, cli

NOW = "2026-03-01T09:00"  # a Sunday; the interviews are in the week ahead
ARGS = ("--now", NOW, "--timezone", ZONE)
RUN = "from followup_cal.cli import main; main()"
# in the subprocess: after the final ledger update's rows are in, before COMMIT, stop
IN_FINAL_LEDGER_UPDATE = """
import os, time
from followup_cal import ledger
_original = ledger.Ledger.record_written
def _record_written(self, *args, **kwargs):
    _original(self, *args, **kwargs)
    open(os.environ["FOLLOWUP_CAL_TEST_SIGNAL"], "w").close()
    time.sleep(60)
ledger.Ledger.record_written = _record_written
"""


def acme(fake, start="2026-03-02T10:00:00") -> dict:
    return fake.seed(google_event("Phone screen with Acme", start))


def globex(fake, start="2026-03-03T14:00:00") -> dict:
    return fake.seed(google_event(
        "Onsite interview - Globex", start,
        attendees=(("ann@globex.com", "Ann Lee"), ("bo@globex.com", "Bo Park")),
        organizer=("talent@globex.com", "Globex Talent")))


def initech(fake, start="2026-03-04T15:00:00") -> dict:
    return fake.seed(google_event("Interview with Initech", start,
                                  attendees=(("bill@initech.com", "Bill Lumbergh"),),
                                  organizer=("hr@initech.com", "Initech HR")))


def move(fake, event: dict, start: str) -> None:
    begin = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))
    fake.modify(event["id"], {"start": {"dateTime": begin.isoformat(), "timeZone": ZONE},
                              "end": {"dateTime": (begin + timedelta(minutes=45)).isoformat(),
                                      "timeZone": ZONE}})


# -- what the calendar holds vs. what the planner says ---------------------------------------


def uid_of(event: dict) -> str:
    key = google._private(event)[google.KEY_PROP]
    return f"{key[:32]}@{UID_DOMAIN}"










# -- killing a sync --------------------------------------------------------------------------


def start(*args: str, hook: str = "", env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", hook + RUN, *args],
                            env=dict(os.environ, **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode in (-signal.SIGKILL, 0), proc.returncode


def wait_for(ready, proc: subprocess.Popen, timeout: float = 30) -> bool:
    """Until ready() (True) or the process ended on its own (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if proc.poll() is not None:
            return ready()
        time.sleep(0.005)
    raise AssertionError("neither the kill point nor the end of the run came")


def sync_killed_at(fake, k: int, after: bool) -> tuple[str, str] | None:
    """Run `sync`, SIGKILL it at the k-th request; the call it died on (None: it ended)."""
    fake.hold_request(k, after=after)
    proc = start("sync", *ARGS)
    try:
        reached = wait_for(fake.held.is_set, proc)
    finally:
        kill(proc)
        call = fake.held_call
        fake.hold_request(None)
        fake.unhold.set()
    return call if reached else None


def count_requests(fake) -> int:
    """How many requests an uninterrupted sync makes (in-process)."""
    before = len(fake_calls(fake))
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    return len(fake_calls(fake)) - before


def measure(scenario, tmp_path: Path, monkeypatch) -> int:
    """The request count of a first sync of `scenario`, in a twin world (own home, fake)."""
    twin, twin_home = FakeGoogle().start(), tmp_path / "twin-home"
    twin_home.mkdir()
    try:
        scenario(twin)
        with monkeypatch.context() as m:
            m.setenv("FOLLOWUP_CAL_HOME", str(twin_home))
            m.setenv(google.API_URL_ENV, twin.url)
            write_token(twin_home, twin)
            return count_requests(twin)
    finally:
        twin.stop()


def fake_calls(fake) -> list:
    with fake.lock:
        return list(fake.calls)


_TOTALS: dict[str, int] = {}


def first_run(fake) -> None:
    acme(fake)
    globex(fake)


def first_run_requests(tmp_path: Path, monkeypatch) -> int:
    if "first" not in _TOTALS:
        _TOTALS["first"] = measure(first_run, tmp_path, monkeypatch)
    return _TOTALS["first"]


# Where to kill the first sync, as a fraction of its requests: 0 is the first request
# (nothing done yet), 1 the last (the last insert); `after`: the request was handled
# (the write landed) and the answer never came back. The middle ones are seeded-random
# among the inserts; test_sync_killed_again_and_again_... adds more random points.
_rng = random.Random(6)
KILL_POINTS = [(0.0, False), (round(_rng.uniform(0.3, 0.6), 2), False),
               (round(_rng.uniform(0.6, 0.95), 2), True), (1.0, True)]


def test_kill_points_cover_the_run(fake, home):
    """The request sequence the kill points run across: reads, the calendar, writes."""
    first_run(fake)
    total = count_requests(fake)
    routes = [route for _method, route in fake_calls(fake)]
    assert total == len(routes) > 10
    first_write = routes.index("calendars.insert")
    assert 0 < first_write < 5 and routes[-1] == "events.insert", routes
    assert sum(1 for r in routes if r == "events.insert") > 10
    ks = {max(1, round(f * total)) for f, _after in KILL_POINTS}
    assert min(ks) == 1 and max(ks) == total
    assert any(routes[k - 1] == "calendars.insert" or routes[k - 1].startswith("calendarList")
               for k in range(1, first_write + 3))
    assert sum(1 for k in ks if routes[k - 1] == "events.insert") >= 2  # mid-writes


@pytest.mark.parametrize("fraction,after", KILL_POINTS)
def test_first_sync_killed_then_rerun_ends_at_the_plan(fake, home, fraction, after, tmp_path,
                                                        monkeypatch):
    total = first_run_requests(tmp_path, monkeypatch)
    first_run(fake)
    k = max(1, round(fraction * total))
    call = sync_killed_at(fake, k, after)
    assert call is not None, f"the run ended before request {k} of {total}"
    if k == 1 and not after:
        assert fake.writes_applied == 0 and not fake.secondary()
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    assert_converged(fake, home, ARGS)


def test_sync_killed_once_its_calendar_was_made_unseen_makes_one_calendar(fake, home):
    acme(fake)
    call = sync_killed_at(fake, 4, after=True)  # primary id, events, calendar list, insert
    assert call == ("POST", "calendars.insert") and len(fake.secondary()) == 1
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    assert_converged(fake, home, ARGS)


def test_sync_killed_again_and_again_mid_changes_then_rerun_ends_at_the_plan(fake, home):
    """Moves (patches), a cancellation (deletes) and a new interview (inserts), killed
    at several points in turn; each run picks up where the killed one stopped."""
    a = acme(fake)
    g = globex(fake)
    assert cli("sync", *ARGS).code == 0
    before = on_calendar(fake)
    move(fake, a, "2026-03-02T13:00:00")
    fake.user_delete(g["id"])  # the interview was cancelled
    initech(fake)
    rng = random.Random(3)
    died_on = []
    for _ in range(3):
        call = sync_killed_at(fake, rng.randint(3, 12), after=rng.random() < 0.5)
        if call:
            died_on.append(call)
    assert {route for _m, route in died_on} & {"events.patch", "events.delete",
                                               "events.insert"}, died_on
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    now = on_calendar(fake)
    assert now != before
    assert_converged(fake, home, ARGS)
    # the cancelled interview's follow-ups are gone, not kept as "deleted by the user"
    with Ledger.open() as ledger:
        assert not any(w.deleted_by_user for w in ledger.written())


def test_sync_killed_in_its_final_ledger_update_loses_nothing_later(
        fake, home, tmp_path):
    """Killed in its final ledger update, a run loses its record of what it wrote; a
    later run takes those follow-ups off (interview cancelled). When the interview is
    back, so are they: it was not the user who deleted them."""
    acme(fake)
    g = globex(fake)
    signal_file = tmp_path / "in-ledger"
    proc = start("sync", *ARGS, hook=IN_FINAL_LEDGER_UPDATE,
                 env={"FOLLOWUP_CAL_TEST_SIGNAL": str(signal_file)})
    try:
        assert wait_for(signal_file.exists, proc), proc.communicate()
    finally:
        kill(proc)
    full = planned(ARGS)
    assert on_calendar(fake) == full  # every write landed; only the record of them is lost
    assert integrity(home / "state.db") == "ok"
    with Ledger.open() as ledger:
        assert ledger.version == SCHEMA_VERSION
        assert ledger.written() == []  # rolled back whole, not half
        assert ledger.get_state(google.CALENDAR_STATE)  # committed before the writes
    fake.modify(g["id"], {"status": "cancelled"})
    r = cli("sync", *ARGS)
    assert r.code == 0 and " deleted" in r.out and "0 deleted" not in r.out, r.out
    assert len(on_calendar(fake)) < len(full)
    fake.modify(g["id"], {"status": "confirmed"})
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    assert "left deleted by you" not in r.out, r.out
    assert on_calendar(fake) == full
    assert_converged(fake, home, ARGS)


# -- killing a ledger transaction -------------------------------------------------------------

WRITER = """
import sys
from datetime import datetime, timezone
from followup_cal.ledger import Ledger
now = datetime(2026, 3, 1, 14, tzinfo=timezone.utc)
with Ledger.open() as ledger:
    mode = sys.argv[1]
    if mode == "hold":
        with ledger.transaction():
            for i in range(2000):
                ledger.add_outcome(f"Open{i}", "rejected", now, now)
                ledger.conn.execute("INSERT INTO state (key, value) VALUES (?, ?)",
                                    (f"k{i}", "x" * 500))
            print("inside", flush=True)
            sys.stdin.readline()
    else:
        for i in range(100000):
            with ledger.transaction():
                ledger.add_outcome(f"Loop{i}", "offer", now, now)
                ledger.set_state(f"loop{i}", str(i))
            print(i, flush=True)
"""


def test_ledger_survives_a_kill_inside_an_open_transaction(home):
    now = datetime(2026, 3, 1, 14, tzinfo=ZoneInfo("UTC"))
    with Ledger.open() as ledger:
        ledger.add_outcome("Acme", "offer", now, now)
        ledger.add_contact("Globex", "email", now, _settings(), now)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, "hold"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "inside", proc.stderr.read()
        # the writer holds BEGIN IMMEDIATE with 2000 rows written: others can still read
        assert (home / "state.db-wal").exists()
        with Ledger.open(timeout=0.2) as reader:
            assert [o.company for o in reader.outcomes()] == ["Acme"]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    assert integrity(home / "state.db") == "ok"
    with Ledger.open(timeout=2) as ledger:
        assert ledger.version == SCHEMA_VERSION
        assert [o.company for o in ledger.outcomes()] == ["Acme"]
        assert [c.company for c in ledger.contacts()] == ["Globex"]
        assert ledger.get_state("k0") is None
        ledger.add_outcome("Initech", "withdrawn", now, now)  # and it takes writes again
        assert len(ledger.outcomes()) == 2


@pytest.mark.parametrize("seed", range(2))
def test_ledger_killed_between_and_inside_commits_keeps_every_acknowledged_one(home, seed):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, "loop"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    acknowledged = -1
    stop_after = random.Random(seed).randint(20, 200)
    try:
        for line in proc.stdout:
            acknowledged = int(line)
            if acknowledged >= stop_after:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    assert acknowledged >= stop_after
    assert integrity(home / "state.db") == "ok"
    with Ledger.open(timeout=2) as ledger:
        done = [o.company for o in ledger.outcomes()]
        # every commit it reported is there; at most the ones after it, each whole
        assert len(done) >= acknowledged + 1
        assert done == [f"Loop{i}" for i in range(len(done))]
        assert all(ledger.get_state(f"loop{i}") == str(i) for i in range(len(done)))
        assert ledger.get_state(f"loop{len(done)}") is None


def _settings():
    from followup_cal.config import build_settings

    return build_settings(timezone=ZONE)


# -- killing an export -------------------------------------------------------------------------


def big_calendar(path: Path, interviews: int, seed: int = 0) -> None:
    """Many interviews (panels, zones, notes) around NOW: a long plan, a big file."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//soak//EN"]
    base = datetime(2026, 2, 16, 9, 0)
    for i in range(interviews):
        start = base + timedelta(days=rng.randint(0, 21), hours=rng.randint(0, 8))
        company = f"Company{i:04d}"
        lines += ["BEGIN:VEVENT", f"UID:iv-{i}@example.com",
                  f"DTSTART;TZID=America/New_York:{start:%Y%m%dT%H%M%S}",
                  f"DTEND;TZID=America/New_York:{start + timedelta(minutes=45):%Y%m%dT%H%M%S}",
                  f"SUMMARY:Interview with {company}", "DTSTAMP:20260101T000000Z",
                  f"ORGANIZER;CN=Recruiter {i}:mailto:hr@c{i}.example.com",
                  "ATTENDEE;CN=Me:mailto:me@example.com"]
        for j in range(rng.randint(1, 3)):
            lines.append(f"ATTENDEE;CN=Person {i} {j}:mailto:p{j}@c{i}.example.com")
        lines += ["DESCRIPTION:We expect to decide within two weeks.", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.write_text("\r\n".join(lines) + "\r\n")


def export_args(source: Path, out: Path, now: str = "2026-03-06T08:00") -> list[str]:
    return ["export", str(source), "-o", str(out), "--now", now, "--timezone", ZONE,
            "--me", "me@example.com"]


def temp_siblings(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.*.tmp"))


# in the subprocess: stop just before the rename that publishes the new file (not the
# holiday cache's own rename, which a cold home does first)
BEFORE_RENAME = """
import os, time
_replace = os.replace
def _slow_replace(src, dst, *a, **k):
    if str(src).endswith(".tmp") and not str(dst).endswith("holidays.json"):
        open(os.environ["FOLLOWUP_CAL_TEST_SIGNAL"], "w").close()
        time.sleep(60)
    return _replace(src, dst, *a, **k)
os.replace = _slow_replace
"""


@pytest.fixture(scope="module")
def export_world(tmp_path_factory):
    """(source, old bytes, new bytes): `old` is an earlier export to the same path, `new`
    what a complete export of `source` writes; each made in its own home, at once."""
    folder = tmp_path_factory.mktemp("export")
    source, small = folder / "big.ics", folder / "small.ics"
    big_calendar(source, 60)
    big_calendar(small, 3, seed=1)
    def export(name: str, calendar: Path) -> subprocess.Popen:
        (folder / f"{name}-home").mkdir(exist_ok=True)
        return subprocess.Popen(
            [sys.executable, "-c", RUN, *export_args(calendar, folder / f"{name}.ics")],
            env=dict(os.environ, FOLLOWUP_CAL_HOME=str(folder / f"{name}-home")),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    for proc in [export("old", small), export("new", source)]:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    # how long a whole export of `source` takes once its home is warm (holiday dates
    # cached), as the runs killed in the tests are
    began = time.monotonic()
    proc = export("new", source)
    _out, err = proc.communicate(timeout=60)
    took = time.monotonic() - began
    assert proc.returncode == 0, err
    old, new = (folder / "old.ics").read_bytes(), (folder / "new.ics").read_bytes()
    assert len(new) > 100_000 and new != old
    return source, old, new, took


@pytest.fixture
def export_case(export_world, tmp_path):
    source, old, new, took = export_world
    out = tmp_path / "followups.ics"
    out.write_bytes(old)
    return source, out, old, new, took


def test_export_killed_before_the_rename_or_at_random_moments_leaves_old_or_new(
        export_case, tmp_path):
    source, out, old, new, took = export_case
    # at the worst moment: the new file is whole in its temp file, not yet renamed
    signal_file = tmp_path / "before-rename"
    proc = start(*export_args(source, out), hook=BEFORE_RENAME,
                 env={"FOLLOWUP_CAL_TEST_SIGNAL": str(signal_file)})
    try:
        assert wait_for(signal_file.exists, proc), proc.communicate()
    finally:
        kill(proc)
    assert out.read_bytes() == old
    stale = temp_siblings(out)
    assert len(stale) == 1 and stale[0].read_bytes() == new  # whole, but not published
    assert integrity(Path(os.environ["FOLLOWUP_CAL_HOME"]) / "state.db") == "ok"
    # then anywhere: reading, planning, writing, after
    rng = random.Random(6)
    seen = set()
    # early (reading), about when it writes, at or past its end: fractions of a whole run
    for low, high in ((0.1, 0.5), (0.5, 1.0), (0.9, 1.3)):
        delay = took * rng.uniform(low, high)
        proc = start(*export_args(source, out))
        time.sleep(delay)
        kill(proc)
        data = out.read_bytes()
        assert data in (old, new), f"killed after {delay:.2f} s: {len(data)} bytes"
        seen.add("new" if data == new else "old")
        out.write_bytes(old)  # start again from the old file
    assert "old" in seen
    assert integrity(Path(os.environ["FOLLOWUP_CAL_HOME"]) / "state.db") == "ok"
    r = cli(*export_args(source, out))  # and the next run completes
    assert r.code == 0, r.err
    assert out.read_bytes() == new


def test_stale_temp_files_of_killed_exports_do_not_pile_up(export_case):
    source, out, old, new, _took = export_case
    for i in range(3):  # three killed runs, each left its temp file behind
        stale = out.parent / f".{out.name}.killed{i}.tmp"
        stale.write_bytes(new[: 1000 * (i + 1)])
        two_hours_ago = time.time() - 7200  # well past STALE_TEMP_SECONDS
        os.utime(stale, (two_hours_ago, two_hours_ago))
    fresh = out.parent / f".{out.name}.running.tmp"  # another export, writing right now
    fresh.write_bytes(b"BEGIN:VCALENDAR")
    r = cli(*export_args(source, out))
    assert r.code == 0, r.err
    assert out.read_bytes() == new
    assert temp_siblings(out) == [fresh]


# -- the soak script (tests/soak.py), briefly; in full with `-m slow` --------------------------


def soak(*args: str) -> str:
    script = Path(__file__).with_name("soak.py")
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for figure in ("duplicates: 0", "lost follow-ups: 0", "stale follow-ups: 0",
                   "writes per steady-state run: 0", " 0 crashes"):
        assert figure in done.stdout, done.stdout
    return done.stdout


def test_soak_script_short_run():
    out = soak("--runs", "8", "--every", "4", "--seed", "5")
    assert "soak: 8 syncs" in out and "checkpoints: 2" in out


@pytest.mark.slow
def test_soak_script_full_run(request):
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("100 syncs: run with -m slow")
    out = soak("--runs", "100")
    assert "soak: 100 syncs" in out and "checkpoints: 10" in out


def test_sync_killed_after_a_resent_calendar_insert_landed_leaves_one_calendar(fake, home):
    """httplib2 re-sends a POST whose answer was lost: two calendars land. Killed before
    the extra one is cleaned up, the next run must still end with one."""
    acme(fake)
    fake.fail("lost", when=lambda method, route: route == "calendars.insert")
    call = sync_killed_at(fake, 5, after=True)
    assert call == ("POST", "calendars.insert")
    assert len(fake.secondary()) == 2
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    assert_converged(fake, home, ARGS)


def test_faults_reserved_ids_and_killed_runs_converge(fake, home):
    """Acceptance (issue 12): follow-ups whose ids Google keeps reserved come back, runs
    are killed and a fifth of requests fail; then calendar == plan, no duplicate, no loss,
    and a further run writes nothing."""
    a = acme(fake)
    globex(fake)
    assert cli("sync", *ARGS).code == 0
    fake.modify(a["id"], {"description": "#rejected"})  # we remove Acme's follow-ups
    assert cli("sync", *ARGS).code == 0
    assert fake.purge() > 0  # Google forgets them, and keeps their ids
    fake.modify(a["id"], {"description": ""})  # the tag was a mistake: they come back
    initech(fake)
    rng = random.Random(12)
    died_on = [sync_killed_at(fake, rng.randint(4, 14), after=rng.random() < 0.5)
               for _ in range(2)]
    assert any(call and call[0] != "GET" for call in died_on), died_on
    fake.chaos(0.2, kinds=("429", "500", "503", "403rate", "drop", "lost"), seed=12)
    for _ in range(4):
        r = cli("sync", *ARGS)
        assert r.code in (0, 1) and "Traceback" not in r.err, r.err
        assert r.code == 0 or len(r.err.strip().splitlines()) == 1, r.err
    assert sum(fake.faults_served.values()) > 0
    fake.chaos(0)
    r = cli("sync", *ARGS)
    assert r.code == 0, r.err
    assert_converged(fake, home, ARGS)
    with Ledger.open() as ledger:
        assert ledger.conn.execute("SELECT count(*) FROM event_generations").fetchone()[0]
