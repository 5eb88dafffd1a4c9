"""Google Calendar: read interviews and busy times, write follow-ups back.

`GoogleCalendar` is the Source (registry kind "google"); `Sink` keeps the
dedicated (or --target) calendar in line, deciding by sync.py's table. The
package: client.py (requests, retries, one-line errors), auth.py (sign-in,
token), events.py (Google's JSON both ways), dedicated.py (our calendar).

Source: `events.list` with `singleEvents=true` over the planning window, every
page, on each configured calendar; Google's JSON becomes `CalendarEvent`s and
`detect.collect` does the rest, exactly as for .ics files.

Sink: reconcile, never append. Every follow-up has a deterministic event id
(lowercase base32hex of the sha256 of its identity) and private extended
properties that mark it as ours, with its identity hash and a content hash.
Each sync creates what is missing, patches what changed, deletes our future
events that are no longer planned, and leaves everything else alone: a sync
where nothing changed makes no write at all. A deleted event keeps its id on
Google, so an insert of an id the user deleted comes back 409; the event is
then fetched and, being cancelled, left deleted for good. Once purged, a
deleted event's id may stay reserved (409 on insert, 404 on get): the
follow-up then moves on to the id's next generation, recorded in the ledger.
Events are matched to follow-ups by the identity hash they carry, so a lost
state file finds every generation again. One event Google refuses is a
failure counted in the result; the others are still written.

The client is the real google-api-python-client; its modules are imported
inside the functions so that commands which never talk to Google stay light.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from ...config import ConfigError, Settings
from ...errors import EventError
from ...model import CalendarEvent, FollowUp, Interview, Window
from ...rules import key_digest
from ...sync import Change, SyncResult, decide, decide_unplanned, interview_mark
from ..base import Reading, Remote
from . import client as _client
from .client import (
    API_URL_ENV,
    NOT_FOUND_TRIES,
    QUOTA_REASONS,
    SCOPE_REASONS,
    CalendarNotFound,
    Client,
    GoogleError,
    QuotaError,
    build_service,
    describe,
    http_reasons,
    http_status,
    one_line_errors,
)
from .dedicated import CALENDAR_NAME, CALENDAR_STATE, Dedicated
from .events import (
    COLORS,
    CONTENT_PROP,
    EMAIL,
    HASH_PROP,
    ID_LENGTH,
    KEY_PROP,
    MARKER_KEY,
    MARKER_VALUE,
    WHEN_PROP,
    _private,
    _rfc3339,
    event_body,
    event_id,
    generation_of,
    is_ours,
    parse_when,
    self_addresses,
    to_event,
    uid_for_digest,
)

__all__ = [  # what other modules and the tests use by this name
    "API_URL_ENV", "CALENDAR_NAME", "CALENDAR_STATE", "COLORS", "CalendarNotFound", "Client",
    "GoogleCalendar", "GoogleError", "GoogleSource", "KEY_PROP", "MARKER_KEY", "MARKER_VALUE",
    "NOT_FOUND_TRIES", "ProtocolSink", "QuotaError", "Sink", "_private", "build_service",
    "event_body", "event_id", "generation_of", "http_reasons", "is_ours", "key_digest",
    "self_addresses", "sync", "to_event"]

MAX_GENERATIONS = 8  # ids tried for one follow-up in one run before giving up on it


def read_events(client: Client, settings: Settings, window: Window,
                calendars: Sequence[str] | None = None
                ) -> tuple[list[CalendarEvent], set[str], list[str]]:
    """Every occurrence in the window on `calendars` (default: the configured ones);
    the user's addresses.

    The user is the primary calendar's id (and `me` in the config); `self` on
    another calendar is its owner, who may be someone else.
    """
    from googleapiclient.errors import HttpError

    events: list[CalendarEvent] = []
    primary = client.primary_id()
    me = {primary.lower()} if primary and EMAIL.match(primary) else set()
    warnings: list[str] = []
    for calendar_id in settings.google_calendars if calendars is None else calendars:
        own = calendar_id == "primary" or calendar_id.lower() in me | set(settings.me)
        try:
            for page, item in client.events(
                    calendar_id, singleEvents=True, showDeleted=False,
                    showHiddenInvitations=True,  # invitations not answered yet
                    timeMin=_rfc3339(window.start), timeMax=_rfc3339(window.busy_end)):
                if own:
                    me |= self_addresses(item)
                try:
                    ev = to_event(item, f"google:{calendar_id}", page.get("timeZone"), own)
                except (ValueError, TypeError) as exc:
                    warnings.append(f"google:{calendar_id}: skipped event {item.get('id')}: "
                                    f"{exc}")
                    continue
                if ev is not None:
                    events.append(ev)
        except HttpError as exc:
            if http_status(exc) == 404:
                raise ConfigError(f"google_calendars: no calendar {calendar_id!r} in this "
                                  "Google account") from None
            raise
    return events, me, warnings


class GoogleCalendar:
    """The Google account signed in with `followup-cal auth`, as a Source.

    Its `read` calendars and `retries` come from a `[calendars.google]` table,
    else from the `google_calendars` / `google_retries` settings (their old
    names). Writing is `sync` below (its own rules still, see sync.py).
    """

    name = "google"

    def __init__(self, account=None, settings: Settings | None = None,
                 client: Client | None = None):
        options = account.options if account is not None else {}
        self.calendars = account.texts("read") if "read" in options else None
        retries = options.get("retries")
        if retries is not None and (not isinstance(retries, int) or isinstance(retries, bool)
                                    or retries < 0):
            raise ConfigError(f"{account.where}.retries: expected a whole number >= 0")
        self.retries = retries
        self.client = client

    def connect(self, settings: Settings) -> Client:
        if self.client is None:
            self.client = Client.connect(settings, self.retries)
        return self.client

    def read(self, window: Window, settings: Settings) -> Reading:
        with one_line_errors():
            client = self.connect(settings)
            events, me, warnings = read_events(client, settings, window, self.calendars)
        return Reading(tuple(events), frozenset(me), tuple(warnings))


GoogleSource = GoogleCalendar  # the name pipeline tests use


# -- writing --------------------------------------------------------------------------------


class EventFailed(EventError):
    """One event could not be written; the run goes on with the others."""


def _fatal(exc: BaseException) -> bool:
    """Errors no other event would escape: the sign-in, the account's quotas."""
    from googleapiclient.errors import HttpError

    if not isinstance(exc, HttpError):
        return False
    status, reasons = http_status(exc), http_reasons(exc)
    return status == 401 or (status == 403 and any(
        r in SCOPE_REASONS or r in QUOTA_REASONS for r in reasons))


def _one_event_errors() -> tuple[type[BaseException], ...]:
    """What one insert/patch/delete may raise that is that event's problem alone."""
    import httplib2
    from googleapiclient.errors import HttpError

    return HttpError, httplib2.HttpLib2Error, OSError, EventFailed


class Sink(Dedicated):
    """Reconcile the dedicated (or --target) calendar with the plan."""

    def __init__(self, client: Client, ledger, settings: Settings, now: datetime, *,
                 target: str | None = None, dry_run: bool = False,
                 interviews: Iterable[Interview] = ()):
        self.client = client
        self.ledger = ledger
        self.settings = settings
        self.now = now
        self.target_arg = target
        self.dry_run = dry_run
        self.interviews = {iv.identity: iv for iv in interviews}
        self.result = SyncResult(None, "", dedicated=not target, dry_run=dry_run)
        self.target = ""  # "google:CALENDAR_ID" once known
        self.generations: dict[str, int] = {}  # uid -> generation of its event id

    @property
    def events_api(self):
        return self.client.service.events()

    def _list_ours(self, calendar_id: str) -> dict[str, dict]:
        """Our events on the target, deleted ones included, from the window's start.

        Not only future ones: a planned follow-up whose event already fell due
        is then known without an insert attempt (a write) on every run.
        """
        since = Window.around(self.now, self.settings).start - timedelta(days=1)
        found: dict[str, dict] = {}
        for _page, item in self.client.events(
                calendar_id, privateExtendedProperty=f"{MARKER_KEY}={MARKER_VALUE}",
                showDeleted=True, timeMin=_rfc3339(since), maxResults=2500):
            if item.get("id") and (is_ours(item) or item.get("status") == "cancelled"):
                found[item["id"]] = item
        return found

    def _existing(self) -> tuple[str | None, dict[str, dict]]:
        from googleapiclient.errors import HttpError

        calendar_id = self.calendar()
        if calendar_id is None:
            return None, {}
        if self.result.calendar_created:
            return calendar_id, {}  # just made: empty (and maybe not yet known everywhere)
        try:
            return calendar_id, self._list_ours(calendar_id)
        except HttpError as exc:
            if http_status(exc) not in (404, 410):
                raise
        if self._calendar_exists(calendar_id):
            try:
                return calendar_id, self._list_ours(calendar_id)
            except HttpError as exc:
                if http_status(exc) not in (404, 410):
                    raise
                raise GoogleError(f"Google Calendar answers 404 for the calendar {calendar_id}, "
                                  "which exists; try again later") from None
        if self.target_arg:
            raise CalendarNotFound(f"--target: no calendar {self.target_arg!r} in this "
                                   "Google account")
        # the user deleted the dedicated calendar: make a new one (or adopt another)
        if self.dry_run:
            self.result.warnings.append(f"the calendar {CALENDAR_NAME!r} ({calendar_id}) is "
                                        "gone; sync would create a new one")
            return None, {}
        self.ledger.set_state(CALENDAR_STATE, "")
        self.client.forget_calendar_list()
        gone = calendar_id
        calendar_id = self.calendar(gone=gone)
        self.result.warnings.append(
            f"the calendar {CALENDAR_NAME!r} ({gone}) is gone; "
            + ("created a new one" if self.result.calendar_created else "using " + calendar_id))
        if calendar_id is None or self.result.calendar_created:
            return calendar_id, {}
        return calendar_id, self._list_ours(calendar_id)

    # -- one follow-up ---------------------------------------------------------------------

    def _note(self, action: str, gid: str, summary: str, start: datetime | None) -> None:
        self.result.changes.append(Change(action, gid, summary, start))

    def _fresh(self, call):
        """Run a request on the calendar; on the one made in this run, a 404 is Google not
        knowing it everywhere yet: back off and try again."""
        from googleapiclient.errors import HttpError

        for attempt in range(NOT_FOUND_TRIES):
            try:
                return self.client.run(call())
            except HttpError as exc:
                if (http_status(exc) != 404 or not self.result.calendar_created
                        or attempt == NOT_FOUND_TRIES - 1):
                    raise
            _client.SLEEP(random.random() + 2 ** attempt)
        raise AssertionError("unreachable")

    def _get(self, calendar_id: str, gid: str) -> dict | None:
        from googleapiclient.errors import HttpError

        try:
            return self._fresh(lambda: self.events_api.get(calendarId=calendar_id,
                                                           eventId=gid))
        except HttpError as exc:
            if http_status(exc) in (404, 410):
                return None
            raise

    def _insert(self, calendar_id: str, gid: str, body: dict) -> dict | None:
        """Insert with our id; None when it exists already (409: ours or deleted)."""
        from googleapiclient.errors import HttpError

        try:
            return self._fresh(lambda: self.events_api.insert(
                calendarId=calendar_id, body={"id": gid, **body}))
        except HttpError as exc:
            if http_status(exc) == 409:
                return None
            raise

    def _patch(self, calendar_id: str, gid: str, body: dict,
               refused: tuple[int, ...] = (404, 410)) -> bool:
        """False when the event vanished under us (or the patch was `refused`)."""
        from googleapiclient.errors import HttpError

        try:
            self.client.run(self.events_api.patch(calendarId=calendar_id, eventId=gid,
                                                  body=body))
            return True
        except HttpError as exc:
            if http_status(exc) in refused:
                return False
            raise

    def _next_generation(self, f: FollowUp, gid: str) -> str:
        """This id is unusable for good (reserved by Google, or a deleted event of ours
        that cannot be brought back): the follow-up moves on to a fresh id, recorded
        before it is used so that a killed run picks the same one."""
        generation = max(generation_of(gid), self.generations.get(f.uid, 0)) + 1
        if generation >= MAX_GENERATIONS:
            raise EventFailed(f"Google refuses every id tried for it ({gid})")
        self.generations[f.uid] = generation
        self.ledger.set_generation(self.target, f.uid, generation)
        return event_id(f.key, generation)

    def _create(self, calendar_id: str, f: FollowUp, gid: str, body: dict
                ) -> tuple[str, dict | None]:
        """Insert under `gid`, or the next generation while Google keeps an id reserved.
        (id, None) once created; (id, event) when an event of that id is there already."""
        while True:
            if self._insert(calendar_id, gid, body) is not None:
                return gid, None
            current = self._get(calendar_id, gid)  # 409: ours already, or deleted
            if current is not None:
                return gid, current
            gid = self._next_generation(f, gid)  # 409 on insert, 404 on get: reserved

    def _settle(self, calendar_id: str, f: FollowUp, gid: str, body: dict, current: dict,
                removed_by_us: set[str], user_deleted: list[str],
                conflicted: bool = False) -> FollowUp | None:
        """Bring one existing event in line with `f`; the FollowUp now on the calendar."""
        private = _private(current)
        cancelled = current.get("status") == "cancelled"
        if not cancelled and not is_ours(current):
            self.result.warnings.append(f"event {gid} is not ours; left alone")
            self._note("skipped", gid, f.summary, f.start)
            return None
        want = body["extendedProperties"]["private"]
        start = parse_when(current.get("start"))
        action = decide(cancelled=cancelled, removed_by_us=f.uid in removed_by_us,
                        same_content=private.get(HASH_PROP) == want[HASH_PROP],
                        same_interview=private.get(WHEN_PROP) == want[WHEN_PROP],
                        start=start if isinstance(start, datetime) else None, now=self.now)
        if action == "restore":
            # we deleted it when it fell out of the plan; it is back: restore it, or
            # when Google will not (purged, or refused), give it a fresh id
            if not self.dry_run and not self._patch(calendar_id, gid, body,
                                                    refused=(403, 404, 410)):
                new, there = self._create(calendar_id, f, self._next_generation(f, gid),
                                          body)
                if there is not None:
                    return self._settle(calendar_id, f, new, body, there, removed_by_us,
                                        user_deleted, conflicted=True)
                gid = new
            self._note("restore", gid, f.summary, f.start)
            return f
        if action == "kept-deleted":
            user_deleted.append(f.uid)  # the user deleted it: it stays deleted
            self._note("kept-deleted", gid, f.summary, f.start)
            return f
        if action == "unchanged":
            # after a 409: our own retried insert had landed, so it was created now
            self._note("create" if conflicted else "unchanged", gid, f.summary, f.start)
            return f
        if action == "fell-due":  # left where it is (sync.decide)
            end = parse_when(current.get("end"))
            self._note("unchanged", gid, f.summary, f.start)
            return dataclasses.replace(f, start=start,
                                       end=end if isinstance(end, datetime) else start)
        if not self.dry_run and not self._patch(calendar_id, gid, body):
            gid, there = self._create(calendar_id, f, gid, body)  # it vanished under us
            if there is not None:
                raise EventFailed(f"event {gid} changed while syncing; the next sync "
                                  "retries it")
            self._note("create", gid, f.summary, f.start)
            return f
        self._note("update", gid, f.summary, f.start)
        return f

    def _current(self, f: FollowUp, existing: dict[str, dict], by_digest: dict[str, list[dict]]
                 ) -> tuple[str, dict | None, list[dict]]:
        """The event id `f` goes by, the event there now (None: none seen), and other
        live events of it (extras to remove). A live event wins over deleted ones; then
        the generation the ledger recorded; then the newest generation seen."""
        generation = self.generations.get(f.uid, 0)
        recorded = event_id(f.key, generation)
        seen = {e["id"]: e for e in by_digest.get(key_digest(f.key).hex(), ())}
        if recorded in existing:
            seen.setdefault(recorded, existing[recorded])
        live = sorted((e for e in seen.values() if e.get("status") != "cancelled"),
                      key=lambda e: generation_of(e["id"]))
        if live:
            current = live[-1]
        elif recorded in seen:
            current = seen[recorded]
        elif seen:
            current = max(seen.values(), key=lambda e: generation_of(e["id"]))
        else:
            return recorded, None, []
        gid = current["id"]
        if generation_of(gid) != generation and not self.dry_run:
            self.generations[f.uid] = generation_of(gid)  # state.db lost, or a killed run
            self.ledger.set_generation(self.target, f.uid, generation_of(gid))
        return gid, current, live[:-1]

    def _follow_up(self, calendar_id: str | None, f: FollowUp, existing: dict[str, dict],
                   by_digest: dict[str, list[dict]], removed_by_us: set[str],
                   user_deleted: list[str], extras: list[dict]) -> FollowUp | None:
        """Create, move or leave one follow-up; the FollowUp now on the calendar."""
        iv = self.interviews.get(f.interview_identity)
        body = event_body(f, self.settings, interview_mark(iv))
        gid, current, more = (self._current(f, existing, by_digest) if calendar_id
                              else (event_id(f.key), None, []))
        extras += more
        conflicted = False
        if current is None and calendar_id is not None:
            if self.dry_run:
                current = self._get(calendar_id, gid)
            else:
                gid, current = self._create(calendar_id, f, gid, body)
                if current is None:
                    self._note("create", gid, f.summary, f.start)
                    return f
                conflicted = True  # 409: there already (a retry that landed), or deleted
        if current is None:
            self._note("create", gid, f.summary, f.start)
            return f
        return self._settle(calendar_id, f, gid, body, current, removed_by_us, user_deleted,
                            conflicted)

    def _failed(self, f_summary: str, gid: str, start: datetime | None,
                exc: BaseException) -> None:
        from .auth import redact

        if isinstance(exc, EventFailed):
            reason = str(exc)
        else:
            reason = str(describe(exc)).removeprefix("Google Calendar error").lstrip(": ")
        self.result.failures.append(redact(f"{f_summary!r}: {reason}"))
        self._note("failed", gid, f_summary, start)

    # -- the whole plan --------------------------------------------------------------------

    def reconcile(self, items: Sequence[FollowUp]) -> SyncResult:
        calendar_id, existing = self._existing()
        result = self.result
        result.calendar_id = calendar_id
        target = f"google:{calendar_id or CALENDAR_NAME}"
        result.target = self.target = target
        written = self.ledger.written(target) if calendar_id else []
        self.generations = self.ledger.generations(target) if calendar_id else {}
        by_key = {key_digest(w.key).hex(): w for w in written if w.key}
        by_gid = {event_id(w.key, self.generations.get(w.uid, 0)): w for w in written if w.key}
        user_deleted_before = {w.uid for w in written if w.deleted_by_user}
        removed_by_us = {w.uid for w in written if w.removed_at is not None
                         and not w.deleted_by_user}
        by_digest: dict[str, list[dict]] = {}
        for item in existing.values():
            digest = _private(item).get(KEY_PROP)
            if digest:
                by_digest.setdefault(digest, []).append(item)
        present: list[FollowUp] = []
        user_deleted: list[str] = []  # ledger uids
        failed: list[str] = []  # ledger uids whose write failed: their rows stay as they are
        planned: set[str] = set()  # key digests
        claimed: set[str] = set()  # event ids that belong to a planned follow-up
        extras: list[dict] = []  # live events of a planned follow-up besides its own
        errors = _one_event_errors()

        for f in items:
            digest = key_digest(f.key).hex()
            planned.add(digest)
            claimed |= {e["id"] for e in by_digest.get(digest, ())}
            claimed |= {event_id(f.key, n) for n in range(self.generations.get(f.uid, 0) + 1)}
            if f.uid in user_deleted_before:
                self._note("kept-deleted", event_id(f.key, self.generations.get(f.uid, 0)),
                           f.summary, f.start)
                present.append(f)
                continue
            try:
                now_there = self._follow_up(calendar_id, f, existing, by_digest,
                                            removed_by_us, user_deleted, extras)
            except errors as exc:
                if _fatal(exc):
                    raise
                failed.append(f.uid)
                self._failed(f.summary, event_id(f.key, self.generations.get(f.uid, 0)),
                             f.start, exc)
                continue
            if now_there is not None:
                present.append(now_there)

        unplanned = [item for gid, item in sorted(existing.items()) if gid not in claimed]
        for item in [*unplanned, *extras]:
            gid = item["id"]
            digest = _private(item).get(KEY_PROP) or ""
            w = by_key.get(digest) or by_gid.get(gid)
            cancelled = item.get("status") == "cancelled"
            if not cancelled and not is_ours(item):
                continue
            start = parse_when(item.get("start"))
            recorded = (w is not None and w.removed_at is None and not w.deleted_by_user
                        and generation_of(gid) == self.generations.get(w.uid, 0)
                        and digest not in planned)  # its own generation, not re-planned
            action = decide_unplanned(cancelled=cancelled, recorded_live=recorded,
                                      start=start if isinstance(start, datetime) else None,
                                      now=self.now)
            if action == "user-deleted":
                user_deleted.append(w.uid)
            if action != "delete":
                continue
            summary = item.get("summary") or ""
            if not self.dry_run:
                try:
                    if digest not in planned:
                        # first, so a kill after the delete cannot look like a user's deletion
                        if w is not None:
                            self.ledger.mark_removed(target, w.uid, self.now)
                        else:  # ours, but the run that wrote it was killed before recording
                            self._record_removed(target, item, start)
                    self._delete(calendar_id, gid)
                except errors as exc:
                    if _fatal(exc):
                        raise
                    self._failed(summary, gid, start, exc)
                    continue
            self._note("delete", gid, summary, start)

        if not self.dry_run and calendar_id is not None:
            with self.ledger.transaction():
                self.ledger.record_written(target, present, self.now, untouched=failed)
                for uid in user_deleted:
                    self.ledger.mark_deleted_by_user(target, uid)
        return result

    def _record_removed(self, target: str, item: dict, start: datetime) -> None:
        key = _private(item).get(KEY_PROP) or ""
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            return
        end = parse_when(item.get("end"))
        self.ledger.record_removed(target, uid_for_digest(key), start,
                                   end if isinstance(end, datetime) else start,
                                   _private(item).get(HASH_PROP) or "", self.now)

    def _delete(self, calendar_id: str, gid: str) -> None:
        from googleapiclient.errors import HttpError

        try:
            self.client.run(self.events_api.delete(calendarId=calendar_id, eventId=gid))
        except HttpError as exc:
            if http_status(exc) not in (404, 410):  # 410: a retry whose first try landed
                raise


class ProtocolSink(Sink):
    """The Google calendar as a `calendars.base.CalendarSink`: one call at a time, the
    same Google mechanics as `Sink` (ids by generation, tombstones, 409 then get).

    Google keeps a deleted event as a cancelled tombstone under its id, so
    `list_ours` reports ours with `Remote.cancelled`, `create` of an id a
    tombstone holds answers False, and `update` of a listed tombstone brings it
    back (patch; when Google refuses, the follow-up moves on to its id's next
    generation, recorded in the ledger before it is used). Event ids derive from
    `FollowUp.key`, so a uid is `rules.uid_for(key)` (capability `uids_from_keys`).
    `google sync` still runs `Sink.reconcile`; moving it onto `sync.reconcile` is
    the next step (ARCHITECTURE.md 5.2).
    """

    tombstones = True  # a deleted event stays listed, cancelled
    uids_from_keys = True  # the event id is a hash of FollowUp.key

    def __init__(self, client: Client, ledger, settings: Settings, now: datetime, *,
                 target: str | None = None):
        super().__init__(client, ledger, settings, now, target=target)
        self._calendar = ""
        self._names: dict[str, str] = {}  # generation-0 event id -> uid
        self._ids: dict[str, str] = {}  # uid -> the event id it goes by now
        self._cancelled: dict[str, bool] = {}  # uid -> a tombstone, as last seen
        self._foreign: set[str] = set()  # uids whose event id holds an event not ours

    def open(self, *, create: bool) -> bool:
        self.dry_run = not create
        calendar_id, _listed = self._existing()
        self.result.calendar_id = calendar_id
        if calendar_id is None:
            return False
        self._calendar = calendar_id
        self.target = f"google:{calendar_id}"
        self.generations = self.ledger.generations(self.target)
        self._names.update({event_id(w.key): w.uid for w in self.ledger.written(self.target)
                            if w.key})
        return True

    def list_ours(self, since: datetime) -> dict[str, Remote]:
        seen: dict[str, list[dict]] = {}
        with self._one_event(translate=False):
            for _page, item in self.client.events(
                    self._calendar, privateExtendedProperty=f"{MARKER_KEY}={MARKER_VALUE}",
                    showDeleted=True, timeMin=_rfc3339(since), maxResults=2500):
                gid = item.get("id") or ""
                cancelled = item.get("status") == "cancelled"
                if not gid or not (cancelled or is_ours(item)):
                    continue
                digest = _private(item).get(KEY_PROP) or ""
                if re.fullmatch(r"[0-9a-f]{64}", digest):
                    self._names.setdefault(gid[:ID_LENGTH], uid_for_digest(digest))
                uid = self._names.get(gid[:ID_LENGTH])
                if uid is not None:
                    seen.setdefault(uid, []).append(item)
        found: dict[str, Remote] = {}
        for uid, items in seen.items():
            recorded = self.generations.get(uid, 0)
            # a live event wins, then the generation recorded, then the newest
            item = max(items, key=lambda e: (e.get("status") != "cancelled",
                                             generation_of(e["id"]) == recorded,
                                             generation_of(e["id"])))
            self._ids[uid] = item["id"]
            cancelled = self._cancelled[uid] = item.get("status") == "cancelled"
            private = _private(item)
            start, end = parse_when(item.get("start")), parse_when(item.get("end"))
            found[uid] = Remote(
                uid, start if isinstance(start, datetime) else None,
                private.get(CONTENT_PROP) or "", private.get(WHEN_PROP) or "",
                cancelled=cancelled, etag=item.get("etag"),
                end=end if isinstance(end, datetime) else None)
        return found

    def _id_of(self, f: FollowUp) -> str:
        self._names[event_id(f.key)] = f.uid
        return self._ids.get(f.uid) or event_id(f.key, self.generations.get(f.uid, 0))

    def create(self, f: FollowUp, mark: str) -> bool:
        body = event_body(f, self.settings, mark)
        with self._one_event():
            gid, there = self._create(self._calendar, f, self._id_of(f), body)
        self._ids[f.uid] = gid
        if there is None:
            self._cancelled[f.uid] = False
            return True
        cancelled = there.get("status") == "cancelled"
        if not cancelled and not is_ours(there):
            self._foreign.add(f.uid)  # never written over, never deleted
        self._cancelled[f.uid] = cancelled
        return False

    def update(self, f: FollowUp, mark: str) -> bool:
        if f.uid in self._foreign or f.uid not in self._ids:
            return False  # not ours, or never seen: nothing of ours to replace
        gid, body = self._ids[f.uid], event_body(f, self.settings, mark)
        with self._one_event():
            if self._cancelled.get(f.uid):
                # a tombstone: bring it back, or under the next id when Google refuses
                if not self._patch(self._calendar, gid, body, refused=(403, 404, 410)):
                    gid, there = self._create(self._calendar, f,
                                              self._next_generation(f, gid), body)
                    self._ids[f.uid] = gid
                    if there is not None:
                        return False
                self._cancelled[f.uid] = False
                return True
            from googleapiclient.errors import HttpError

            live = {k: v for k, v in body.items() if k != "status"}  # never revive one
            try:
                patched = self.client.run(self.events_api.patch(
                    calendarId=self._calendar, eventId=gid, body=live))
            except HttpError as exc:
                if http_status(exc) in (404, 410):
                    return False
                raise
        return isinstance(patched, dict) and patched.get("status") != "cancelled"

    def delete(self, uid: str) -> None:
        gid = self._ids.get(uid)
        if gid is None or uid in self._foreign:
            return  # nothing of ours known by that uid
        with self._one_event():
            self._delete(self._calendar, gid)
        self._cancelled[uid] = True

    @contextlib.contextmanager
    def _one_event(self, *, translate: bool = True):
        """One event's problem becomes an `EventError` (the run goes on); the sign-in
        and quotas stop the run as one line."""
        try:
            yield
        except EventFailed:
            raise
        except _one_event_errors() as exc:
            if _fatal(exc) or not translate:
                raise describe(exc) from None
            from .auth import redact

            reason = str(describe(exc)).removeprefix("Google Calendar error").lstrip(": ")
            raise EventFailed(redact(reason)) from None


def sync(sources: Sequence, settings: Settings, now: datetime, *,
         calendar: GoogleCalendar | None = None, target: str | None = None,
         dry_run: bool = False, client: Client | None = None,
         warn: Callable[[str], None] | None = None, mail: Sequence = ()
         ) -> tuple[list[FollowUp], SyncResult]:
    """Read `sources`, look for replies in the `mail` accounts, plan (the one pipeline),
    reconcile Google, record. Returns the plan and what was done. Google sources
    among `sources` share the sink's client."""
    from ... import pipeline
    from ...ledger import Ledger

    with one_line_errors():
        own = calendar or next((s for s in sources if isinstance(s, GoogleCalendar)),
                               GoogleCalendar())
        client = client or own.connect(settings)
        for source in sources:
            if isinstance(source, GoogleCalendar):
                source.client = client
        from . import auth

        with auth.saving_refreshes(client.creds):
            data = pipeline.collect(sources, settings, now)
            for w in data.warnings:
                if warn:
                    warn(w)
            with Ledger.open() as ledger:
                planned = pipeline.plan(data, settings, now, ledger, mail=mail)
                items = planned.items
                sink = Sink(client, ledger, settings, now, target=target, dry_run=dry_run,
                            interviews=data.interviews)
                result = sink.reconcile(items)
                result.warnings[:0] = planned.mail.warnings
                result.mail_skipped = planned.mail.skipped
                result.mail_notes = planned.mail.notes
                if not client.can_list and not target:
                    from .auth import CALENDARLIST_SCOPE, missing_message

                    result.warnings.append(missing_message({CALENDARLIST_SCOPE}))
    return items, result
