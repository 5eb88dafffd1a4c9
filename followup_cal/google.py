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
then fetched and, being cancelled, left deleted for good.

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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .auth import RUN_AUTH, AuthError
from .config import ConfigError, Settings
from .detect import Window, collect
from .model import Attendee, CalendarEvent, FollowUp, Interview, Person, SourceData
from .rules import UID_DOMAIN, key_digest

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
NOT_BUSY_TYPES = ("workingLocation", "birthday")
EMAIL = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
QUOTA_REASONS = ("quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg",
                 "RATE_LIMIT_EXCEEDED_DAILY")
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
SCOPE_REASONS = ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                 "forbiddenForNonOrganizer")

SLEEP: Callable[[float], None] = time.sleep  # our own back-off (tests make it short)


class GoogleError(Exception):
    """Google Calendar refused or could not be reached: exit 1 with this one line."""


class QuotaError(GoogleError):
    """quotaExceeded / dailyLimitExceeded: retrying now would not help."""


class CalendarNotFound(GoogleError):
    """A calendar named on the command line or in the config does not exist."""


def event_id(key: str) -> str:
    """The Google event id of a follow-up: `[a-v0-9]{52}`, same key, same id."""
    return base64.b32hexencode(key_digest(key)).decode("ascii").lower().rstrip("=")


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
        if any(r in QUOTA_REASONS for r in reasons):
            reason = next(r for r in reasons if r in QUOTA_REASONS)
            return QuotaError(f"Google Calendar quota used up ({reason}){where}: try again "
                              "later (daily quotas reset at midnight Pacific time)")
        if status == 401:
            return AuthError(f"Google refused the sign-in (HTTP 401): {RUN_AUTH}")
        if status == 403 and any(r in SCOPE_REASONS for r in reasons):
            return AuthError(f"the Google sign-in lacks a permission{where}: {RUN_AUTH} again")
        retried = status is not None and (status >= 500 or status in (403, 429))
        hint = "; gave up after retries, try again later" if retried else ""
        return GoogleError(f"Google Calendar error{where}: HTTP {status}"
                           + (f" {text}" if text else "") + hint)
    if isinstance(exc, RefreshError):
        first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        first = (first.splitlines() or ["refresh failed"])[0][:120]
        return AuthError(f"the Google sign-in has expired or was revoked ({first}): {RUN_AUTH}")
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

    def __init__(self, service, retries: int, creds=None):
        self.service = service
        self.retries = retries
        self.creds = creds
        self.requests = 0
        self._calendar_list: list[dict] | None = None

    @classmethod
    def connect(cls, settings: Settings) -> Client:
        """Load the saved token (never interactive) and build the real client."""
        from . import auth

        creds = auth.load()
        return cls(build_service(creds), settings.google_retries,
                   creds)

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
        """The user's calendars, or [] when the token may not list them (best effort)."""
        from googleapiclient.errors import HttpError

        if self._calendar_list is None:
            try:
                self._calendar_list = [
                    item for page in self.pages(self.service.calendarList())
                    for item in page.get("items") or ()]
            except HttpError as exc:
                if http_status(exc) not in (401, 403, 404, 405, 501) or any(
                        r in QUOTA_REASONS for r in http_reasons(exc)):
                    raise
                self._calendar_list = []
        return self._calendar_list

    def forget_calendar_list(self) -> None:
        self._calendar_list = None

    def primary_id(self) -> str | None:
        for cal in self.calendar_list():
            if cal.get("primary"):
                return cal.get("id")
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


def to_event(item: dict, source: str, calendar_zone: str | None = None) -> CalendarEvent | None:
    """One Google event (an occurrence: singleEvents=true) as a CalendarEvent."""
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
            is_self=bool(a.get("self")),
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
        or item.get("eventType") in NOT_BUSY_TYPES,
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


def read_events(client: Client, settings: Settings, now: datetime
                ) -> tuple[list[CalendarEvent], set[str], list[str]]:
    """Every occurrence in the window on the configured calendars; the user's addresses."""
    from googleapiclient.errors import HttpError

    window = Window.around(now, settings)
    events: list[CalendarEvent] = []
    me: set[str] = set()
    warnings: list[str] = []
    for calendar_id in settings.google_calendars:
        try:
            for page, item in client.events(
                    calendar_id, singleEvents=True, showDeleted=False,
                    timeMin=_rfc3339(window.start), timeMax=_rfc3339(window.busy_end)):
                me |= self_addresses(item)
                try:
                    ev = to_event(item, f"google:{calendar_id}", page.get("timeZone"))
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


def read_sources(paths: Sequence[str], settings: Settings, now: datetime,
                 client: Client | None = None) -> SourceData:
    """Interviews and busy times from Google Calendar (and any .ics files too)."""
    from .ics import Reading
    from .ics import read_events as read_ics

    reading = Reading()
    events = read_ics(paths, settings, now, reading) if paths else []
    with one_line_errors():
        client = client or Client.connect(settings)
        google_events, me, warnings = read_events(client, settings, now)
        if not me and not settings.me:
            primary = client.primary_id()
            if primary and EMAIL.match(primary):
                me.add(primary.lower())
    return collect([*events, *google_events], settings, now, reading.calnames | me,
                   [*reading.warnings, *warnings])


# -- writing --------------------------------------------------------------------------------


def interview_mark(iv: Interview | None) -> str:
    if iv is None:
        return ""
    text = "/".join(t.astimezone(timezone.utc).isoformat() for t in (iv.start, iv.end))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


@dataclass(frozen=True)
class Change:
    action: str  # create, update, delete, restore, unchanged, kept-deleted, skipped
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

    def count(self, *actions: str) -> int:
        return sum(1 for c in self.changes if c.action in actions)

    @property
    def writes(self) -> int:
        return self.count("create", "update", "delete", "restore") + self.calendar_created


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

    @property
    def events_api(self):
        return self.client.service.events()

    # -- the calendar ---------------------------------------------------------------------

    def _find_dedicated(self, nonce: str | None = None) -> list[str]:
        """Our calendar(s) in the calendar list (best effort: [] if it may not be read)."""
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

    def calendar(self) -> str | None:
        """The calendar to write to; the dedicated one is created on first use."""
        if self.target_arg:
            return self.target_arg
        known = self.ledger.get_state(CALENDAR_STATE)
        if known:
            return known
        mine = self._find_dedicated()
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
        try:
            return calendar_id, self._list_ours(calendar_id)
        except HttpError as exc:
            if http_status(exc) not in (404, 410):
                raise
        if self.target_arg:
            raise CalendarNotFound(f"--target: no calendar {self.target_arg!r} in this "
                                   "Google account")
        # the user deleted the dedicated calendar: make a new one (or adopt another)
        if self.dry_run:
            self.result.warnings.append(f"the calendar {CALENDAR_NAME!r} ({calendar_id}) is "
                                        "gone; sync would create a new one")
            return None, {}
        self.result.warnings.append(f"the calendar {CALENDAR_NAME!r} ({calendar_id}) is gone; "
                                    "created a new one")
        self.ledger.set_state(CALENDAR_STATE, "")
        self.client.forget_calendar_list()
        calendar_id = self.calendar()
        return calendar_id, ({} if calendar_id is None else self._list_ours(calendar_id))

    # -- one follow-up ---------------------------------------------------------------------

    def _note(self, action: str, gid: str, summary: str, start: datetime | None) -> None:
        self.result.changes.append(Change(action, gid, summary, start))

    def _get(self, calendar_id: str, gid: str) -> dict | None:
        from googleapiclient.errors import HttpError

        try:
            return self.client.run(self.events_api.get(calendarId=calendar_id, eventId=gid))
        except HttpError as exc:
            if http_status(exc) in (404, 410):
                return None
            raise

    def _insert(self, calendar_id: str, gid: str, body: dict) -> dict | None:
        """Insert with our id; None when it exists already (409: ours or deleted)."""
        from googleapiclient.errors import HttpError

        try:
            return self.client.run(self.events_api.insert(
                calendarId=calendar_id, body={"id": gid, **body}))
        except HttpError as exc:
            if http_status(exc) == 409:
                return None
            raise

    def _patch(self, calendar_id: str, gid: str, body: dict) -> bool:
        """False when the event vanished under us."""
        from googleapiclient.errors import HttpError

        try:
            self.client.run(self.events_api.patch(calendarId=calendar_id, eventId=gid,
                                                  body=body))
            return True
        except HttpError as exc:
            if http_status(exc) in (404, 410):
                return False
            raise

    def _settle(self, calendar_id: str, f: FollowUp, gid: str, body: dict, current: dict,
                removed_by_us: set[str], user_deleted: list[str],
                conflicted: bool = False) -> FollowUp | None:
        """Bring one existing event in line with `f`; the FollowUp now on the calendar."""
        private = _private(current)
        if current.get("status") == "cancelled":
            if f.uid in removed_by_us:
                # we deleted it when it fell out of the plan; it is back: restore it
                if not self.dry_run:
                    self._patch(calendar_id, gid, body)
                self._note("restore", gid, f.summary, f.start)
                return f
            user_deleted.append(f.uid)  # the user deleted it: it stays deleted
            self._note("kept-deleted", gid, f.summary, f.start)
            return f
        if not is_ours(current):
            self.result.warnings.append(f"event {gid} is not ours; left alone")
            self._note("skipped", gid, f.summary, f.start)
            return None
        want = body["extendedProperties"]["private"]
        if private.get(HASH_PROP) == want[HASH_PROP]:
            # after a 409: our own retried insert had landed, so it was created now
            self._note("create" if conflicted else "unchanged", gid, f.summary, f.start)
            return f
        start = parse_when(current.get("start"))
        if (isinstance(start, datetime) and start <= self.now
                and private.get(WHEN_PROP) == want[WHEN_PROP]):
            # it already fell due and its interview did not move: its reminder has
            # done its job; moving it on to "now" every run would only nag
            end = parse_when(current.get("end"))
            self._note("unchanged", gid, f.summary, f.start)
            return dataclasses.replace(f, start=start,
                                       end=end if isinstance(end, datetime) else start)
        if not self.dry_run and not self._patch(calendar_id, gid, body):
            if self._insert(calendar_id, gid, body) is None:
                raise GoogleError(f"event {gid} changed while syncing; run sync again")
            self._note("create", gid, f.summary, f.start)
            return f
        self._note("update", gid, f.summary, f.start)
        return f

    # -- the whole plan --------------------------------------------------------------------

    def reconcile(self, items: Sequence[FollowUp]) -> SyncResult:
        calendar_id, existing = self._existing()
        result = self.result
        result.calendar_id = calendar_id
        target = f"google:{calendar_id or CALENDAR_NAME}"
        result.target = target
        written = self.ledger.written(target) if calendar_id else []
        by_gid = {event_id(w.key): w for w in written if w.key}
        user_deleted_before = {w.uid for w in written if w.deleted_by_user}
        removed_by_us = {w.uid for w in written if w.removed_at is not None
                         and not w.deleted_by_user}
        present: list[FollowUp] = []
        user_deleted: list[str] = []  # ledger uids
        planned: set[str] = set()

        for f in items:
            gid = event_id(f.key)
            planned.add(gid)
            if f.uid in user_deleted_before:
                self._note("kept-deleted", gid, f.summary, f.start)
                present.append(f)
                continue
            iv = self.interviews.get(f.interview_identity)
            body = event_body(f, self.settings, interview_mark(iv))
            current = existing.get(gid)
            conflicted = False
            if current is None and calendar_id is not None:
                if self.dry_run:
                    current = self._get(calendar_id, gid)
                elif self._insert(calendar_id, gid, body) is not None:
                    self._note("create", gid, f.summary, f.start)
                    present.append(f)
                    continue
                else:  # 409: it is there already (a retry that landed) or was deleted
                    conflicted = True
                    current = self._get(calendar_id, gid)
                    if current is None:
                        raise GoogleError(f"event {gid}: insert says it exists, get says it "
                                          "does not; run sync again")
            if current is None:
                self._note("create", gid, f.summary, f.start)
                present.append(f)
                continue
            now_there = self._settle(calendar_id, f, gid, body, current, removed_by_us,
                                     user_deleted, conflicted)
            if now_there is not None:
                present.append(now_there)

        for gid, item in sorted(existing.items()):
            if gid in planned:
                continue
            w = by_gid.get(gid)
            if item.get("status") == "cancelled":
                if w is not None and w.removed_at is None and not w.deleted_by_user:
                    # deleted, and not by us: the user's word, even if it is planned again
                    user_deleted.append(w.uid)
                continue
            if not is_ours(item):
                continue
            start = parse_when(item.get("start"))
            if not isinstance(start, datetime) or start <= self.now:
                continue  # only what is still ahead; the past is history
            summary = item.get("summary") or ""
            if not self.dry_run:
                # first, so a kill after the delete cannot look like a user's deletion
                if w is not None:
                    self.ledger.mark_removed(target, w.uid, self.now)
                else:  # ours, but the run that wrote it was killed before recording it
                    self._record_removed(target, item, start)
                self._delete(calendar_id, gid)
            self._note("delete", gid, summary, start)

        if not self.dry_run and calendar_id is not None:
            with self.ledger.transaction():
                self.ledger.record_written(target, present, self.now)
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


def sync(paths: Sequence[str], settings: Settings, now: datetime, *, target: str | None = None,
         dry_run: bool = False, client: Client | None = None,
         warn: Callable[[str], None] | None = None) -> tuple[list[FollowUp], SyncResult]:
    """Read, plan (the one planner), reconcile, record. Returns the plan and what was done."""
    from .holidays_cache import holiday_dates
    from .ledger import Ledger
    from .rules import plan

    with one_line_errors():
        client = client or Client.connect(settings)
        from . import auth

        with auth.saving_refreshes(client.creds):
            data = read_sources(paths, settings, now, client)
            for w in data.warnings:
                if warn:
                    warn(w)
            with Ledger.open() as ledger:
                with ledger.transaction():
                    history = ledger.history(data.interviews, settings, now)
                    items = plan(data.interviews, history, data.busy, settings, now,
                                 holidays=holiday_dates)
                    ledger.remember(data.interviews, items, settings, now)
                sink = Sink(client, ledger, settings, now, target=target, dry_run=dry_run,
                            interviews=data.interviews)
                result = sink.reconcile(items)
    return items, result
