"""The ledger on its own: file, schema, transactions, concurrency, and the
rules that turn what is stored into the planner's History (issue 4)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup_cal.config import Settings
from followup_cal.ledger import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Ledger,
    LedgerError,
    LoggedContact,
    LoggedOutcome,
    Written,
    build_history,
    candidates,
    content_hash,
    resolve,
)
from followup_cal.model import FollowUp, Interview, Person

NY = ZoneInfo("America/New_York")
S = Settings(timezone="America/New_York")


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)


def interview(uid: str, company: str, day: int, *, people=(), notes_tags=(), role=None):
    return Interview(
        uid=uid, recurrence_id=None, summary=f"Interview with {company}", company=company,
        role=role, start=at(day, 14), end=at(day, 15), employer_tz="America/New_York",
        interviewers=tuple(Person(n, e) for n, e in people), recruiter=None,
        tags=tuple(notes_tags))


def follow_up(uid: str, company: str, kind: str, start: datetime, channel="email",
              identity="iv1") -> FollowUp:
    return FollowUp(
        uid=uid, key=f"{identity}\x1f{kind}\x1f\x1f0", kind=kind, channel=channel,
        company=company, role=None, interview_uid=identity, interview_identity=identity,
        recipient=None, start=start, end=start + timedelta(minutes=15),
        timezone="America/New_York", summary=f"{kind} {company}", description="")


def written(uid: str, company: str, start: datetime, **kw) -> Written:
    base = dict(uid=uid, target="ics:/x.ics", key=uid, kind="check_in", channel="email",
                company=company, interview_identity="iv1", start=start,
                end=start + timedelta(minutes=15), content_hash="h", written_at=at(1))
    return Written(**{**base, **kw})


@pytest.fixture
def led(home):
    with Ledger.open() as ledger:
        yield ledger


# -- the file ---------------------------------------------------------------------------


def test_lives_in_followup_cal_home_with_current_schema_and_wal(home):
    with Ledger.open() as ledger:
        assert ledger.path == home / "state.db"
        assert ledger.version == SCHEMA_VERSION == len(MIGRATIONS)
        mode = ledger.conn.execute("PRAGMA journal_mode").fetchone()[0]
        tables = {r[0] for r in ledger.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert (home / "state.db").is_file()
    assert mode == "wal"
    assert {"applications", "interviews", "outcomes", "contacts", "written", "planned",
            "state"} <= tables


def test_without_home_uses_platform_data_dir(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv("FOLLOWUP_CAL_HOME")
    seen = []

    def fake(app):
        seen.append(app)
        return str(tmp_path / "data" / app)

    monkeypatch.setattr(platformdirs, "user_data_dir", fake)
    with Ledger.open() as ledger:
        assert ledger.path == tmp_path / "data" / "followup-cal" / "state.db"
    assert seen == ["followup-cal"]


def test_nothing_happens_at_import(tmp_path):
    code = ("import os, sys; os.environ['FOLLOWUP_CAL_HOME'] = sys.argv[1]; "
            "import followup_cal.ledger, followup_cal.cli; print(os.listdir(sys.argv[1]))")
    (tmp_path / "empty").mkdir()
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "empty")], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_empty_file_is_migrated(home):
    (home / "state.db").write_bytes(b"")
    with Ledger.open() as ledger:
        assert ledger.version == SCHEMA_VERSION
        ledger.set_state("google.calendar_id", "abc@group.calendar.google.com")
    with Ledger.open() as ledger:
        assert ledger.get_state("google.calendar_id") == "abc@group.calendar.google.com"
        assert ledger.get_state("missing") is None


def test_older_schema_is_migrated_forward_keeping_data(home):
    path = home / "state.db"
    conn = sqlite3.connect(path)
    for sql in MIGRATIONS[0]:
        conn.execute(sql)
    conn.execute("INSERT INTO outcomes (company, kind, at, recorded_at) VALUES "
                 "('Acme', 'offer', '2026-03-02T15:00:00+00:00', '2026-03-02T15:00:00+00:00')")
    conn.execute(
        "INSERT INTO written (uid, target, key, kind, channel, company, interview_identity, "
        'start, "end", content_hash, written_at) VALUES (\'u1\', \'ics:/a.ics\', \'k\', '
        "'check_in', 'email', 'Acme', 'iv', '2026-03-09T15:00:00+00:00', "
        "'2026-03-09T15:15:00+00:00', 'h', '2026-03-02T15:00:00+00:00')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    with Ledger.open(path) as ledger:
        assert ledger.version == SCHEMA_VERSION
        assert [(o.company, o.kind) for o in ledger.outcomes()] == [("Acme", "offer")]
        [w] = ledger.written()
        assert (w.uid, w.removed_at, w.deleted_by_user) == ("u1", None, False)
        ledger.remember([interview("iv", "Acme", 2)],
                        [follow_up("p1", "Acme", "check_in", at(9))], S, at(3))
        assert [p.uid for p in ledger.planned()] == ["p1"]


def test_newer_schema_is_refused_and_left_alone(home):
    path = home / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    conn.close()


def test_not_a_database_is_one_clear_error(home):
    (home / "state.db").write_text("this is not sqlite " * 100)
    with pytest.raises(LedgerError, match="state.db"):
        Ledger.open()


# -- transactions and concurrency ------------------------------------------------------------


def test_transaction_is_all_or_nothing_and_nests(led):
    with pytest.raises(RuntimeError), led.transaction():
        led.add_outcome("Acme", "offer", at(3), at(3))
        with led.transaction():
            led.add_contact("Acme", "phone", at(3), S, at(3))
        raise RuntimeError("boom")
    assert led.outcomes() == [] and led.contacts() == []
    with led.transaction():
        led.add_outcome("Acme", "offer", at(3), at(3))
        led.add_contact("Acme", "phone", at(3), S, at(3))
    assert len(led.outcomes()) == 1 and len(led.contacts()) == 1


def test_a_writer_holds_the_lock_readers_still_read(home):
    with Ledger.open() as a, Ledger.open(timeout=0) as b:
        a.add_contact("Acme", "email", at(2), S, at(2))
        with a.transaction():
            a.add_contact("Acme", "phone", at(3), S, at(3))
            assert len(b.contacts()) == 1  # WAL: the reader sees the last commit
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                b.add_contact("Globex", "mail", at(3), S, at(3))
        b.add_contact("Globex", "mail", at(3), S, at(3))
        assert len(a.contacts()) == 3


def test_two_connections_writing_at_once(home):
    n = 40
    start = threading.Barrier(2, timeout=60)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with Ledger.open() as ledger:
                start.wait()
                for i in range(n):
                    with ledger.transaction():
                        ledger.add_contact(name, "email", at(2) + timedelta(minutes=i), S, at(3))
                        ledger.set_state(f"{name}.{i}", str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in ("Acme", "Globex")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Ledger.open() as ledger:
        names = [c.company for c in ledger.contacts()]
    assert names.count("Acme") == n and names.count("Globex") == n


class FlakyConnection:
    """Answers "locked" a few times, as SQLite does to a second first-open."""

    def __init__(self, failures: int, message: str = "database is locked"):
        self.failures, self.message, self.calls = failures, message, 0

    def execute(self, sql: str):
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.message)


def test_switching_to_wal_retries_while_locked(monkeypatch):
    from followup_cal import ledger as ledger_module

    monkeypatch.setattr(ledger_module.time, "sleep", lambda s: None)
    conn = FlakyConnection(3)
    ledger_module._use_wal(conn, timeout=30)
    assert conn.calls == 4
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        ledger_module._use_wal(FlakyConnection(1, "disk I/O error"), timeout=30)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        ledger_module._use_wal(FlakyConnection(10**6), timeout=0)


def test_many_first_opens_at_once(tmp_path):
    """Switching a new file to WAL races; SQLite says "locked" there without waiting."""
    errors: list[BaseException] = []
    for round_ in range(30):
        path = tmp_path / f"race{round_}.db"
        start = threading.Barrier(6, timeout=60)

        def work(path=path, start=start) -> None:
            try:
                start.wait()
                with Ledger.open(path) as ledger:
                    ledger.add_contact("Acme", "email", at(2), S, at(2))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with Ledger.open(path) as ledger:
            assert len(ledger.contacts()) == 6
    assert errors == []


def test_two_processes_creating_and_writing_at_once(home):
    script = textwrap.dedent("""
        import sys
        from datetime import datetime, timedelta, timezone
        from followup_cal.config import Settings
        from followup_cal.ledger import Ledger
        name = sys.argv[1]
        t = datetime(2026, 3, 2, tzinfo=timezone.utc)
        for i in range(30):
            with Ledger.open() as ledger, ledger.transaction():
                ledger.add_contact(name, "email", t + timedelta(minutes=i), Settings(), t)
                ledger.add_outcome(name, "heard-back", t + timedelta(minutes=i), t)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name], stderr=subprocess.PIPE,
                              text=True) for name in ("Acme", "Globex")]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stderr.close()
    assert results == [(0, ""), (0, "")]
    with Ledger.open() as ledger:
        assert ledger.version == SCHEMA_VERSION
        assert len(ledger.contacts()) == 60 and len(ledger.outcomes()) == 60


# -- names ------------------------------------------------------------------------------------


NAMES = ["Acme Corp", "Acme Robotics", "Globex Robotics", "Pied Piper"]


@pytest.mark.parametrize("typed, expected", [
    ("acme", ["Acme Corp"]),  # same key beats a looser hit on "Acme Robotics"
    ("ACME CORP.", ["Acme Corp"]),
    ("Acme, Inc.", ["Acme Corp"]),
    ("globex", ["Globex Robotics"]),
    ("piedpiper", ["Pied Piper"]),
    ("robotics", ["Acme Robotics", "Globex Robotics"]),
    ("acm", []),
    ("Initech", []),
    ("  ", []),
])
def test_candidates(typed, expected):
    assert candidates(typed, NAMES) == expected


def test_resolve_only_when_unambiguous():
    assert resolve("globex", NAMES) == "Globex Robotics"
    assert resolve("robotics", NAMES) == "robotics"
    assert resolve("Initech", NAMES) == "Initech"


def test_match_uses_applications_seen(led):
    led.remember([interview("a", "Acme Corp", 2), interview("b", "Acme Robotics", 3)], [], S,
                 at(3))
    assert [a.company for a in led.match("acme")] == ["Acme Corp"]
    assert sorted(a.company for a in led.match("Acme Robotics")) == ["Acme Robotics"]
    assert led.match("initech") == []


# -- what already happened → History ------------------------------------------------------------


def test_passed_written_check_in_counts_as_made():
    rows = [written("w1", "Acme Corp", at(9)), written("w2", "Acme Corp", at(16))]
    h = build_history([], [], rows, ["Acme Corp"], S, at(10))
    assert [(c.company, c.at, c.via) for c in h.contacts] == [("Acme Corp", at(9), "email")]


@pytest.mark.parametrize("change", [
    {"deleted_by_user": True},
    {"removed_at": at(5)},
    {"kind": "move_on"},
    {"kind": "thank_you_email"},
    {"start": at(11)},  # not yet due
])
def test_written_that_does_not_count(change):
    row = written("w1", "Acme", change.pop("start", at(9)), **change)
    assert build_history([], [], [row], ["Acme"], S, at(10)).contacts == ()


def test_deleted_on_one_calendar_means_deleted_and_one_uid_counts_once():
    two = [written("w1", "Acme", at(9)), written("w1", "Acme", at(9), target="google:c")]
    assert len(build_history([], [], two, ["Acme"], S, at(10)).contacts) == 1
    gone = [written("w1", "Acme", at(9)),
            written("w1", "Acme", at(9), target="google:c", deleted_by_user=True)]
    assert build_history([], [], gone, ["Acme"], S, at(10)).contacts == ()


def test_logged_contact_near_a_written_check_in_stands_for_it():
    rows = [written("w1", "Acme Corp", at(9))]
    near = LoggedContact("acme", "phone", at(6), at(6))
    h = build_history([], [near], rows, ["Acme Corp"], S, at(10))
    assert [(c.company, c.via) for c in h.contacts] == [("Acme Corp", "phone")]
    far = LoggedContact("acme", "phone", at(2), at(2))  # 7 days before: both count
    h = build_history([], [far], rows, ["Acme Corp"], S, at(10))
    assert len(h.contacts) == 2
    wider = Settings(timezone="America/New_York", inquiry_gap_days=8)
    assert len(build_history([], [far], rows, ["Acme Corp"], wider, at(10)).contacts) == 1


def test_names_are_converted_to_the_plans_spelling():
    outs = [LoggedOutcome("acme", "rejected", at(3), at(3)),
            LoggedOutcome("robotics", "offer", at(3), at(3)),
            LoggedOutcome("Initech", "withdrawn", at(3), at(3))]
    h = build_history(outs, [LoggedContact("GLOBEX", "mail", at(3), at(3))], [], NAMES, S,
                      at(4))
    assert [o.company for o in h.outcomes] == ["Acme Corp", "robotics", "Initech"]
    assert [c.company for c in h.contacts] == ["Globex Robotics"]


def test_history_leaves_out_tags_of_the_interviews_being_planned(led):
    iv1 = interview("r1", "Acme", 2, notes_tags=[("rejected", "")])
    led.remember([iv1], [], S, at(3))
    assert [o.source for o in led.outcomes()] == ["tag:r1"]
    assert led.history([iv1], S, at(3)).outcomes == ()  # the planner reads those itself
    iv2 = interview("r2", "Acme", 9)
    [o] = led.history([iv2], S, at(10)).outcomes  # round one left the window: still counts
    assert (o.company, o.kind, o.at) == ("Acme", "rejected", iv1.end)


# -- remembering ----------------------------------------------------------------------------------


def test_remember_builds_one_application_per_employer(led):
    r1 = interview("r1", "Acme Corp", 2, people=[("Ann", "ann@acme.com")], role="Designer")
    r2 = interview("r2", "ACME", 9, people=[("Ann", "ANN@acme.com"), ("Bo", "bo@acme.com")])
    led.remember([r1, r2, interview("g", "Globex", 4)], [], S, at(10))
    apps = {a.key: a for a in led.applications()}
    assert set(apps) == {"acme", "globex"}
    acme = apps["acme"]
    assert acme.company == "ACME" and acme.role == "Designer"
    assert acme.last_interview == r2.start
    assert [p.email for p in acme.interviewers] == ["ann@acme.com", "bo@acme.com"]
    assert acme.interviews == ("r1", "r2")
    moved = interview("r2", "ACME", 5)  # the same event, moved: not a third round
    led.remember([moved], [], S, at(10))
    assert {a.key: a for a in led.applications()}["acme"].last_interview == moved.start


def test_remember_replaces_tags_and_the_plan_per_application(led):
    tagged = interview("r1", "Acme", 2, notes_tags=[("heard-back", ""),
                                                    ("contacted", "2026-03-03 phone")])
    led.remember([tagged, interview("g", "Globex", 2)],
                 [follow_up("a1", "Acme", "check_in", at(9)),
                  follow_up("g1", "Globex", "check_in", at(9))], S, at(3))
    assert [(c.company, c.via, c.source) for c in led.contacts()] == [("Acme", "phone",
                                                                       "tag:r1")]
    led.remember([interview("r1", "Acme", 2)], [follow_up("a2", "Acme", "move_on", at(20))],
                 S, at(4))
    assert led.outcomes() == [] and led.contacts() == []  # the tag lines were removed
    assert sorted(p.uid for p in led.planned()) == ["a2", "g1"]  # Globex not re-planned


def test_outcome_and_contact_trim_the_remembered_plan(led):
    ivs = [interview("a", "Acme", 2), interview("g", "Globex", 2), interview("h", "Hooli", 2)]
    led.remember(ivs,
                 [follow_up("a0", "Acme", "thank_you_note", at(3, 9)),
                  follow_up("a1", "Acme", "check_in", at(9)),
                  follow_up("g0", "Globex", "thank_you_note", at(3, 9)),
                  follow_up("g1", "Globex", "check_in", at(9)),
                  follow_up("g2", "Globex", "check_in", at(16)),
                  follow_up("h1", "Hooli", "check_in", at(9)),
                  follow_up("h2", "Hooli", "move_on", at(17))], S, at(2, 16))
    led.add_outcome("Acme", "withdrawn", at(3, 12), at(3, 12))
    led.add_contact("Globex", "phone", at(3, 12), S, at(3, 12))
    led.add_outcome("Hooli", "heard-back", at(3, 12), at(3, 12))
    assert sorted(p.uid for p in led.planned()) == ["a0", "g0", "g2"]


# -- what was written ------------------------------------------------------------------------


def test_record_written_marks_what_left_the_file(led):
    t = "ics:/tmp/f.ics"
    past, gone, kept = (follow_up("p", "Acme", "check_in", at(4)),
                        follow_up("g", "Acme", "check_in", at(9)),
                        follow_up("k", "Acme", "move_on", at(20)))
    led.record_written(t, [past, gone, kept], at(3))
    led.mark_deleted_by_user(t, "k")
    led.record_written("ics:/other.ics", [gone], at(3))
    led.record_written(t, [kept], at(5))  # re-planned at 5 March: "g" was dropped
    rows = {(w.uid, w.target): w for w in led.written()}
    assert rows["p", t].removed_at is None  # already due when re-written: it happened
    assert rows["g", t].removed_at == at(5)
    assert rows["g", "ics:/other.ics"].removed_at is None  # another file, untouched
    assert rows["k", t].deleted_by_user  # a deletion survives re-writing
    assert [w.uid for w in led.written(t)] == ["p", "g", "k"]
    led.record_written(t, [gone, kept], at(6))
    assert {(w.uid, w.target): w for w in led.written()}["g", t].removed_at is None


def test_written_rows_keep_what_sync_needs(led):
    f = follow_up("u1", "Acme", "check_in", at(9), channel="phone", identity="iv9")
    led.record_written("google:primary", [f], at(3))
    [w] = led.written("google:primary")
    assert (w.uid, w.key, w.kind, w.channel, w.company, w.interview_identity) == (
        "u1", f.key, "check_in", "phone", "Acme", "iv9")
    assert (w.start, w.end, w.written_at) == (f.start, f.end, at(3))
    assert w.content_hash == content_hash(f)
    moved = FollowUp(**{**f.__dict__, "start": at(10), "end": at(10, 10, 15)})
    assert content_hash(moved) != content_hash(f)


def test_status_rows_count_like_the_planner(led):
    led.remember([interview("a", "Acme Corp", 2, role="Designer"), interview("g", "Globex", 2)],
                 [follow_up("a1", "Acme Corp", "thank_you_note", at(3, 9)),
                  follow_up("a2", "Acme Corp", "check_in", at(16))], S, at(2, 16))
    led.record_written("ics:/f.ics", [follow_up("w", "Acme Corp", "check_in", at(11))], at(3))
    led.add_contact("acme", "phone", at(3, 9), S, at(3, 9))  # 8 days apart: two inquiries
    led.add_outcome("globex", "heard-back", at(4), at(4))
    led.add_contact("globex", "email", at(3), S, at(3))  # before they got back: reset
    rows = {r.company: r for r in led.status(S, at(12))}
    acme, globex = rows["Acme Corp"], rows["Globex"]
    assert (acme.inquiries_made, acme.inquiries_allowed, acme.outcome) == (2, 2, None)
    assert acme.next is not None and (acme.next.uid, acme.next.kind) == ("a2", "check_in")
    assert (globex.inquiries_made, globex.outcome, globex.next) == (0, "heard-back", None)
    later = {r.company: r for r in led.status(S, at(17))}
    assert later["Acme Corp"].next is None  # only what is still ahead
    led.add_outcome("Acme Corp", "offer", at(17), at(17))
    led.add_outcome("Acme Corp", "heard-back", at(18), at(18))
    assert {r.company: r for r in led.status(S, at(18))}["Acme Corp"].outcome == "offer"


def test_status_json_shape(led):
    led.remember([interview("a", "Acme", 2, people=[("Ann", "ann@a.com")])],
                 [follow_up("a1", "Acme", "check_in", at(9))], S, at(3))
    [row] = led.status(S, at(3))
    assert row.as_json(NY) == {
        "company": "Acme", "role": None, "last_interview": "2026-03-02T14:00:00-05:00",
        "interviewers": [{"name": "Ann", "email": "ann@a.com"}], "inquiries_made": 0,
        "inquiries_allowed": 2, "next": {"kind": "check_in",
                                         "start": "2026-03-09T10:00:00-04:00"},
        "outcome": None, "replied": None}


def test_times_must_be_aware(led):
    with pytest.raises(ValueError):
        led.add_contact("Acme", "email", datetime(2026, 3, 3), S, at(3))
    assert led.contacts() == []
