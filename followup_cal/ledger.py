"""What already happened: the state the guards need between runs (issue 4).

SQLite from the standard library, one file (`state.db`) in FOLLOWUP_CAL_HOME
or the platform's data folder. The planner stays pure: this module turns
what is stored into a `History` before planning, and remembers afterwards
what was seen, planned and written.

Times are stored as ISO 8601 in UTC, so the text sorts like the time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .config import Settings
from .errors import LedgerError
from .model import OUTCOMES, Contact, FollowUp, History, Interview, Outcome, Person, company_key
from .paths import APP, state_path

FINAL = ("offer", "rejected", "withdrawn")
INQUIRIES = ("check_in", "move_on")
TAG_SOURCE = "tag:"  # + interview identity: the line came from that interview's notes

# Forward migrations: entry N brings the file from version N to N + 1
# (`PRAGMA user_version`). Never edit a shipped entry; append one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE applications (
            key TEXT PRIMARY KEY,
            company TEXT NOT NULL,
            role TEXT,
            last_interview TEXT,
            interviewers TEXT NOT NULL DEFAULT '[]',
            interviews TEXT NOT NULL DEFAULT '[]',
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL)""",
        """CREATE TABLE interviews (
            identity TEXT PRIMARY KEY,
            app_key TEXT NOT NULL,
            company TEXT NOT NULL,
            role TEXT,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            interviewers TEXT NOT NULL DEFAULT '[]',
            seen_at TEXT NOT NULL)""",
        "CREATE INDEX interviews_app ON interviews(app_key)",
        """CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('offer', 'rejected', 'withdrawn', 'heard-back')),
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'cli')""",
        """CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            via TEXT NOT NULL CHECK (via IN ('email', 'phone', 'mail')),
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'cli')""",
        """CREATE TABLE written (
            uid TEXT NOT NULL,
            target TEXT NOT NULL,
            key TEXT NOT NULL,
            kind TEXT NOT NULL,
            channel TEXT,
            company TEXT NOT NULL,
            interview_identity TEXT NOT NULL,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            written_at TEXT NOT NULL,
            deleted_by_user INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (uid, target))""",
        "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # removed_at: we took it off that calendar (re-planned away before it fell due)
        "ALTER TABLE written ADD COLUMN removed_at TEXT",
        """CREATE TABLE planned (
            uid TEXT PRIMARY KEY,
            app_key TEXT NOT NULL,
            company TEXT NOT NULL,
            kind TEXT NOT NULL,
            channel TEXT,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            summary TEXT NOT NULL,
            planned_at TEXT NOT NULL)""",
        "CREATE INDEX planned_app ON planned(app_key)",
    ),
    (
        # issue 12: a follow-up's event id on a calendar that keeps deleted ids reserved
        # (Google): generation N > 0 means the id with suffix N; 0 (no row) the plain one
        """CREATE TABLE event_generations (
            target TEXT NOT NULL,
            uid TEXT NOT NULL,
            generation INTEGER NOT NULL CHECK (generation >= 0),
            PRIMARY KEY (uid, target))""",
    ),
    (
        # issue 14: a reply found in a mailbox is recorded once, however often it is seen
        # (source "mail:ACCOUNT:<Message-ID>"; the outcomes table had the column already)
        "CREATE UNIQUE INDEX outcomes_mail_source ON outcomes(source) "
        "WHERE source LIKE 'mail:%'",
    ),
)
MAIL_SOURCE = "mail:"  # + account name + ":" + Message-ID (issue 14)
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    return state_path()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP)) / "state.db"


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Readers never wait for a writer. Two first opens race to switch, and
    SQLite answers "locked" at once there (no busy handler), so retry."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _ts(t: datetime) -> str:
    if t.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return t.astimezone(timezone.utc).isoformat(timespec="seconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _people(text: str) -> tuple[Person, ...]:
    return tuple(Person(p.get("name"), p.get("email")) for p in json.loads(text or "[]"))


def _people_json(people: Iterable[Person]) -> str:
    return json.dumps([{"name": p.name, "email": p.email} for p in people], ensure_ascii=False)


def content_hash(f: FollowUp) -> str:
    """What a calendar shows of a follow-up: a change means rewrite (and bump SEQUENCE)."""
    parts = (f.kind, f.channel or "", _ts(f.start), _ts(f.end), f.summary, f.description,
             f.timezone, "busy" if f.busy else "free")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# -- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    key: str
    company: str
    role: str | None
    last_interview: datetime | None
    interviewers: tuple[Person, ...]
    interviews: tuple[str, ...]


@dataclass(frozen=True)
class SeenInterview:
    identity: str
    app_key: str
    company: str
    role: str | None
    start: datetime
    end: datetime
    interviewers: tuple[Person, ...]


@dataclass(frozen=True)
class LoggedOutcome:
    company: str
    kind: str
    at: datetime
    recorded_at: datetime
    source: str = "cli"

    def model(self, company: str | None = None) -> Outcome:
        return Outcome(company or self.company, self.kind, self.at)


@dataclass(frozen=True)
class LoggedContact:
    company: str
    via: str
    at: datetime
    recorded_at: datetime
    source: str = "cli"

    def model(self, company: str | None = None) -> Contact:
        return Contact(company or self.company, self.at, self.via)


@dataclass(frozen=True)
class Written:
    uid: str
    target: str  # "ics:/abs/path", "ics:-" (stdout), "google:CALENDAR_ID"
    key: str
    kind: str
    channel: str | None
    company: str
    interview_identity: str
    start: datetime
    end: datetime
    content_hash: str
    written_at: datetime
    deleted_by_user: bool = False
    removed_at: datetime | None = None


@dataclass(frozen=True)
class Planned:
    uid: str
    app_key: str
    company: str
    kind: str
    channel: str | None
    start: datetime
    end: datetime
    summary: str
    planned_at: datetime


@dataclass(frozen=True)
class StatusRow:
    company: str
    role: str | None
    last_interview: datetime | None
    interviewers: tuple[Person, ...]
    inquiries_made: int
    inquiries_allowed: int
    next: Planned | None
    outcome: str | None
    replied: datetime | None = None  # issue 14: the latest reply found in a mailbox

    def as_json(self, user_tz) -> dict:
        def iso(t: datetime | None) -> str | None:
            return t.astimezone(user_tz).isoformat() if t else None

        return {
            "company": self.company,
            "role": self.role,
            "last_interview": iso(self.last_interview),
            "interviewers": [{"name": p.name, "email": p.email} for p in self.interviewers],
            "inquiries_made": self.inquiries_made,
            "inquiries_allowed": self.inquiries_allowed,
            "next": {"kind": self.next.kind, "start": iso(self.next.start)} if self.next else None,
            "outcome": self.outcome,
            "replied": iso(self.replied),
        }


# -- names: what the user typed vs. what the calendar says ------------------------------


def candidates(name: str, names: Iterable[str]) -> list[str]:
    """The applications `name` may mean, one display name per application.

    Same key first ("ACME" = "Acme Corp"); else whole words of it inside a
    name ("robotics" → "Acme Robotics"), or the same letters without spaces.
    Loose on purpose: the user types from memory; two hits are refused upstream.
    """
    want = company_key(name)
    if not want:
        return []
    by_key: dict[str, str] = {}
    for n in names:
        by_key.setdefault(company_key(n), n)
    if want in by_key:
        return [by_key[want]]
    compact = want.replace(" ", "")
    return [n for k, n in by_key.items()
            if f" {want} " in f" {k} " or k.replace(" ", "") == compact]


def resolve(name: str, names: Sequence[str]) -> str:
    """The plan's spelling when exactly one application fits, else as typed."""
    found = candidates(name, names)
    return found[0] if len(found) == 1 else name


def build_history(
    outcomes: Iterable[LoggedOutcome],
    contacts: Iterable[LoggedContact],
    written: Iterable[Written],
    names: Sequence[str],
    settings: Settings,
    now: datetime,
    also_logged: Iterable[Contact] = (),
) -> History:
    """What the planner must know, named as the plan names companies.

    A check-in written to a calendar whose time has passed counts as made
    (issue 4): the plan then stays the same from run to run. Not when the
    user deleted it, when we took it off again before it fell due, or when
    the user logged a contact within `inquiry_gap_days` of it: the log is the
    truth about that inquiry. `also_logged` are contacts the planner reads
    from tags itself; they only take part in that last test.
    """
    gap = timedelta(days=settings.inquiry_gap_days)
    outs = tuple(o.model(resolve(o.company, names)) for o in outcomes)
    logged = [c.model(resolve(c.company, names)) for c in contacts]
    known = [*logged, *also_logged]
    rows = list(written)
    deleted = {w.uid for w in rows if w.deleted_by_user}
    counted: set[str] = set()
    made: list[Contact] = []
    for w in sorted(rows, key=lambda w: (w.start, w.uid)):
        if (w.kind != "check_in" or w.uid in deleted or w.uid in counted
                or w.removed_at is not None or w.start > now):
            continue
        company = resolve(w.company, names)
        key = company_key(company)
        if any(company_key(c.company) == key and abs(c.at - w.start) < gap for c in known):
            continue
        counted.add(w.uid)
        made.append(Contact(company, w.start, w.channel or settings.check_in_channel))
    # written, still there, and due: the user has seen it; don't move it to now again
    shown = frozenset(w.uid for w in rows if w.uid not in deleted and w.removed_at is None
                      and w.start < now)
    return History(contacts=(*logged, *made), outcomes=outs, shown=shown)


def application_state(
    key: str, history: History, planned: Iterable[Planned], now: datetime
) -> tuple[int, str | None, Planned | None]:
    """Inquiries made, the outcome word, the next planned item: as the planner counts."""
    mine = [o for o in history.outcomes if company_key(o.company) == key]
    final = sorted((o for o in mine if o.kind in FINAL), key=lambda o: o.at)
    heard = sorted((o for o in mine if o.kind == "heard-back"), key=lambda o: o.at)
    since = heard[-1].at if heard else None
    made = sum(1 for c in history.contacts if company_key(c.company) == key
               and (since is None or c.at > since))
    outcome = final[-1].kind if final else (heard[-1].kind if heard else None)
    ahead = sorted((p for p in planned if p.app_key == key and p.start >= now),
                   key=lambda p: (p.start, p.uid))
    return made, outcome, (ahead[0] if ahead else None)


# -- the file -------------------------------------------------------------------------


class Ledger:
    """One open state file. Use as a context manager; writes go through `transaction`."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self._depth = 0

    @classmethod
    def open(cls, path: Path | str | None = None, *, timeout: float = 30.0) -> Ledger:
        """Open (creating and migrating as needed); waits up to `timeout` s for a writer."""
        path = Path(path) if path is not None else default_path()
        try:
            # the names and addresses of interviewers, how applications ended: the
            # owner's only (SQLite gives -wal and -shm the database file's mode)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{path}: cannot open the state file ({exc})") from None
        ledger = cls(conn, path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            _use_wal(conn, timeout)
            ledger._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerError(f"{path}: not a usable state file ({exc})") from None
        except BaseException:
            conn.close()
            raise
        return ledger

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; an inner call joins the outer one (one per command)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self.version == SCHEMA_VERSION:
            return
        with self.transaction():
            current = self.version  # another process may have migrated meanwhile
            if current > SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.path}: written by a newer {APP} (schema {current} > "
                    f"{SCHEMA_VERSION}); upgrade {APP}")
            for steps in MIGRATIONS[current:]:
                for sql in steps:
                    self.conn.execute(sql)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- key/value ----------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- applications -------------------------------------------------------------------

    def applications(self) -> list[Application]:
        rows = self.conn.execute(
            "SELECT key, company, role, last_interview, interviewers, interviews "
            "FROM applications ORDER BY last_interview DESC, company").fetchall()
        return [Application(k, c, r, _dt(t), _people(p), tuple(json.loads(i or "[]")))
                for k, c, r, t, p, i in rows]

    def interviews(self) -> list[SeenInterview]:
        """Every interview seen, in time order (issue 15: the status page's timeline)."""
        rows = self.conn.execute(
            'SELECT identity, app_key, company, role, start, "end", interviewers '
            "FROM interviews ORDER BY start, identity").fetchall()
        return [SeenInterview(i, k, c, r, _dt(s), _dt(e), _people(p))
                for i, k, c, r, s, e, p in rows]

    def match(self, name: str) -> list[Application]:
        """Applications seen that `name` may mean (see `candidates`)."""
        apps = self.applications()
        found = candidates(name, [a.company for a in apps])
        return [next(a for a in apps if a.company == n) for n in found]

    def remember(self, interviews: Iterable[Interview], items: Iterable[FollowUp],
                 settings: Settings, now: datetime) -> None:
        """Applications and interviews seen, their tags, and this plan (for `status`)."""
        from .detect import tag_history

        interviews = list(interviews)
        keys: set[str] = set()
        with self.transaction():
            for iv in interviews:
                key = company_key(iv.company)
                keys.add(key)
                self.conn.execute(
                    'INSERT INTO interviews (identity, app_key, company, role, start, "end", '
                    "interviewers, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (identity) DO UPDATE SET app_key = excluded.app_key, "
                    "company = excluded.company, role = excluded.role, start = excluded.start, "
                    '"end" = excluded."end", interviewers = excluded.interviewers, '
                    "seen_at = excluded.seen_at",
                    (iv.identity, key, iv.company, iv.role, _ts(iv.start), _ts(iv.end),
                     _people_json(iv.interviewers), _ts(now)))
                source = TAG_SOURCE + iv.identity
                self.conn.execute("DELETE FROM outcomes WHERE source = ?", (source,))
                self.conn.execute("DELETE FROM contacts WHERE source = ?", (source,))
                tags = tag_history([iv], settings)
                for o in tags.outcomes:
                    self._insert_outcome(o.company, o.kind, o.at, now, source)
                for c in tags.contacts:
                    self._insert_contact(c.company, c.via, c.at, now, source)
            for key in keys:
                self._refresh_application(key, now)
            placeholders = ",".join("?" * len(keys))
            self.conn.execute(f"DELETE FROM planned WHERE app_key IN ({placeholders})",
                              tuple(keys))
            for f in items:
                self.conn.execute(
                    'INSERT OR REPLACE INTO planned (uid, app_key, company, kind, channel, start, '
                    '"end", summary, planned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                    (f.uid, company_key(f.company), f.company, f.kind, f.channel, _ts(f.start),
                     _ts(f.end), f.summary, _ts(now)))

    def _refresh_application(self, key: str, now: datetime) -> None:
        rows = self.conn.execute(
            "SELECT identity, company, role, start, interviewers FROM interviews "
            "WHERE app_key = ? ORDER BY start, identity", (key,)).fetchall()
        people: dict[str, Person] = {}
        for row in rows:
            for p in _people(row[4]):
                people.setdefault(p.key(), p)
        role = next((r[2] for r in reversed(rows) if r[2]), None)
        self.conn.execute(
            "INSERT INTO applications (key, company, role, last_interview, interviewers, "
            "interviews, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET company = excluded.company, role = excluded.role, "
            "last_interview = excluded.last_interview, interviewers = excluded.interviewers, "
            "interviews = excluded.interviews, last_seen = excluded.last_seen",
            (key, rows[-1][1], role, rows[-1][3], _people_json(people.values()),
             json.dumps([r[0] for r in rows]), _ts(now), _ts(now)))

    # -- what the user logged ------------------------------------------------------------

    def _insert_outcome(self, company: str, kind: str, at: datetime, now: datetime,
                        source: str) -> bool:
        """False: a mail reply with this source is recorded already."""
        if kind not in OUTCOMES:
            raise ValueError(f"unknown outcome {kind!r}")
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO outcomes (company, kind, at, recorded_at, source) "
            "VALUES (?, ?, ?, ?, ?)", (company, kind, _ts(at), _ts(now), source))
        return cursor.rowcount == 1

    def _insert_contact(self, company: str, via: str, at: datetime, now: datetime,
                        source: str) -> None:
        self.conn.execute(
            "INSERT INTO contacts (company, via, at, recorded_at, source) VALUES (?, ?, ?, ?, ?)",
            (company, via, _ts(at), _ts(now), source))

    def add_outcome(self, company: str, kind: str, at: datetime, now: datetime,
                    source: str = "cli") -> bool:
        """Log an outcome; the remembered plan loses what it rules out (for `status`).

        A reply found in a mailbox comes here too (`source` "mail:..."), so it does
        exactly what `outcome COMPANY heard-back` does; False when already known.
        """
        key = company_key(company)
        with self.transaction():
            if not self._insert_outcome(company, kind, at, now, source):
                return False
            if kind in FINAL:
                self.conn.execute("DELETE FROM planned WHERE app_key = ? AND start >= ?",
                                  (key, _ts(at)))
            else:
                self.conn.execute(
                    "DELETE FROM planned WHERE app_key = ? AND kind IN (?, ?)", (key, *INQUIRIES))
        return True

    def add_contact(self, company: str, via: str, at: datetime, settings: Settings,
                    now: datetime) -> None:
        """Log an inquiry; remembered check-ins too close to it go (for `status`)."""
        with self.transaction():
            self._insert_contact(company, via, at, now, "cli")
            self.conn.execute(
                "DELETE FROM planned WHERE app_key = ? AND kind = 'check_in' AND start < ?",
                (company_key(company),
                 _ts(at + timedelta(days=settings.inquiry_gap_days))))

    def outcomes(self) -> list[LoggedOutcome]:
        rows = self.conn.execute(
            "SELECT company, kind, at, recorded_at, source FROM outcomes ORDER BY at, id")
        return [LoggedOutcome(c, k, _dt(a), _dt(r), s) for c, k, a, r, s in rows]

    def contacts(self) -> list[LoggedContact]:
        rows = self.conn.execute(
            "SELECT company, via, at, recorded_at, source FROM contacts ORDER BY at, id")
        return [LoggedContact(c, v, _dt(a), _dt(r), s) for c, v, a, r, s in rows]

    # -- what was written where ------------------------------------------------------------

    def record_written(self, target: str, items: Iterable[FollowUp], now: datetime,
                       untouched: Iterable[str] = ()) -> None:
        """These went to `target`; what it held before, still ahead and not among them, is
        gone, except the `untouched` uids (a write that failed: left as it was)."""
        items = list(items)
        with self.transaction():
            for f in items:
                self.conn.execute(
                    "INSERT INTO written (uid, target, key, kind, channel, company, "
                    'interview_identity, start, "end", content_hash, written_at) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (uid, target) DO UPDATE SET key = excluded.key, "
                    "kind = excluded.kind, channel = excluded.channel, "
                    "company = excluded.company, interview_identity = excluded.interview_identity, "
                    'start = excluded.start, "end" = excluded."end", '
                    "content_hash = excluded.content_hash, written_at = excluded.written_at, "
                    "removed_at = NULL",
                    (f.uid, target, f.key, f.kind, f.channel, f.company, f.interview_identity,
                     _ts(f.start), _ts(f.end), content_hash(f), _ts(now)))
            keep = {f.uid for f in items} | set(untouched)
            for (uid,) in self.conn.execute(
                    "SELECT uid FROM written WHERE target = ? AND removed_at IS NULL "
                    "AND start > ?", (target, _ts(now))).fetchall():
                if uid not in keep:
                    self.mark_removed(target, uid, now)

    def mark_removed(self, target: str, uid: str, now: datetime) -> None:
        """We took it off `target` before it fell due: it no longer counts as made."""
        with self.transaction():
            self.conn.execute("UPDATE written SET removed_at = ? WHERE target = ? AND uid = ?",
                              (_ts(now), target, uid))

    def record_removed(self, target: str, uid: str, start: datetime, end: datetime,
                       content_hash: str, now: datetime) -> None:
        """We take off `target` an event of ours that no row records (the run that wrote
        it was killed before its ledger update): remember that it was us, not the user,
        so that it comes back if it is planned again. What it was is unknown (key '')."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO written (uid, target, key, kind, channel, company, "
                'interview_identity, start, "end", content_hash, written_at, removed_at) '
                "VALUES (?, ?, '', '', NULL, '', '', ?, ?, ?, ?, ?) "
                "ON CONFLICT (uid, target) DO UPDATE SET removed_at = excluded.removed_at",
                (uid, target, _ts(start), _ts(end), content_hash, _ts(now), _ts(now)))

    def mark_deleted_by_user(self, target: str, uid: str) -> None:
        """The user deleted it: never re-create it, never count it as made."""
        with self.transaction():
            self.conn.execute(
                "UPDATE written SET deleted_by_user = 1 WHERE target = ? AND uid = ?",
                (target, uid))

    def generations(self, target: str) -> dict[str, int]:
        """uid -> the generation of its event id on `target` (missing: 0)."""
        rows = self.conn.execute(
            "SELECT uid, generation FROM event_generations WHERE target = ?", (target,))
        return dict(rows.fetchall())

    def set_generation(self, target: str, uid: str, generation: int) -> None:
        """The follow-up's event id on `target` moves on (the old one is unusable)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO event_generations (target, uid, generation) VALUES (?, ?, ?) "
                "ON CONFLICT (uid, target) DO UPDATE SET generation = excluded.generation",
                (target, uid, generation))

    def written(self, target: str | None = None) -> list[Written]:
        sql = ('SELECT uid, target, key, kind, channel, company, interview_identity, start, '
               '"end", content_hash, written_at, deleted_by_user, removed_at FROM written')
        args: tuple = ()
        if target is not None:
            sql, args = sql + " WHERE target = ?", (target,)
        rows = self.conn.execute(sql + " ORDER BY start, uid", args).fetchall()
        return [Written(u, t, k, kind, ch, co, ii, _dt(s), _dt(e), h, _dt(w), bool(d), _dt(r))
                for u, t, k, kind, ch, co, ii, s, e, h, w, d, r in rows]

    def planned(self) -> list[Planned]:
        rows = self.conn.execute(
            'SELECT uid, app_key, company, kind, channel, start, "end", summary, planned_at '
            "FROM planned ORDER BY start, uid").fetchall()
        return [Planned(u, k, c, kind, ch, _dt(s), _dt(e), sm, _dt(p))
                for u, k, c, kind, ch, s, e, sm, p in rows]

    # -- for the planner and for `status` --------------------------------------------------

    def history(self, interviews: Iterable[Interview], settings: Settings,
                now: datetime) -> History:
        """The planner's `History` for these interviews.

        Tag lines of the interviews being planned are left out: the planner
        reads them from the notes itself. Tags of interviews no longer in the
        window still count (a `#rejected` on round one stops round two).
        """
        from .detect import tag_history

        interviews = list(interviews)
        skip = {TAG_SOURCE + iv.identity for iv in interviews}
        names = list(dict.fromkeys(iv.company for iv in interviews))
        return build_history(
            [o for o in self.outcomes() if o.source not in skip],
            [c for c in self.contacts() if c.source not in skip],
            self.written(), names, settings, now,
            also_logged=tag_history(interviews, settings).contacts)

    def status(self, settings: Settings, now: datetime) -> list[StatusRow]:
        """One row per application seen, from what is stored (no calendar read)."""
        apps = self.applications()
        history = build_history(self.outcomes(), self.contacts(), self.written(),
                                [a.company for a in apps], settings, now)
        planned = self.planned()
        names = [a.company for a in apps]
        replied: dict[str, datetime] = {}
        for o in self.outcomes():
            if o.kind == "heard-back" and o.source.startswith(MAIL_SOURCE):
                key = company_key(resolve(o.company, names))
                replied[key] = max(o.at, replied.get(key, o.at))
        rows = []
        for app in apps:
            made, outcome, ahead = application_state(app.key, history, planned, now)
            rows.append(StatusRow(app.company, app.role, app.last_interview, app.interviewers,
                                  made, settings.max_inquiries, ahead, outcome,
                                  replied.get(app.key)))
        return rows
