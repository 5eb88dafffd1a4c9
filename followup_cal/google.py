"""Google Calendar: read interviews and busy times, write follow-ups back.

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

The dedicated calendar is found by listing the user's calendars (the
calendar.calendarlist.readonly scope) and created only when that listing
proves it missing; a 404 on the recorded one is confirmed, backing off, first.

The client is the real google-api-python-client; its modules are imported
inside the functions so that commands which never talk to Google stay light.
`FOLLOWUP_CAL_GOOGLE_API_URL` points it at another API root (tests, proxies).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import random
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import errors
from .auth import RUN_AUTH, AuthError
from .calendars.base import Reading
from .config import ConfigError, Settings
from .detect import Window
from .errors import EventError, RemoteError
from .model import Attendee, CalendarEvent, FollowUp, Interview, Person
from .rules import UID_DOMAIN, key_digest
from .sync import Change, SyncResult, decide, decide_unplanned, interview_mark

API_URL_ENV = "FOLLOWUP_CAL_GOOGLE_API_URL"
CALENDAR_NAME = "Interview follow-ups"
CALENDAR_STATE = "google_calendar_id"  # ledger state: the dedicated calendar's id
PAGE_SIZE = 250

# extendedProperties.private keys: Google silently drops keys over 44 characters
MARKER_KEY = "followupCal"
MARKER_VALUE = "1"
KEY_PROP = "followupCalKey"  # sha256 of the follow-up's identity (FollowUp.key)
HASH_PROP = "followupCalHash"  # sha256 of what we wrote
WHEN_PROP = "followupCalInterview"  # when its interview was, to see it move
assert all(len(k) <= 44 for k in (MARKER_KEY, KEY_PROP, HASH_PROP, WHEN_PROP))

# Google's event colours ("1".."11"): one per kind, so a glance tells them apart.
COLORS = {
    "prep": "5",  # banana
    "thank_you_email": "10",  # basil
    "thank_you_note": "2",  # sage
    "check_in": "9",  # blueberry
    "move_on": "8",  # graphite
}
RESPONSE = {"needsAction": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED",
            "tentative": "TENTATIVE"}
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Universal",
                       "Etc/Universal", "Zulu", "Etc/Zulu", "Etc/GMT+0", "Etc/GMT-0", "GMT0"})
# Google's event types: working locations and birthdays are never interviews nor busy
# time (read as nothing at all); out-of-office and focus time are busy, as Google shows
SKIPPED_TYPES = ("workingLocation", "birthday")
BUSY_TYPES = ("outOfOffice", "focusTime")
EMAIL = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
DAILY_REASONS = ("dailyLimitExceeded", "dailyLimitExceededUnreg", "RATE_LIMIT_EXCEEDED_DAILY")
USAGE_REASONS = ("quotaExceeded",)  # "Calendar usage limits exceeded": recovers in minutes
QUOTA_REASONS = (*USAGE_REASONS, *DAILY_REASONS)
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
SCOPE_REASONS = ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
# broader scopes that also list calendars (calendarList.list in the discovery document)
LIST_SCOPES = ("calendar.calendarlist.readonly", "calendar.calendarlist", "calendar.readonly",
               "calendar")
ID_LENGTH = 52  # event_id(): base32hex of 32 bytes; a generation is written after it
MAX_GENERATIONS = 8  # ids tried for one follow-up in one run before giving up on it
NOT_FOUND_TRIES = 4  # a 404 on a calendar is confirmed this many times, backing off

SLEEP: Callable[[float], None] = time.sleep  # our own back-off (tests make it short)


class GoogleError(RemoteError):
    """Google Calendar refused or could not be reached: exit 1 with this one line."""


class QuotaError(GoogleError):
    """quotaExceeded / dailyLimitExceeded: retrying now would not help."""


class CalendarNotFound(errors.CalendarNotFound, GoogleError):
    """A Google calendar named on the command line or in the config does not exist."""


def event_id(key: str, generation: int = 0) -> str:
    """The Google event id of a follow-up: `[a-v0-9]{52}`, same key, same id.

    Google may keep a deleted event's id reserved for ever (insert: 409, get:
    404); generation N > 0 (recorded in the ledger) appends N, so such an id
    is passed over for the next one instead of jamming every run.
    """
    base = base64.b32hexencode(key_digest(key)).decode("ascii").lower().rstrip("=")
    return base + str(generation) if generation else base


def generation_of(gid: str) -> int:
    tail = gid[ID_LENGTH:]
    return int(tail) if tail.isdigit() else 0


def uid_for_digest(hex_digest: str) -> str:
    """The follow-up's uid (`rules.uid_for`) from the key digest our events carry."""
    return f"{hex_digest[:32]}@{UID_DOMAIN}"


def api_root() -> str | None:
    url = os.environ.get(API_URL_ENV, "").strip()
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


# -- errors -------------------------------------------------------------------------------


def http_status(exc: BaseException) -> int | None:
    resp = getattr(exc, "resp", None)
    status = getattr(resp, "status", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def http_reasons(exc: BaseException) -> list[str]:
    """The `errors[].reason` values of a Google error body."""
    content = getattr(exc, "content", b"") or b""
    try:
        data = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
    except (ValueError, UnicodeDecodeError):
        return []
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return []
    reasons = [e.get("reason") for e in error.get("errors") or () if isinstance(e, dict)]
    reasons += [d.get("reason") for d in error.get("details") or () if isinstance(d, dict)]
    if isinstance(error.get("status"), str):
        reasons.append(error["status"])
    return [r for r in reasons if isinstance(r, str)]


def http_message(exc: BaseException) -> str:
    content = getattr(exc, "content", b"") or b""
    try:
        data = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
        message = data["error"]["message"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        message = getattr(exc, "reason", "") or ""
    return " ".join(str(message).split())[:200]


def describe(exc: BaseException, what: str = "") -> Exception:
    """One-line error for anything the Google client raised; never with a secret in it."""
    from .auth import redact

    out = _describe(exc, what)
    if out is not exc:
        out.args = tuple(redact(a) if isinstance(a, str) else a for a in out.args)
    return out


def _describe(exc: BaseException, what: str = "") -> Exception:
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError

    where = f" ({what})" if what else ""
    if isinstance(exc, (GoogleError, AuthError, ConfigError)):
        return exc
    if isinstance(exc, HttpError):
        status, reasons = http_status(exc), http_reasons(exc)
        text = http_message(exc)
        if any(r in DAILY_REASONS for r in reasons):
            reason = next(r for r in reasons if r in DAILY_REASONS)
            return QuotaError(f"Google Calendar's daily quota is used up ({reason}){where}: "
                              "try again tomorrow (it resets at midnight Pacific time)")
        if any(r in USAGE_REASONS for r in reasons):
            return QuotaError(f"Google Calendar usage limits exceeded (quotaExceeded){where}: "
                              "Google slows down an account that writes a lot; it recovers "
                              "within minutes to hours, and the next sync carries on")
        if status == 401:
            return AuthError(f"Google refused the sign-in (HTTP 401): {RUN_AUTH}")
        if status == 403 and any(r in SCOPE_REASONS for r in reasons):
            return AuthError(f"the Google sign-in lacks a permission{where}: {RUN_AUTH} again")
        if status == 403 and "forbiddenForNonOrganizer" in reasons:
            return GoogleError(f"Google Calendar lets only the event's organizer change "
                               f"it{where}")
        retried = status is not None and (status >= 500 or status == 429 or (
            status == 403 and any(r in RATE_REASONS for r in reasons)))
        hint = "; gave up after retries, try again later" if retried else ""
        return GoogleError(f"Google Calendar error{where}: HTTP {status}"
                           + (f" {text}" if text else "") + hint)
    if isinstance(exc, RefreshError):
        from .auth import refresh_failure

        return AuthError(refresh_failure(exc))
    if isinstance(exc, TransportError):
        return GoogleError(f"cannot reach Google to renew the sign-in ({exc})")
    if type(exc).__module__.startswith("googleapiclient"):
        return GoogleError(f"Google Calendar client error{where}: {type(exc).__name__}: "
                           + " ".join(str(exc).split())[:200])
    return GoogleError(f"cannot reach Google Calendar{where}: {type(exc).__name__}"
                       + (f": {exc}" if str(exc) else "") + "; try again later")


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn client, transport and auth exceptions into GoogleError / AuthError."""
    import socket
    import ssl

    import httplib2
    from google.auth.exceptions import GoogleAuthError
    from googleapiclient.errors import Error as ClientError

    from .auth import scrub

    try:
        yield
    except (ClientError, GoogleAuthError, httplib2.HttpLib2Error, ConnectionError,
            TimeoutError, ssl.SSLError, socket.gaierror) as exc:
        error = describe(exc)
        scrub(exc)  # the chain `--debug` prints: what a server echoed back stays hidden
        raise error from exc


# -- the client --------------------------------------------------------------------------


class Client:
    """The Calendar v3 service, with retries on every request."""

    def __init__(self, service, retries: int, creds=None, scopes: Iterable[str] = ()):
        self.service = service
        self.retries = retries
        self.creds = creds
        self.scopes = frozenset(scopes)  # granted; empty: not known (then assume all)
        self.requests = 0
        self._calendar_list: list[dict] | None = None

    @classmethod
    def connect(cls, settings: Settings, retries: int | None = None) -> Client:
        """Load the saved token (never interactive) and build the real client."""
        from . import auth

        creds = auth.load()
        retries = settings.google_retries if retries is None else retries
        return cls(build_service(creds), retries, creds, auth.granted(creds))

    @property
    def can_list(self) -> bool:
        """The token may list calendars (a token saved before issue 12 may not)."""
        from .auth import SCOPE_ROOT

        return not self.scopes or any(SCOPE_ROOT + s in self.scopes for s in LIST_SCOPES)

    def run(self, request, retries: int | None = None):
        """execute() with back-off and jitter on 429, 5xx, 403 rate limits, dropped links."""
        self.requests += 1
        return request.execute(num_retries=self.retries if retries is None else retries)

    def pages(self, resource, **params) -> Iterator[dict]:
        """Every page of a list call (pages may be short or empty before the last)."""
        request = resource.list(**params)
        seen: set[str] = set()
        while request is not None:
            response = self.run(request)
            yield response
            token = response.get("nextPageToken")
            if token in seen:
                raise GoogleError("Google Calendar returned the same page twice; try again")
            if token:
                seen.add(token)
            request = resource.list_next(request, response)

    def events(self, calendar_id: str, **params) -> Iterator[tuple[dict, dict]]:
        """(page, event) for every event the listing returns."""
        params.setdefault("maxResults", PAGE_SIZE)
        for page in self.pages(self.service.events(), calendarId=calendar_id, **params):
            for item in page.get("items") or ():
                yield page, item

    def calendar_list(self) -> list[dict]:
        """The user's calendars. Never "none" when they could not be listed: a calendar
        that cannot be proved missing must not be created again (it raises instead)."""
        if self._calendar_list is None:
            self._calendar_list = [
                item for page in self.pages(self.service.calendarList())
                for item in page.get("items") or ()]
        return self._calendar_list

    def forget_calendar_list(self) -> None:
        self._calendar_list = None

    def primary_id(self) -> str | None:
        """The primary calendar's id: the signed-in user's address (one request)."""
        from googleapiclient.errors import HttpError

        for resource in (self.service.calendars(), self.service.calendarList()):
            try:
                return self.run(resource.get(calendarId="primary")).get("id")
            except HttpError as exc:
                scope = http_status(exc) == 403 and any(r in SCOPE_REASONS
                                                        for r in http_reasons(exc))
                if not scope and http_status(exc) != 404:
                    raise
        return None


def build_service(creds):
    """`build(...)` over an AuthorizedHttp whose httplib2.Http ignores proxy variables."""
    import google_auth_httplib2
    from googleapiclient.discovery import build

    from .auth import _http

    http = google_auth_httplib2.AuthorizedHttp(creds, http=_http())
    options = {}
    root = api_root()
    if root:
        options["client_options"] = {"api_endpoint": root + "calendar/v3/"}
    return build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False,
                 **options)


# -- reading --------------------------------------------------------------------------------


def _zone(name: str | None) -> str | None:
    """An IANA zone name, None for UTC, missing or unknown."""
    if not name or name in UTC_NAMES:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def parse_when(node: dict | None, fallback_zone: str | None = None) -> datetime | date | None:
    if not isinstance(node, dict):
        return None
    if node.get("dateTime"):
        t = datetime.fromisoformat(node["dateTime"].replace("Z", "+00:00"))
        zone = _zone(node.get("timeZone")) or _zone(fallback_zone)
        if t.tzinfo is None:
            t = t.replace(tzinfo=ZoneInfo(zone) if zone else timezone.utc)
        elif zone:
            t = t.astimezone(ZoneInfo(zone))
        return t
    if node.get("date"):
        return date.fromisoformat(node["date"])
    return None


def _person(node: dict | None) -> Person | None:
    if not isinstance(node, dict):
        return None
    email = (node.get("email") or "").strip().lower()
    name = (node.get("displayName") or "").strip() or None
    if not EMAIL.match(email):
        email = ""
    if not email and not name:
        return None
    return Person(name=name, email=email or None)


def is_ours(item: dict) -> bool:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return private.get(MARKER_KEY) == MARKER_VALUE


def _recurrence_id(item: dict) -> str | None:
    """Same form as the .ics reader's, so both sources give the same identities."""
    if not item.get("recurringEventId"):
        return None
    original = parse_when(item.get("originalStartTime"))
    if isinstance(original, datetime):
        return original.astimezone(timezone.utc).isoformat()
    return original.isoformat() if original else None


def to_event(item: dict, source: str, calendar_zone: str | None = None,
             own: bool = True) -> CalendarEvent | None:
    """One Google event (an occurrence: singleEvents=true) as a CalendarEvent.

    `self: true` marks the entries of the listed calendar's owner: the user only
    on their own calendar (`own`); on one shared by someone else it is them, and
    their answers are not the user's.
    """
    if item.get("eventType") in SKIPPED_TYPES:
        return None
    start = parse_when(item.get("start"), calendar_zone)
    end = parse_when(item.get("end"), calendar_zone)
    if start is None:
        return None  # a cancelled occurrence carries no times
    if end is None or isinstance(end, datetime) != isinstance(start, datetime):
        end = start
    attendees = []
    for a in item.get("attendees") or ():
        p = _person(a)
        if p is None:
            continue
        attendees.append(Attendee(
            person=p,
            cutype="RESOURCE" if a.get("resource") else "INDIVIDUAL",
            partstat=RESPONSE.get(a.get("responseStatus"), "NEEDS-ACTION"),
            role="OPT-PARTICIPANT" if a.get("optional") else "REQ-PARTICIPANT",
            is_self=own and bool(a.get("self")),
        ))
    tzid = _zone((item.get("start") or {}).get("timeZone"))
    return CalendarEvent(
        uid=item.get("iCalUID") or item.get("id") or "",
        recurrence_id=_recurrence_id(item),
        summary=re.sub(r"\s+", " ", item.get("summary") or "").strip(),
        description=item.get("description") or "",
        start=start,
        end=end,
        tzid=tzid,
        status=(item.get("status") or "confirmed").upper(),
        transparent=item.get("transparency") == "transparent"
        and item.get("eventType") not in BUSY_TYPES,
        organizer=_person(item.get("organizer")),
        attendees=tuple(attendees),
        ours=is_ours(item),
        source=source,
    )


def self_addresses(item: dict) -> set[str]:
    """The user's own addresses: Google marks the user's entries `self: true`."""
    found = set()
    for node in (item.get("organizer"), item.get("creator"), *(item.get("attendees") or ())):
        if isinstance(node, dict) and node.get("self") and EMAIL.match(node.get("email") or ""):
            found.add(node["email"].lower())
    return found


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


def _rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


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


def event_body(f: FollowUp, settings: Settings, mark: str = "") -> dict:
    """The whole event as we write it (insert, or patch over what is there)."""
    zone = ZoneInfo(f.timezone)
    body = {
        "summary": f.summary,
        "description": f.description,
        "start": {"dateTime": f.start.astimezone(zone).isoformat(), "timeZone": f.timezone},
        "end": {"dateTime": f.end.astimezone(zone).isoformat(), "timeZone": f.timezone},
        "status": "confirmed",
        "transparency": "opaque" if f.busy else "transparent",  # only calls take time
        "colorId": COLORS.get(f.kind, "1"),
        "visibility": "private",
        "reminders": {"useDefault": False, "overrides": [
            {"method": "popup", "minutes": max(0, min(int(settings.reminder_minutes), 40320))}]},
    }
    digest = hashlib.sha256(
        json.dumps([body, mark], sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    body["extendedProperties"] = {"private": {
        MARKER_KEY: MARKER_VALUE,
        KEY_PROP: key_digest(f.key).hex(),
        HASH_PROP: digest,
        WHEN_PROP: mark,
    }}
    return body


def _private(item: dict) -> dict:
    return (item.get("extendedProperties") or {}).get("private") or {}


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


class Sink:
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

    # -- the calendar ---------------------------------------------------------------------

    def _find_dedicated(self, nonce: str | None = None) -> list[str]:
        """Our calendar(s) in the calendar list (raises when it cannot be listed)."""
        mine = [c for c in self.client.calendar_list()
                if c.get("summary") == CALENDAR_NAME and c.get("accessRole") == "owner"
                and not c.get("deleted")
                and (nonce is None or nonce in (c.get("description") or ""))]
        return sorted(c["id"] for c in mine)

    def _create_dedicated(self) -> str:
        """calendars.insert, made safe to repeat.

        Its id is chosen by Google, and httplib2 silently re-sends a request
        whose connection dropped, POSTs included: one attempt can make two
        calendars. So the description carries a fresh token; after creating,
        the calendar list shows every calendar this attempt made, one is kept
        and the empty extras are deleted (app-created calendars may be).
        """
        from googleapiclient.errors import HttpError

        nonce = secrets.token_hex(8)
        body = {"summary": CALENDAR_NAME, "timeZone": self.settings.timezone,
                "description": "Follow-ups after job interviews, written by followup-cal "
                               "(`followup-cal sync`); events here are rewritten on each sync. "
                               f"[followup-cal {nonce}]"}
        attempts = max(1, self.client.retries + 1)
        chosen = None
        for attempt in range(attempts):
            try:
                chosen = self.client.run(
                    self.client.service.calendars().insert(body=body), retries=0)["id"]
                break
            except HttpError as exc:
                status, reasons = http_status(exc), http_reasons(exc)
                if status == 403 and any(r in SCOPE_REASONS for r in reasons):
                    raise AuthError(
                        f"creating the calendar {CALENDAR_NAME!r} needs the calendar.app.created "
                        f"permission: {RUN_AUTH} again, or pass --target primary") from None
                transient = status is not None and (
                    status >= 500 or status == 429
                    or (status == 403 and any(r in RATE_REASONS for r in reasons)))
                if not transient or attempt == attempts - 1:
                    raise
            except OSError:  # dropped connection, timeout: it may have landed
                if attempt == attempts - 1:
                    raise
            self.client.forget_calendar_list()
            found = self._find_dedicated(nonce)  # the failed attempt may have landed
            if found:
                chosen = found[0]
                break
            SLEEP(random.random() * 2 ** (attempt + 1))
        assert chosen is not None
        self.ledger.set_state(CALENDAR_STATE, chosen)  # before anything else can fail
        with contextlib.suppress(HttpError, OSError):
            self.client.forget_calendar_list()
            for extra in self._find_dedicated(nonce):
                if extra != chosen:
                    self.client.run(self.client.service.calendars().delete(calendarId=extra))
        return chosen

    def _keep_one(self, ids: list[str]) -> str:
        """Several calendars of ours and none recorded: a run was killed after a re-sent
        calendars.insert had made two, before it could delete the extra. Keep the one
        with our events in it (else the first); delete the empty ones we made."""
        from googleapiclient.errors import HttpError

        def has_events(calendar_id: str) -> bool:
            for _page, _item in self.client.events(
                    calendar_id, privateExtendedProperty=f"{MARKER_KEY}={MARKER_VALUE}",
                    showDeleted=True, maxResults=1):
                return True
            return False

        used = [cid for cid in ids if has_events(cid)]
        keep = (used or ids)[0]
        made_by_us = {c.get("id") for c in self.client.calendar_list()
                      if "[followup-cal " in (c.get("description") or "")}
        for cid in ids:
            if cid != keep and cid not in used and cid in made_by_us:
                with contextlib.suppress(HttpError, OSError):
                    self.client.run(self.client.service.calendars().delete(calendarId=cid))
        self.client.forget_calendar_list()
        return keep

    def _cannot_list(self) -> AuthError:
        from .auth import CALENDARLIST_SCOPE, missing_message

        return AuthError(f"cannot tell whether {CALENDAR_NAME!r} exists already, so none is "
                         "created; " + missing_message({CALENDARLIST_SCOPE}))

    def calendar(self, gone: str | None = None) -> str | None:
        """The calendar to write to; the dedicated one is found by listing the user's
        calendars, and created only when the listing proves there is none."""
        if self.target_arg:
            return self.target_arg
        known = self.ledger.get_state(CALENDAR_STATE)
        if known:
            return known
        if not self.client.can_list:
            raise self._cannot_list()  # a token saved before this scope was asked for
        mine = [c for c in self._find_dedicated() if c != gone]
        if len(mine) > 1 and not self.dry_run:
            found = self._keep_one(mine)
        else:
            found = next(iter(mine), None)
        if not found and self.dry_run:
            return None
        if not found:
            found = self._create_dedicated()
            self.result.calendar_created = True
        self.ledger.set_state(CALENDAR_STATE, found)
        return found

    def _calendar_exists(self, calendar_id: str) -> bool:
        """Confirm a 404: calendars.get, then calendarList.get, backing off between tries
        (Google's errors guide: a 404 can pass while a change spreads)."""
        from googleapiclient.errors import HttpError

        usable = [self.client.service.calendars(), self.client.service.calendarList()]
        misses = 0
        while misses < NOT_FOUND_TRIES:
            if not usable:  # the token may use neither: it cannot be proved missing
                raise self._cannot_list()
            getter = usable[misses % len(usable)]
            try:
                self.client.run(getter.get(calendarId=calendar_id))
                return True
            except HttpError as exc:
                status = http_status(exc)
                if status == 403 and any(r in SCOPE_REASONS for r in http_reasons(exc)):
                    usable.remove(getter)
                    continue
                if status not in (404, 410):
                    raise
            misses += 1
            if misses < NOT_FOUND_TRIES:
                SLEEP(random.random() + 2 ** misses)
        return False

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
            SLEEP(random.random() + 2 ** attempt)
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


def sync(sources: Sequence, settings: Settings, now: datetime, *,
         calendar: GoogleCalendar | None = None, target: str | None = None,
         dry_run: bool = False, client: Client | None = None,
         warn: Callable[[str], None] | None = None, mail: Sequence = ()
         ) -> tuple[list[FollowUp], SyncResult]:
    """Read `sources`, look for replies in the `mail` accounts, plan (the one pipeline),
    reconcile Google, record. Returns the plan and what was done. Google sources
    among `sources` share the sink's client."""
    from . import pipeline
    from .ledger import Ledger

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
