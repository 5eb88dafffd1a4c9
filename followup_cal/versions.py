"""Which version of an event is true, whatever order the calendars were read in.

The same event often arrives more than once: an export and a later invite
update, an invite and its Outlook cancellation, two exports of one calendar.
Every source's occurrences go through `merge` before anything is detected, so
the plan never depends on the order of the inputs (issue 10):

- occurrences are grouped by UID, and within a UID by RECURRENCE-ID;
- a version is newer by SEQUENCE (RFC 5545 3.8.7.4), then by its latest
  DTSTAMP/LAST-MODIFIED; at a tie an override (its own RECURRENCE-ID) beats
  what the series says, a cancellation beats the rest, and then the content
  decides, never the input order;
- the newest version of a series (master or plain event) sets the series: older
  versions of it, and overrides older than it, are dropped;
- a winner that is cancelled (METHOD:CANCEL on its calendar, or
  STATUS:CANCELLED) removes that occurrence, and a cancelled series removes all
  of its occurrences not newer than the cancellation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from .model import CalendarEvent

OLDEST = datetime.min.replace(tzinfo=timezone.utc)


def cancelled(event: CalendarEvent) -> bool:
    return event.method.upper() == "CANCEL" or event.status.upper() == "CANCELLED"


def _age(event: CalendarEvent) -> tuple:
    """How new this version is: SEQUENCE, then when it was last written."""
    return (event.sequence, event.stamp or OLDEST)


def _rank(event: CalendarEvent) -> tuple:
    """The order of versions of one occurrence; total, and blind to the input order."""
    return (*_age(event), event.override, cancelled(event), _content(event))


def _content(event: CalendarEvent) -> tuple:
    """A deterministic tie-break between two versions equally new (not the source)."""
    return (str(event.start), str(event.end), event.summary, event.description,
            event.status, event.method, event.transparent, repr(event.organizer),
            repr(event.attendees), str(event.tzid))


def merge(events: Iterable[CalendarEvent]) -> list[CalendarEvent]:
    """One version of each occurrence (the newest), cancelled ones left out.

    Sorted by UID, then RECURRENCE-ID, so the result is the same for any order
    of `events`.
    """
    by_uid: dict[str, list[CalendarEvent]] = {}
    for ev in events:
        by_uid.setdefault(ev.uid, []).append(ev)
    out: list[CalendarEvent] = []
    for uid in sorted(by_uid):
        out.extend(_merge_one(by_uid[uid]))
    return out


def _merge_one(versions: list[CalendarEvent]) -> list[CalendarEvent]:
    if len(versions) == 1:
        return [] if cancelled(versions[0]) else versions
    series = [v for v in versions if not v.override]
    newest = max(map(_age, series)) if series else None
    if newest is not None:
        if all(cancelled(v) for v in series if _age(v) == newest):
            # a cancelled master or plain event: the whole series goes, but for
            # an occurrence moved or re-sent after the cancellation
            versions = [v for v in versions if v.override and v.sequence > newest[0]]
        else:  # older versions of the series, and overrides from before it, go
            versions = [v for v in versions if _age(v) >= newest
                        or (v.override and v.sequence >= newest[0])]
    by_occurrence: dict[str | None, list[CalendarEvent]] = {}
    for v in versions:
        by_occurrence.setdefault(v.recurrence_id, []).append(v)
    kept = []
    for rid in sorted(by_occurrence, key=lambda r: (r is not None, r or "")):
        group = by_occurrence[rid]
        winner = group[0] if len(group) == 1 else max(group, key=_rank)
        if not cancelled(winner):
            kept.append(winner)
    return kept
