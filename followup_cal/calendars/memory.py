"""An in-memory calendar: a `Source` and a `CalendarSink` that keep no tombstones.

It behaves as a CalDAV collection does (a deleted event is simply gone), so the
sync rules (`sync.reconcile`) and the shared sink contract (tests/sink_contract.py)
can be tested without a network. Several `MemoryCalendar`s may share one
`MemoryServer`, as several runs share one remote account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone

from ..ledger import content_hash
from .base import Reading, Remote

Hook = Callable[[str, str], None]  # (operation, uid or calendar name): raise to inject a fault


@dataclass(frozen=True)
class Stored:
    """One event as the server keeps it; `kind` is None for events not ours."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    kind: str | None = None
    content_hash: str = ""
    interview_mark: str = ""
    etag: int = 1


@dataclass
class MemoryServer:
    """The calendars of one account, by name; `log` lists every write made."""

    calendars: dict[str, dict[str, Stored]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    etags: int = 0

    def next_etag(self) -> int:
        self.etags += 1
        return self.etags


def _aware(t: date | datetime) -> datetime:
    if isinstance(t, datetime):
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return datetime.combine(t, time(), tzinfo=timezone.utc)


class MemoryCalendar:
    """Our follow-ups in `calendar` of `server`; source events in `events`."""

    def __init__(self, calendar: str = "Interview follow-ups", server: MemoryServer | None = None,
                 events: Iterable = (), hook: Hook | None = None) -> None:
        self.server = server if server is not None else MemoryServer()
        self.calendar = calendar
        self.events = list(events)
        self.hook = hook
        self.name = f"memory:{calendar}"
        self.target = f"memory:{calendar}"

    # -- Source ---------------------------------------------------------------------

    def read(self, window, settings) -> Reading:
        """The events overlapping the window (interviews and busy times alike)."""
        start, end = window.start, window.busy_end
        return Reading(tuple(e for e in self.events
                             if _aware(e.end) >= start and _aware(e.start) <= end))

    # -- CalendarSink ---------------------------------------------------------------

    def _objects(self) -> dict[str, Stored]:
        objects = self.server.calendars.get(self.calendar)
        if objects is None:
            raise LookupError(f"{self.target}: open() the calendar first")
        return objects

    def _call(self, operation: str, subject: str) -> None:
        if self.hook is not None:
            self.hook(operation, subject)

    def open(self, *, create: bool) -> bool:
        self._call("open", self.calendar)
        if self.calendar in self.server.calendars:
            return True
        if not create:
            return False
        self.server.calendars[self.calendar] = {}
        self.server.log.append(("mkcalendar", self.calendar))
        return True

    def list_ours(self, since: datetime) -> Mapping[str, Remote]:
        self._call("list", self.calendar)
        return {uid: Remote(uid, s.start, s.content_hash, s.interview_mark, etag=str(s.etag))
                for uid, s in self._objects().items() if s.kind and s.end > since}

    def _stored(self, f, mark: str) -> Stored:
        return Stored(f.uid, f.start, f.end, f.summary, f.description, f.kind,
                      content_hash(f), mark, self.server.next_etag())

    def create(self, f, mark: str) -> bool:
        self._call("create", f.uid)
        objects = self._objects()
        if f.uid in objects:
            return False
        objects[f.uid] = self._stored(f, mark)
        self.server.log.append(("create", f.uid))
        return True

    def update(self, f, mark: str) -> bool:
        self._call("update", f.uid)
        objects = self._objects()
        if f.uid not in objects or objects[f.uid].kind is None:
            return False
        objects[f.uid] = self._stored(f, mark)
        self.server.log.append(("update", f.uid))
        return True

    def delete(self, uid: str) -> None:
        self._call("delete", uid)
        objects = self._objects()
        if uid in objects and objects[uid].kind is not None:
            del objects[uid]
            self.server.log.append(("delete", uid))

    # -- what a user (or a test) does in the calendar app ------------------------------

    def put_foreign(self, uid: str, start: datetime, end: datetime, summary: str) -> None:
        """An event the user made: not ours, never listed, never touched."""
        self._objects()[uid] = Stored(uid, start, end, summary, etag=self.server.next_etag())

    def remove(self, uid: str) -> None:
        """The user deletes an event (no tombstone is kept)."""
        self._objects().pop(uid, None)

    def edit(self, uid: str, **changes) -> None:
        """The user edits an event (its ETag changes)."""
        objects = self._objects()
        objects[uid] = replace(objects[uid], etag=self.server.next_etag(), **changes)

    def get(self, uid: str) -> Stored | None:
        return self.server.calendars.get(self.calendar, {}).get(uid)

    def writes(self) -> int:
        return len(self.server.log)
