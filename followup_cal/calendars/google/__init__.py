"""Google Calendar: read interviews and busy times, write follow-ups back.

`GoogleCalendar` is the Source (registry kind "google"); `Sink` is the
dedicated (or --target) calendar as a `CalendarSink`, kept in line by
`sync.reconcile` (the one set of rules) like every other calendar. The
package: client.py (requests, retries, one-line errors), auth.py (sign-in,
token), events.py (Google's JSON both ways), dedicated.py (our calendar).

Source: `events.list` with `singleEvents=true` over the planning window, every
page, on each configured calendar; Google's JSON becomes `CalendarEvent`s and
`detect.collect` does the rest, exactly as for .ics files.

Sink: every follow-up has a deterministic event id (lowercase base32hex of
the sha256 of its identity) and private extended properties that mark it as
ours, with its identity hash, `sync.content_hash` and its interview's mark.
A deleted event keeps its id on Google as a cancelled tombstone, listed as
such, so reconcile leaves what the user deleted deleted; an insert of such an
id comes back 409 and the event is then fetched. Once purged, a deleted
event's id may stay reserved (409 on insert, 404 on get): the follow-up then
moves on to the id's next generation, which reconcile records in the ledger.
Events are matched to follow-ups by the identity hash they carry, so a lost
state file finds every generation again. One event Google refuses is an
`EventError` (a failure counted in the result; the others are still written).

The client is the real google-api-python-client; its modules are imported
inside the functions so that commands which never talk to Google stay light.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from ...config import ConfigError, Settings
from ...errors import EventError
from ...model import CalendarEvent, FollowUp, Window
from ...rules import key_digest
from ...sync import SyncResult, reconcile
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
    EMAIL,
    HASH_PROP,
    ID_LENGTH,
    KEY_PROP,
    MARKER_KEY,
    MARKER_VALUE,
    REMINDER_PROP,
    WHEN_PROP,
    _private,
    _rfc3339,
    event_body,
    event_id,
    generation_of,
    is_ours,
    parse_when,
    reminder_minutes,
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
    names). Writing is `Sink` below, through `sync.reconcile`.
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
    """The dedicated (or --target) Google calendar as a `calendars.base.CalendarSink`;
    `sync.reconcile` decides, this only does Google's mechanics:

    - event ids derive from `FollowUp.key` (`event_id`), with a generation once
      Google keeps an id reserved (insert 409, get 404): `create` moves on to
      the next one. Generations come from the ledger (`known`) and go back to
      it through `id_generations` (recorded by reconcile with what was written;
      a killed run finds the live generation again by the key hash it carries);
    - a deleted event stays as a cancelled tombstone under its id: `list_ours`
      reports it (`Remote.cancelled`), `create` of its id answers False, and
      `update` of a listed tombstone brings it back (patch; refused 403/404/410:
      the next generation);
    - 409 on insert: the event is fetched; one of ours with this very content is
      an earlier attempt that landed (True), anything else exists (False).
    """

    tombstones = True  # a deleted event stays listed, cancelled
    uids_from_keys = True  # the event id is a hash of FollowUp.key

    def __init__(self, client: Client, ledger, settings: Settings, now: datetime, *,
                 target: str | None = None):
        self.client = client
        self.ledger = ledger  # the dedicated calendar's id is kept there (dedicated.py)
        self.settings = settings
        self.now = now
        self.target_arg = target
        self.dry_run = False
        self.result = SyncResult(None, "", dedicated=not target)  # the calendar's story
        self.target = f"google:{target or CALENDAR_NAME}"
        self._calendar = ""
        self._listed: tuple[datetime, list[dict]] | None = None  # open()'s listing
        self._generations: dict[str, int] = {}  # uid -> generation of its event id
        self._names: dict[str, str] = {}  # generation-0 event id -> uid
        self._ids: dict[str, str] = {}  # uid -> the event id it goes by now
        self._cancelled: dict[str, bool] = {}  # uid -> a tombstone, as last seen
        self._foreign: set[str] = set()  # uids whose event id holds an event not ours

    @property
    def events_api(self):
        return self.client.service.events()

    # -- CalendarSink ----------------------------------------------------------------------

    def open(self, *, create: bool) -> bool:
        self.dry_run = not create
        calendar_id, listed = self._existing()
        self.result.calendar_id = calendar_id
        if calendar_id is None:
            return False
        self._calendar = calendar_id
        self.target = f"google:{calendar_id}"
        return True

    def known(self, keys: Mapping[str, str], generations: Mapping[str, int]) -> None:
        """What the ledger and the plan know: uid -> FollowUp.key (to name tombstones,
        which carry no properties), uid -> generation of its event id."""
        self._generations.update(generations)
        self._names.update({event_id(key): uid for uid, key in keys.items() if key})

    def id_generations(self) -> dict[str, int]:
        """uid -> the generation its event id has now (for the ledger)."""
        return dict(self._generations)

    def list_ours(self, since: datetime) -> dict[str, Remote]:
        """Ours, live or cancelled, ending after `since`; other live generations of a
        follow-up (a crash between two writes) are listed as `uid#generation`."""
        if self._listed is not None and self._listed[0] <= since:
            items, self._listed = self._listed[1], None  # open() listed already
        else:
            items = self._list(since)
        seen: dict[str, list[dict]] = {}
        for item in items:
            gid = item["id"]
            digest = _private(item).get(KEY_PROP) or ""
            if re.fullmatch(r"[0-9a-f]{64}", digest):
                self._names.setdefault(gid[:ID_LENGTH], uid_for_digest(digest))
            uid = self._names.get(gid[:ID_LENGTH])
            if uid is not None and self._ends_after(item, since):
                seen.setdefault(uid, []).append(item)
        found: dict[str, Remote] = {}
        for uid, items in seen.items():
            recorded = self._generations.get(uid, 0)
            ranked = sorted(items, key=lambda e: (e.get("status") != "cancelled",
                                                  generation_of(e["id"]) == recorded,
                                                  generation_of(e["id"])))
            current = ranked[-1]  # a live one, then the generation recorded, then the newest
            found[uid] = self._remote(uid, current)
            if generation_of(current["id"]) != recorded:
                self._generations[uid] = generation_of(current["id"])  # a lost state file
            for extra in ranked[:-1]:
                if extra.get("status") != "cancelled":
                    name = f"{uid}#{generation_of(extra['id'])}"
                    found[name] = self._remote(name, extra)
        return found

    def create(self, f: FollowUp, mark: str) -> bool:
        self._listed = None  # open()'s listing is stale from the first write on
        body = event_body(f, self.settings, mark)
        with self._one_event():
            gid, there = self._create(f, self._id_of(f), body)
        self._ids[f.uid] = gid
        if there is None:
            self._cancelled[f.uid] = False
            return True
        cancelled = there.get("status") == "cancelled"
        self._cancelled[f.uid] = cancelled
        if not cancelled and not is_ours(there):
            self._foreign.add(f.uid)  # never written over, never deleted
            return False
        # an earlier attempt of this very insert landed (its response was lost)
        return not cancelled and self._same(there, body)

    def met_tombstone(self, uid: str) -> bool:
        return bool(self._cancelled.get(uid))

    def update(self, f: FollowUp, mark: str) -> bool:
        self._listed = None
        if f.uid in self._foreign:
            return False
        gid, body = self._id_of(f), event_body(f, self.settings, mark)
        with self._one_event():
            if self._cancelled.get(f.uid):
                # a tombstone: bring it back, or under the next id when Google refuses
                if not self._patch(gid, body, refused=(403, 404, 410)):
                    gid, there = self._create(f, self._next_generation(f, gid), body)
                    self._ids[f.uid] = gid
                    if there is not None:
                        return False
                self._cancelled[f.uid] = False
                return True
            # a patch that leaves `status` out never revives what the user deleted meanwhile
            patched = self._patch(gid, {k: v for k, v in body.items() if k != "status"})
        return isinstance(patched, dict) and patched.get("status") != "cancelled"

    def delete(self, uid: str) -> None:
        self._listed = None
        gid = self._ids.get(uid)
        if gid is None or uid in self._foreign:
            return  # nothing of ours known by that uid
        with self._one_event():
            self._delete(gid)
        self._cancelled[uid] = True

    # -- Google's requests -----------------------------------------------------------------

    def _list(self, since: datetime) -> list[dict]:
        """Our events on the calendar, deleted ones included, ending after `since`."""
        with self._one_event(translate=False):
            return [item for _page, item in self.client.events(
                self._calendar, privateExtendedProperty=f"{MARKER_KEY}={MARKER_VALUE}",
                showDeleted=True, timeMin=_rfc3339(since), maxResults=2500)
                if item.get("id") and (is_ours(item) or item.get("status") == "cancelled")]

    @staticmethod
    def _ends_after(item: dict, since: datetime) -> bool:
        end = parse_when(item.get("end"))
        return not isinstance(end, datetime) or end > since

    def _remote(self, uid: str, item: dict) -> Remote:
        self._ids[uid] = item["id"]
        cancelled = self._cancelled[uid] = item.get("status") == "cancelled"
        private = _private(item)
        start, end = parse_when(item.get("start")), parse_when(item.get("end"))
        return Remote(uid, start if isinstance(start, datetime) else None,
                      private.get(HASH_PROP) or "" if self._presented(item) else "",
                      private.get(WHEN_PROP) or "", cancelled=cancelled, etag=item.get("etag"),
                      end=end if isinstance(end, datetime) else None)

    def _presented(self, item: dict) -> bool:
        """Written with this run's reminder setting (a setting, not the follow-up's
        content): else its hash is not reported, and reconcile rewrites it. A reminder
        the user changed on the event itself is theirs, and stays."""
        return _private(item).get(REMINDER_PROP) == str(reminder_minutes(self.settings))

    @staticmethod
    def _same(item: dict, body: dict) -> bool:
        mine, want = _private(item), body["extendedProperties"]["private"]
        return all(mine.get(k) == want[k] for k in (HASH_PROP, WHEN_PROP))

    def _id_of(self, f: FollowUp) -> str:
        self._names[event_id(f.key)] = f.uid
        return self._ids.get(f.uid) or event_id(f.key, self._generations.get(f.uid, 0))


    def _list_into_cache(self, since: datetime) -> bool:
        """List our events into the cache; False when the calendar answers 404/410."""
        from googleapiclient.errors import HttpError

        try:
            self._listed = (since, self._list(since))
        except HttpError as exc:
            if http_status(exc) not in (404, 410):
                raise
            return False
        return True

    def _existing(self) -> tuple[str | None, dict[str, dict]]:
        """The calendar (made again when the user deleted the dedicated one); its
        listing from the planning window's start is kept for the first list_ours."""
        since = Window.around(self.now, self.settings).start - timedelta(days=1)
        calendar_id = self.calendar()
        if calendar_id is None:
            return None, {}
        self._calendar = calendar_id
        if self.result.calendar_created:
            self._listed = (since, [])  # just made: empty (and maybe not yet known everywhere)
            return calendar_id, {}
        if self._list_into_cache(since):
            return calendar_id, {}
        if self._calendar_exists(calendar_id):
            if self._list_into_cache(since):
                return calendar_id, {}
            raise GoogleError(f"Google Calendar answers 404 for the calendar {calendar_id}, "
                              "which exists; try again later")
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
        if calendar_id is None:
            return None, {}
        self._calendar = calendar_id
        self._listed = (since, [] if self.result.calendar_created else self._list(since))
        return calendar_id, {}

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

    def _get(self, gid: str) -> dict | None:
        from googleapiclient.errors import HttpError

        try:
            return self._fresh(lambda: self.events_api.get(calendarId=self._calendar,
                                                           eventId=gid))
        except HttpError as exc:
            if http_status(exc) in (404, 410):
                return None
            raise

    def _insert(self, gid: str, body: dict) -> dict | None:
        """Insert with our id; None when it exists already (409: ours or deleted)."""
        from googleapiclient.errors import HttpError

        try:
            return self._fresh(lambda: self.events_api.insert(
                calendarId=self._calendar, body={"id": gid, **body}))
        except HttpError as exc:
            if http_status(exc) == 409:
                return None
            raise

    def _patch(self, gid: str, body: dict, refused: tuple[int, ...] = (404, 410)
               ) -> dict | None:
        """The event as patched; None when it vanished under us (or was `refused`)."""
        from googleapiclient.errors import HttpError

        try:
            return self.client.run(self.events_api.patch(calendarId=self._calendar,
                                                         eventId=gid, body=body))
        except HttpError as exc:
            if http_status(exc) in refused:
                return None
            raise

    def _delete(self, gid: str) -> None:
        from googleapiclient.errors import HttpError

        try:
            self.client.run(self.events_api.delete(calendarId=self._calendar, eventId=gid))
        except HttpError as exc:
            if http_status(exc) not in (404, 410):  # 410: a retry whose first try landed
                raise

    def _next_generation(self, f: FollowUp, gid: str) -> str:
        """This id is unusable for good (reserved by Google, or a deleted event of ours
        that cannot be brought back): the follow-up moves on to a fresh id."""
        generation = max(generation_of(gid), self._generations.get(f.uid, 0)) + 1
        if generation >= MAX_GENERATIONS:
            raise EventFailed(f"Google refuses every id tried for it ({gid})")
        self._generations[f.uid] = generation
        return event_id(f.key, generation)

    def _create(self, f: FollowUp, gid: str, body: dict) -> tuple[str, dict | None]:
        """Insert under `gid`, or the next generation while Google keeps an id reserved.
        (id, None) once created; (id, event) when an event of that id is there already."""
        while True:
            if self._insert(gid, body) is not None:
                return gid, None
            current = self._get(gid)  # 409: ours already, or deleted
            if current is not None:
                return gid, current
            gid = self._next_generation(f, gid)  # 409 on insert, 404 on get: reserved

    @contextlib.contextmanager
    def _one_event(self, *, translate: bool = True):
        """One event's problem becomes an `EventError` (reconcile goes on with the others);
        the sign-in and the quotas stop the run, as one line."""
        try:
            yield
        except EventFailed:
            raise
        except _one_event_errors() as exc:
            if _fatal(exc) or not translate:
                raise
            from .auth import redact

            reason = str(describe(exc)).removeprefix("Google Calendar error").lstrip(": ")
            raise EventFailed(redact(reason)) from None


def sync(sources: Sequence, settings: Settings, now: datetime, *,
         calendar: GoogleCalendar | None = None, target: str | None = None,
         dry_run: bool = False, client: Client | None = None,
         warn: Callable[[str], None] | None = None, mail: Sequence = ()
         ) -> tuple[list[FollowUp], SyncResult]:
    """Read `sources`, look for replies in the `mail` accounts, plan (the one pipeline),
    keep Google in line (sync.reconcile over `Sink`), record. Returns the plan and what
    was done. Google sources among `sources` share the sink's client."""
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
                sink = Sink(client, ledger, settings, now, target=target)
                result = reconcile(items, sink, ledger, now, dry_run=dry_run,
                                   interviews=data.interviews)
                result.calendar_id = sink.result.calendar_id  # Google's id, for the summary
                result.dedicated = not target
                result.calendar_created = sink.result.calendar_created
                result.warnings[:0] = sink.result.warnings
                result.warnings[:0] = planned.mail.warnings
                result.mail_skipped = planned.mail.skipped
                result.mail_notes = planned.mail.notes
                if not client.can_list and not target:
                    from .auth import CALENDARLIST_SCOPE, missing_message

                    result.warnings.append(missing_message({CALENDARLIST_SCOPE}))
    return items, result
