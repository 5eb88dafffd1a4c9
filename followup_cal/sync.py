"""Keeping a calendar in line with the plan: the one set of sync rules.

`reconcile` decides, for every follow-up planned and every event of ours the
calendar holds, what to do; a `calendars.base.CalendarSink` only does it.
The ledger's `written` table is the status database (vdirsyncer's): what we
wrote where, what we removed, what the user deleted. The rules (DESIGN.md
"Architecture"; issues 3, 12, 13):

- create what is missing; move what changed; leave alone what is the same
  (a sync where nothing changed makes no write at all);
- a follow-up that already fell due, whose interview did not move, is left
  where it was: its reminder did its job, chasing it forward would only nag;
- only our future events are deleted when no longer planned; the past is
  history; an event that is not ours is never listed, so never touched;
- a follow-up the user deleted stays deleted, even when planned again. A
  calendar that keeps tombstones (Google) says so; for one that keeps none
  (CalDAV, memory) it is inferred from the ledger: written by us, never
  removed by us, and now missing;
- one we removed ourselves (it fell out of the plan) comes back if planned again;
- crash safety: a removal is recorded before the delete, so a kill between
  the two cannot look like the user's deletion; what was written is recorded
  after the writes, and a write that is there but not yet recorded is found by
  the next listing (create answers "exists" and the event is updated instead);
- one event the calendar refuses (`errors.EventError`) is a failure counted in
  the result (exit 1); the others are still written, and its ledger rows stay
  as they were, so the next sync retries it.

The decisions are one table (`decide`, `decide_missing`, `decide_unplanned`),
applied by `reconcile` over the `CalendarSink` protocol for every backend
(memory, CalDAV, Google). Google's own mechanics stay in its sink: ids by
generation (Google keeps a deleted id reserved), tombstones, 409-then-get; it
names events by FollowUp.key, so it is told the keys and generations the
ledger knows (`base.NamesByKey.known`) and reconcile records the generations
it moved on to with what was written (a killed run finds them again by the
key hash each event carries).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .errors import EventError

if TYPE_CHECKING:
    from .calendars.base import CalendarSink, Remote
    from .ledger import Ledger
    from .model import FollowUp, Interview

LOCK_WAIT_SECONDS = 5.0  # a second sync waits this long, then leaves it to the first
LOCK_POLL_SECONDS = 0.1
LISTING_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Change:
    action: str  # create, update, delete, restore, unchanged, kept-deleted, skipped, failed
    event_id: str
    summary: str
    start: datetime | None


@dataclass
class SyncResult:
    calendar_id: str | None
    target: str
    dedicated: bool = True  # the "Interview follow-ups" calendar, not a --target
    calendar_created: bool = False
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    failures: list[str] = field(default_factory=list)  # one line per event not written
    mail_skipped: tuple[str, ...] = ()  # issue 14: "mail.NAME" accounts not read this run
    mail_notes: tuple[str, ...] = ()  # issue 14: replies that ended inquiries

    def count(self, *actions: str) -> int:
        return sum(1 for c in self.changes if c.action in actions)

    @property
    def writes(self) -> int:
        return self.count("create", "update", "delete", "restore") + self.calendar_created


def content_hash(f: FollowUp) -> str:
    """What a calendar shows of a follow-up: a change means rewrite (and bump SEQUENCE)."""
    from .ledger import content_hash as of

    return of(f)


def interview_mark(iv: Interview | None) -> str:
    """Which version of its interview a follow-up was planned from: a moved interview
    moves its follow-ups even after they fell due."""
    if iv is None:
        return ""
    text = "/".join(t.astimezone(timezone.utc).isoformat() for t in (iv.start, iv.end))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- the decisions: the rules above as a table, used by reconcile and the Google sink ----------


def decide(*, cancelled: bool, removed_by_us: bool, same_content: bool, same_interview: bool,
           start: datetime | None, now: datetime) -> str:
    """A planned follow-up whose event the calendar holds (maybe as a tombstone):
    "restore", "kept-deleted", "unchanged", "fell-due" (leave it where it is) or "update"."""
    if cancelled:  # deleted: by us when it fell out of the plan (it comes back), else the user
        return "restore" if removed_by_us else "kept-deleted"
    if same_content and same_interview:
        return "unchanged"
    if start is not None and start <= now and same_interview:
        # it already fell due and its interview did not move: its reminder has done its
        # job; moving it on to "now" every run would only nag
        return "fell-due"
    return "update"


def decide_missing(*, recorded_live: bool, removed_by_us: bool) -> str:
    """A planned follow-up the calendar does not list: "kept-deleted" when we wrote it
    and never removed it (the user deleted it, on a calendar without tombstones),
    "restore" when we removed it, else "create"."""
    if recorded_live:
        return "kept-deleted"
    return "restore" if removed_by_us else "create"


def decide_unplanned(*, cancelled: bool, recorded_live: bool, start: datetime | None,
                     now: datetime) -> str:
    """An event of ours no longer planned: "user-deleted" (a tombstone of one we wrote and
    never removed: the user's word, even if it is planned again), "leave" (the past is
    history) or "delete" (still ahead)."""
    if cancelled:
        return "user-deleted" if recorded_live else "leave"
    if start is None or start <= now:
        return "leave"
    return "delete"


def reconcile(plan: Sequence[FollowUp], sink: CalendarSink, ledger: Ledger, now: datetime, *,
              dry_run: bool = False, interviews: Iterable[Interview] = ()) -> SyncResult:
    """Bring `sink` in line with `plan` by the rules above; what was done.

    `interviews` are the ones the plan came from (to tell a moved interview).
    """
    return _Reconciler(sink, ledger, now, dry_run, interviews).run(plan)


class _Reconciler:
    def __init__(self, sink: CalendarSink, ledger: Ledger, now: datetime, dry_run: bool,
                 interviews: Iterable[Interview]):
        self.sink, self.ledger, self.now, self.dry_run = sink, ledger, now, dry_run
        self.interviews = {iv.identity: iv for iv in interviews}
        self.result = SyncResult(None, sink.target, dry_run=dry_run)
        self.user_deleted: list[str] = []
        self.failed: list[str] = []

    def note(self, action: str, uid: str, summary: str, start: datetime | None) -> None:
        self.result.changes.append(Change(action, uid, summary, start))

    def run(self, plan: Sequence[FollowUp]) -> SyncResult:
        opened = self.sink.open(create=not self.dry_run)
        target = self.result.target = self.sink.target
        self.result.calendar_id = target if opened else None
        written = {w.uid: w for w in self.ledger.written(target)} if opened else {}
        generations = self.ledger.generations(target) if opened else {}
        names = getattr(self.sink, "known", None)  # optional: base.NamesByKey
        if opened and names is not None:
            keys = {uid: w.key for uid, w in written.items() if w.key}
            names({**keys, **{f.uid: f.key for f in plan}}, generations)
        since = min([self.now, *(f.start for f in plan)]) - LISTING_MARGIN
        existing = dict(self.sink.list_ours(since)) if opened else {}
        present: list[FollowUp] = []
        planned = {f.uid for f in plan}
        for f in plan:
            w = written.get(f.uid)
            if w is not None and w.deleted_by_user:
                self.note("kept-deleted", f.uid, f.summary, f.start)
                present.append(f)
                continue
            try:
                there = self.one(f, existing.get(f.uid), w, since)
            except EventError as exc:
                self.failed.append(f.uid)
                self.result.failures.append(f"{f.summary!r}: {exc}")
                self.note("failed", f.uid, f.summary, f.start)
                continue
            if there is not None:
                present.append(there)
        for uid, remote in sorted(existing.items()):
            if uid not in planned:
                self.unplanned(uid, remote, written.get(uid))
        for uid, w in written.items():
            if (uid not in planned and uid not in existing and w.removed_at is None
                    and not w.deleted_by_user and w.end > since and w.start > self.now):
                self.user_deleted.append(uid)  # ours, live, and gone: the user deleted it
        if not self.dry_run and opened:
            with self.ledger.transaction():
                self.ledger.record_written(target, present, self.now, untouched=self.failed)
                for uid in self.user_deleted:
                    self.ledger.mark_deleted_by_user(target, uid)
                if names is not None:  # ids that moved on (reserved by the service)
                    for uid, n in self.sink.id_generations().items():
                        if generations.get(uid, 0) != n:
                            self.ledger.set_generation(target, uid, n)
        return self.result

    def one(self, f: FollowUp, remote: Remote | None, w, since: datetime) -> FollowUp | None:
        """Create, move or leave one follow-up; the FollowUp now on the calendar."""
        mark = interview_mark(self.interviews.get(f.interview_identity))
        removed_by_us = w is not None and w.removed_at is not None
        if remote is None:
            action = decide_missing(recorded_live=w is not None and not removed_by_us
                                    and w.end > since, removed_by_us=removed_by_us)
        else:
            action = decide(cancelled=remote.cancelled, removed_by_us=removed_by_us,
                            same_content=remote.content_hash == content_hash(f),
                            same_interview=remote.interview_mark == mark,
                            start=remote.start, now=self.now)
        if action == "kept-deleted":
            self.user_deleted.append(f.uid)  # deleted, and not by us: it stays deleted
            self.note("kept-deleted", f.uid, f.summary, f.start)
            return f
        if action == "unchanged":
            self.note("unchanged", f.uid, f.summary, f.start)
            return f
        if action == "fell-due":
            self.note("unchanged", f.uid, f.summary, f.start)
            end = remote.end if remote.end is not None else remote.start + (f.end - f.start)
            return dataclasses.replace(f, start=remote.start, end=end)
        # create, restore (a tombstone comes back by an update), update
        if not self.write(f, mark, action, create_first=remote is None,
                          removed_by_us=removed_by_us):
            self.user_deleted.append(f.uid)
            self.note("kept-deleted", f.uid, f.summary, f.start)
        return f

    def write(self, f: FollowUp, mark: str, action: str, *, create_first: bool,
              removed_by_us: bool) -> bool:
        """create (or update when it exists after all), else update (or create when it
        vanished meanwhile). False: the create met a tombstone the listing did not show
        (an old one, with the ledger lost): the user's deletion, left as it is."""
        if not self.dry_run:
            first, then = ((self.sink.create, self.sink.update) if create_first
                           else (self.sink.update, self.sink.create))
            if not first(f, mark):
                met = getattr(self.sink, "met_tombstone", None)
                if (create_first and met is not None and met(f.uid)
                        and decide(cancelled=True, removed_by_us=removed_by_us,
                                   same_content=False, same_interview=False, start=None,
                                   now=self.now) != "restore"):
                    return False
                if not then(f, mark):
                    raise EventError("it changed on the calendar while syncing; the next sync "
                                     "retries it")
        self.note(action, f.uid, f.summary, f.start)
        return True

    def unplanned(self, uid: str, remote: Remote, w) -> None:
        """An event of ours no longer planned: deleted if still ahead."""
        action = decide_unplanned(
            cancelled=remote.cancelled, start=remote.start, now=self.now,
            recorded_live=w is not None and w.removed_at is None and not w.deleted_by_user)
        if action == "user-deleted":
            self.user_deleted.append(uid)
        if action != "delete":
            return
        if not self.dry_run:
            try:
                # first, so that a kill after the delete cannot look like the user's
                if w is not None:
                    self.ledger.mark_removed(self.sink.target, uid, self.now)
                else:  # ours, but the run that wrote it was killed before recording it
                    self.ledger.record_removed(self.sink.target, uid, remote.start,
                                               remote.end or remote.start,
                                               remote.content_hash, self.now)
                self.sink.delete(uid)
            except EventError as exc:
                self.result.failures.append(f"{uid}: {exc}")
                self.note("failed", uid, "", remote.start)
                return
        self.note("delete", uid, "", remote.start)


# -- one sync at a time ---------------------------------------------------------------------


@contextlib.contextmanager
def sync_lock(wait: float | None = None) -> Iterator[bool]:
    """An exclusive lock on `sync.lock` beside the state file; yields False if busy.

    The kernel drops the lock when the process dies, however it dies: a killed
    sync never leaves a stale lock behind.
    """
    from .paths import lock_path

    wait = LOCK_WAIT_SECONDS if wait is None else wait
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fh = open(path, "a+")  # noqa: SIM115 (held for the whole block)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(LOCK_POLL_SECONDS)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            yield True
        finally:
            _unlock(fh)
    finally:
        fh.close()


def _try_lock(fh) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except (BlockingIOError, PermissionError):
        return False


def _unlock(fh) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        with contextlib.suppress(OSError):
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
