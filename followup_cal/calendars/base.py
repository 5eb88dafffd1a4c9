"""What every calendar service implements (../shared/ARCHITECTURE.md 4.1).

A service is one module in this package and is a `Source` (events in a window)
and, where it can be written, a `CalendarSink` (our follow-ups kept in line by
`sync.reconcile`). Sinks decide no policy: which event to create, move or
delete, and what the user deleted, is decided once in `sync.py`. The
docstrings below are the contract the shared sink tests check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ..model import Reading  # noqa: F401  (defined with the model: .ics runs need no Protocol)

if TYPE_CHECKING:  # the model is only needed by type checkers here
    from ..config import Settings
    from ..model import FollowUp, Window


class Source(Protocol):
    name: str  # "ics:/abs/path", "google:primary", "caldav:work"

    def read(self, window: Window, settings: Settings) -> Reading:
        """Every event overlapping `window` (interviews in [start, end], busy
        times in [busy_start, busy_end]), recurrences expanded.

        One event the service cannot read is a warning in the Reading, never an
        exception; an unreachable service or a refused password raises a
        `followup_cal.errors` error with its exit code.
        """
        ...


@dataclass(frozen=True)
class Remote:
    """One of OUR events as the calendar holds it."""

    uid: str  # FollowUp.uid
    start: datetime | None
    content_hash: str  # what we wrote (sync.content_hash), to tell changed from unchanged
    interview_mark: str  # which version of the interview it was planned from
    cancelled: bool = False  # a tombstone the user left (Google); CalDAV keeps none
    etag: str | None = None  # the server's version tag, for conditional writes
    end: datetime | None = None  # where it ends now (a follow-up that fell due stays put)


class CalendarSink(Protocol):
    """A calendar that is kept in line with the plan (Google, CalDAV).

    Each write raises `followup_cal.errors.EventError` for a problem of that
    event alone (sync.reconcile counts it as failed and goes on with the
    others); any other error (auth, quota, unreachable) stops the run. A sink
    stores `sync.content_hash(f)` and the `mark` it is given with the event and
    lists them back in `Remote`.
    """

    target: str  # the ledger key: "google:<id>", "caldav:<url>"

    def open(self, *, create: bool) -> bool:
        """Find our calendar, creating it when `create` and it is missing.

        False: it does not exist and was not created (a dry run). Never creates a
        second one: a calendar that cannot be proven missing is an error.
        """
        ...

    def list_ours(self, since: datetime) -> Mapping[str, Remote]:
        """Our events ending after `since`, by uid; events not ours never appear."""
        ...

    def create(self, f: FollowUp, mark: str) -> bool:
        """Write a new event. False: one with that uid exists already (a sink may
        answer True when it is ours with exactly this content and mark: an earlier
        attempt of this write that landed unseen)."""
        ...

    def update(self, f: FollowUp, mark: str) -> bool:
        """Replace our event with `f`. False: it vanished meanwhile. On a calendar
        that keeps tombstones, one listed cancelled is brought back (reconcile asks
        only when the rules say so: we removed it, it is planned again)."""
        ...

    def delete(self, uid: str) -> None:
        """Remove our event; one already gone is fine."""
        ...


class NamesByKey(Protocol):
    """Optional, for a sink that names events by `FollowUp.key`, not by uid (Google:
    the event id is a hash of the key, with a generation when the service keeps an
    old id reserved). `sync.reconcile` calls `known` after `open` and before
    `list_ours`, and records `id_generations()` in the ledger with what it wrote.
    Capabilities the sink contract reads: `tombstones` (a deleted event stays
    listed, `Remote.cancelled`) and `uids_from_keys` (uid is `rules.uid_for(key)`).
    """

    def known(self, keys: Mapping[str, str], generations: Mapping[str, int]) -> None:
        """uid -> key of every follow-up planned or recorded (to name tombstones that
        carry nothing but their id); uid -> generation the ledger recorded."""
        ...

    def id_generations(self) -> Mapping[str, int]:
        """uid -> the generation of the event id it goes by now."""
        ...

    def met_tombstone(self, uid: str) -> bool:
        """True when the last `create(uid)` answered False because it met a deleted
        event (a tombstone the listing had not shown): reconcile then decides, as for
        a listed one, whether that deletion was the user's."""
        ...


class FileSink(Protocol):
    """A target replaced whole (an .ics file, stdout)."""

    target: str

    def write_all(self, items: Sequence[FollowUp], settings: Settings, now: datetime) -> None:
        ...
