"""A stateful fake of Google Calendar API v3 (and its token endpoint) for tests.

It listens on 127.0.0.1 (http.server in a thread) and is driven by the real
google-api-python-client through FOLLOWUP_CAL_GOOGLE_API_URL. It behaves like
Google where followup_cal depends on it:

- events.list: timeMin is an exclusive bound on an event's END, timeMax on its
  START; pages are short, and an empty page with a nextPageToken follows every
  full one; singleEvents=true expands a series (RRULE in `recurrence`) into
  instances with `recurringEventId` and `originalStartTime`; cancelled events
  only with showDeleted=true; privateExtendedProperty=k=v filters.
- events.insert with a client id ([a-v0-9]{5,1024}); a second insert of an id
  gets 409 `duplicate`, also when the event was deleted (Google keeps the id).
- events.get (cancelled events too), events.patch (merge; null deletes a key),
  events.update (replace), events.delete (status becomes cancelled, id kept;
  a second delete gets 410).
- extendedProperties.private: keys over 44 characters dropped, values cut at 1024.
- calendars.insert / get / delete, calendarList.list / get, and /token
  (refresh_token and authorization_code grants; `invalid_grant` when revoked).
- A request without a valid bearer token gets 401; one whose token was not granted
  any of the scopes the discovery document shipped in google-api-python-client
  (`calendar.v3.json`, read at `start()`) lists for that method gets 403
  `insufficientPermissions`, as Google answers. `granted` is what the user ticked
  on the consent screen (the token endpoint reports it back in `scope`).
- Deleted events are purged after a while (`purge()`, or `purge_after` seconds):
  they vanish from every listing, but their ids stay reserved (insert 409, get 404).
- `self: true` marks the entries of the listed calendar's owner (`Calendar.owner`),
  not the signed-in user: on a calendar shared by someone else, it is them.
- `eventType` is kept as given (`workingLocation`, `birthday`, `outOfOffice`,
  `focusTime`), and `eventTypes=` filters; invitations seeded with `hidden=True`
  (not answered) are listed only with `showHiddenInvitations=true`.
- `fresh_404s`: a calendar just made answers 404 to its first N requests (Google's
  propagation delay; its errors guide says to back off on 404).

Faults, for retries: scripted (`fail(kind, when=...)`) or random (`chaos(rate)`):
"429", "500", "503", "403rate", "quota", "daily", "drop" (the connection is
closed before the request is handled) and "lost" (the request is handled, then
the connection is closed before the response: a write that landed unseen).
Counters: `write_requests` (every POST/PATCH/PUT/DELETE to the API that
arrived), `writes_applied`, and `calls` (method, route) per request.

Kills: `hold_request(n, after=...)` holds the n-th request from then on (token
ones included) before it is handled, or after (a write that landed), and sets
`held`, so a test can SIGKILL the client at a known point.
Secrets: with `echo_credentials`, every error body repeats what the client
sent (bearer token, refresh token, client secret, code), as a careless proxy or
server might, to prove that none of it reaches the user's terminal.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import random
import re
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

API = "/calendar/v3/"
DISCOVERY = ("googleapiclient", "discovery_cache/documents/calendar.v3.json")
SCOPE_ROOT = "https://www.googleapis.com/auth/"
ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
FAULTS = ("429", "500", "503", "403rate", "quota", "daily", "drop", "lost")


def error_body(code: int, message: str, reason: str, domain: str = "global") -> dict:
    return {"error": {"code": code, "message": message,
                      "errors": [{"domain": domain, "reason": reason, "message": message}]}}


class ApiError(Exception):
    def __init__(self, code: int, message: str, reason: str, domain: str = "global"):
        super().__init__(message)
        self.code = code
        self.body = error_body(code, message, reason, domain)


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ApiError(400, "Bad Request", "badRequest")
    return t


def _rfc3339(t: datetime) -> str:
    return t.isoformat()


def merge(into: dict, patch: dict) -> dict:
    """PATCH semantics: objects merge, arrays and scalars replace, null deletes."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


class Calendar:
    def __init__(self, cal_id: str, summary: str, tz: str, primary: bool = False,
                 owner: str | None = None, access: str = "owner"):
        self.id = cal_id
        self.summary = summary
        self.tz = tz
        self.primary = primary
        self.owner = owner or cal_id  # whose entries `self: true` marks when listing it
        self.access = access  # accessRole of the user on it
        self.description = ""
        self.events: dict[str, dict] = {}
        self.reserved: set[str] = set()  # ids of purged events: never usable again
        self.fresh = 0  # requests still answered 404 (a calendar just made)

    def entry(self) -> dict:
        out = {"kind": "calendar#calendarListEntry", "id": self.id, "summary": self.summary,
               "timeZone": self.tz, "accessRole": self.access, "etag": f'"{abs(hash(self.id))}"'}
        if self.primary:
            out["primary"] = True
        if self.description:
            out["description"] = self.description
        return out


def load_methods() -> list[tuple[str, re.Pattern, str, frozenset[str]]]:
    """(HTTP method, path pattern, method id, scopes) of every Calendar v3 method, from
    the discovery document google-api-python-client ships: Google's own word on which
    scope lets a token call what. Literal paths come before templated ones."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(DISCOVERY[0])
    assert spec and spec.origin, "google-api-python-client is not installed"
    doc = json.loads((Path(spec.origin).parent / DISCOVERY[1]).read_text(encoding="utf-8"))
    found = []

    def walk(resources: dict) -> None:
        for resource in resources.values():
            for method in (resource.get("methods") or {}).values():
                path = method["path"]
                pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
                                     + "$")
                literal = sum(1 for part in path.split("/") if not part.startswith("{"))
                found.append((literal, method["httpMethod"], pattern,
                              method["id"].removeprefix("calendar."),
                              frozenset(method.get("scopes") or ())))
            walk(resource.get("resources") or {})

    walk(doc["resources"])
    found.sort(key=lambda m: -m[0])
    return [m[1:] for m in found]


INSUFFICIENT = {"error": {
    "code": 403, "message": "Request had insufficient authentication scopes.",
    "errors": [{"message": "Insufficient Permission", "domain": "global",
                "reason": "insufficientPermissions"}],
    "status": "PERMISSION_DENIED",
    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com"}]}}


class FakeGoogle:
    def __init__(self, user: str = "me@example.com", tz: str = "America/New_York",
                 page_size: int = 3, empty_pages: bool = True, mark_self: bool = True,
                 granted: tuple[str, ...] | None = None):
        self.user = user
        self.methods: list[tuple[str, re.Pattern, str, frozenset[str]]] = []  # at start()
        # what the user ticked on the consent screen; tokens carry it from when minted
        self.granted = frozenset(SCOPES if granted is None else granted)
        self.token_scopes: dict[str, frozenset[str]] = {}  # access or refresh token
        self.purge_after: float | None = None  # seconds a deleted event stays listed
        self.fresh_404s = 0  # a new calendar's first requests answer 404
        self.lock = threading.RLock()
        self.calendars: dict[str, Calendar] = {user: Calendar(user, user, tz, primary=True)}
        self.page_size = page_size
        self.empty_pages = empty_pages
        self.mark_self = mark_self  # Google sets `self: true` on the user's own entries
        self.list_hides_deleted = False  # drop cancelled events from filtered listings
        self.access_tokens = {"access-1"}
        self.refresh_tokens = {"refresh-1"}
        self.auth_codes: dict[str, str] = {}
        self._token_counter = itertools.count(2)
        self.scripted: list[tuple[str, Callable[[str, str], bool]]] = []
        self.rate = 0.0
        self.rng = random.Random(0)
        self.chaos_kinds: tuple[str, ...] = ("429", "500", "drop", "lost")
        self.block_after_writes: int | None = None  # then hold every later write
        self.blocked = threading.Event()  # set when a write is being held
        self.release = threading.Event()
        self.hold_at: int | None = None  # hold the n-th request counted from hold_request
        self.hold_after = False  # ... after handling it (a write lands, no answer goes out)
        self.held = threading.Event()  # set while that request is being held
        self.unhold = threading.Event()
        self.held_call: tuple[str, str] | None = None
        self._since_hold = 0
        self.echo_credentials = False  # error bodies repeat the request's secrets
        # event id -> (HTTP methods, code, reason): what Google refuses for that event
        self.refusals: dict[str, tuple[tuple[str, ...], int, str]] = {}
        self.write_requests = 0
        self.writes_applied = 0
        self.token_requests = 0
        self.faults_served: Counter = Counter()
        self.calls: list[tuple[str, str]] = []
        self._etag = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None

    # -- running -----------------------------------------------------------------------

    def start(self) -> FakeGoogle:
        fake = self
        self.methods = load_methods()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def setup(self):
                super().setup()
                # headers and body go out in two writes: without this, Nagle and
                # delayed ACKs add 40 ms to every response
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self):  # noqa: N802
                fake.handle(self)

            do_POST = do_PATCH = do_PUT = do_DELETE = do_GET  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.unhold.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    # -- test helpers ------------------------------------------------------------------

    def fail(self, kind: str, times: int = 1,
             when: Callable[[str, str], bool] = lambda method, route: True) -> None:
        """The next `times` requests matching `when(method, route)` get `kind`."""
        assert kind in FAULTS, kind
        self.scripted.extend([(kind, when)] * times)

    def chaos(self, rate: float, kinds: tuple[str, ...] = ("429", "500", "drop", "lost"),
              seed: int = 0) -> None:
        """A random `rate` of all requests (token ones too) fail with one of `kinds`."""
        self.rate = rate
        self.chaos_kinds = kinds
        self.rng = random.Random(seed)

    def hold_request(self, n: int | None, *, after: bool = False) -> None:
        """Hold the n-th request from now on (1 = the next one); None stops holding.

        `after=False`: it is held before being handled (it never happened);
        `after=True`: it is handled first (a write lands), then its answer is held.
        `held` is set once it is held; the connection drops when `unhold` is set.
        """
        with self.lock:
            self.hold_at = n
            self.hold_after = after
            self._since_hold = 0
            self.held_call = None
            self.held.clear()
            self.unhold.clear()

    def _hold_this(self, method: str, route: str) -> bool:
        with self.lock:
            if self.hold_at is None:
                return False
            self._since_hold += 1
            if self._since_hold != self.hold_at:
                return False
            self.held_call = (method, route)
            return True

    def _hold(self, h: BaseHTTPRequestHandler) -> None:
        self.held.set()
        self.unhold.wait(60)
        self._drop(h)

    def refuse(self, event_id: str, code: int = 400, reason: str = "invalid",
               methods: tuple[str, ...] = ("POST", "PATCH", "PUT", "DELETE")) -> None:
        """Every later write of this event id gets this error (and is not applied)."""
        self.refusals[event_id] = (methods, code, reason)

    def _refused(self, method: str, event_id: str | None) -> None:
        methods, code, reason = self.refusals.get(event_id or "", ((), 0, ""))
        if method in methods:
            raise ApiError(code, {"forbiddenForNonOrganizer": "The operation can only be "
                                  "performed by the event organizer."}.get(reason, reason),
                           reason)

    def calendar(self, cal_id: str) -> Calendar:
        cal_id = self.user if cal_id == "primary" else cal_id
        if cal_id not in self.calendars:
            raise ApiError(404, "Not Found", "notFound")
        return self.calendars[cal_id]

    def seed(self, body: dict, calendar: str = "primary", *, hidden: bool = False) -> dict:
        """Put an event there as if the user or an invitation had (no counters).
        `hidden`: an invitation not answered yet, listed only with showHiddenInvitations."""
        with self.lock:
            cal = self.calendar(calendar)
            ev = self._new_event(cal, copy.deepcopy(body))
            if hidden:
                ev["_hidden"] = True
            cal.events[ev["id"]] = ev
            return ev

    def modify(self, event_id: str, changes: dict, calendar: str = "primary") -> None:
        """The user edits an event (merge)."""
        with self.lock:
            ev = self.calendar(calendar).events[event_id]
            merge(ev, changes)
            self._touch(ev)

    def user_delete(self, event_id: str, calendar: str = "primary") -> None:
        with self.lock:
            ev = self.calendar(calendar).events[event_id]
            ev["status"] = "cancelled"
            self._touch(ev)

    def purge(self, older_than: float = 0.0) -> int:
        """Deleted events "eventually disappear" (Google's docs): gone from every listing
        and get (404), their ids still reserved (insert: 409). How many went."""
        import time as clock

        gone = 0
        with self.lock:
            for cal in self.calendars.values():
                for event_id, ev in list(cal.events.items()):
                    if ev.get("status") == "cancelled" and \
                            clock.monotonic() - ev.get("_deleted_at", 0.0) >= older_than:
                        del cal.events[event_id]
                        cal.reserved.add(event_id)
                        gone += 1
        return gone

    def add_calendar(self, cal_id: str, summary: str, *, owner: str | None = None,
                     access: str = "owner", tz: str = "America/New_York") -> Calendar:
        """Another calendar in the user's list (`owner`: whose `self` entries it shows)."""
        with self.lock:
            cal = Calendar(cal_id, summary, tz, owner=owner, access=access)
            self.calendars[cal_id] = cal
            return cal

    def events_in(self, calendar: str, *, cancelled: bool = False) -> dict[str, dict]:
        with self.lock:
            return {i: self._bare(e) for i, e in self.calendar(calendar).events.items()
                    if cancelled or e.get("status") != "cancelled"}

    @staticmethod
    def _bare(ev: dict) -> dict:
        """An event without the fake's own bookkeeping (keys starting with `_`)."""
        return {k: copy.deepcopy(v) for k, v in ev.items() if not k.startswith("_")}

    def secondary(self) -> list[Calendar]:
        return [c for c in self.calendars.values() if not c.primary]

    # -- the HTTP side -----------------------------------------------------------------

    def _pick_fault(self, method: str, route: str) -> str | None:
        with self.lock:
            for i, (kind, when) in enumerate(self.scripted):
                if when(method, route):
                    del self.scripted[i]
                    return kind
            if self.rate and self.rng.random() < self.rate:
                return self.rng.choice(self.chaos_kinds)
        return None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._handle(h)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        method = h.command
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path
        is_token = path.rstrip("/").endswith("/token")
        route = "token" if is_token else self._route_name(method, path)
        with self.lock:
            self.calls.append((method, route))
            if method in WRITE_METHODS and not is_token:
                self.write_requests += 1
            if is_token:
                self.token_requests += 1
        hold = self._hold_this(method, route)
        if hold and not self.hold_after:
            return self._hold(h)
        fault = self._pick_fault(method, route)
        if fault:
            self.faults_served[fault] += 1
        if fault == "drop":
            return self._drop(h)
        if fault in ("429", "500", "503", "403rate", "quota", "daily"):
            code, reason, message = {
                "429": (429, "rateLimitExceeded", "Rate Limit Exceeded"),
                "500": (500, "backendError", "Backend Error"),
                "503": (503, "backendError", "The service is currently unavailable."),
                "403rate": (403, "userRateLimitExceeded", "User Rate Limit Exceeded"),
                "quota": (403, "quotaExceeded", "Calendar usage limits exceeded."),
                "daily": (403, "dailyLimitExceeded", "Daily Limit Exceeded"),
            }[fault]
            domain = "usageLimits" if fault in ("quota", "daily", "403rate", "429") else "global"
            return self._send(h, code, self._echo(h, raw, error_body(code, message, reason,
                                                                     domain)))
        if is_token:
            status, payload = self._token(raw)
        else:
            status, payload = self._api(h, method, path, query, raw)
        if status >= 400:
            payload = self._echo(h, raw, payload)
        if hold:
            return self._hold(h)
        if method in WRITE_METHODS and not is_token and self.block_after_writes is not None \
                and self.writes_applied > self.block_after_writes:
            # the write landed; its response never leaves (the client gets killed)
            self.blocked.set()
            self.release.wait(30)
            return self._drop(h)
        if fault == "lost":
            return self._drop(h)
        self._send(h, status, payload)

    def _method(self, method: str, path: str) -> tuple[str, frozenset[str]]:
        """The discovery document's method for this request: (name, scopes)."""
        rest = path[len(API):] if path.startswith(API) else path
        rest = rest.strip("/")
        for http_method, pattern, name, scopes in self.methods:
            if http_method == method and pattern.match(rest):
                return name, scopes
        return "unknown", frozenset()

    def _route_name(self, method: str, path: str) -> str:
        return self._method(method, path)[0]

    def _echo(self, h: BaseHTTPRequestHandler, raw: bytes, payload):
        """With `echo_credentials`, put what the client sent into the error text."""
        if not self.echo_credentials or not isinstance(payload, dict):
            return payload
        sent = [h.headers.get("Authorization") or ""]
        with contextlib.suppress(UnicodeDecodeError):
            form = parse_qs(raw.decode("utf-8"))
            sent += [f"{k}={v[0]}" for k, v in form.items()
                     if k in ("refresh_token", "client_secret", "code", "client_id")]
        note = " (request had: " + "; ".join(s for s in sent if s) + ")"
        payload = copy.deepcopy(payload)
        error = payload.get("error")
        if isinstance(error, dict):
            error["message"] = str(error.get("message", "")) + note
            for e in error.get("errors") or ():
                e["message"] = str(e.get("message", "")) + note
        else:
            payload["error_description"] = str(payload.get("error_description", "")) + note
        return payload

    def _drop(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, h: BaseHTTPRequestHandler, status: int, payload) -> None:
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        h.send_response(status)
        if payload is not None:
            h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if data:
            h.wfile.write(data)

    # -- OAuth token endpoint ------------------------------------------------------------

    def _token(self, raw: bytes) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        with self.lock:
            grant = form.get("grant_type")
            if grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
                scopes = self.token_scopes.get(form["refresh_token"], self.granted)
                token = f"access-{next(self._token_counter)}"
                self.access_tokens.add(token)
                self.token_scopes[token] = scopes
                return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                             "scope": " ".join(sorted(scopes))}
            if grant == "authorization_code" and form.get("code") in self.auth_codes:
                self.auth_codes.pop(form["code"])
                token = f"access-{next(self._token_counter)}"
                refresh = f"refresh-{secrets.token_hex(4)}"
                self.access_tokens.add(token)
                self.refresh_tokens.add(refresh)
                self.token_scopes[token] = self.token_scopes[refresh] = self.granted
                return 200, {"access_token": token, "refresh_token": refresh,
                             "expires_in": 3599, "token_type": "Bearer",
                             "scope": " ".join(sorted(self.granted))}
        return 400, {"error": "invalid_grant",
                     "error_description": "Token has been expired or revoked."}

    # -- Calendar API ----------------------------------------------------------------------

    def _api(self, h, method: str, path: str, query: dict, raw: bytes) -> tuple[int, dict | None]:
        auth = h.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return 401, {"error": {
                "code": 401, "message": "Request had invalid authentication credentials.",
                "errors": [{"domain": "global", "reason": "authError",
                            "message": "Invalid Credentials", "locationType": "header",
                            "location": "Authorization"}],
                "status": "UNAUTHENTICATED"}}
        if not path.startswith(API):
            return 404, error_body(404, "Not Found", "notFound")
        _name, needs = self._method(method, path)
        if needs and not needs & self.token_scopes.get(auth[7:], self.granted):
            return 403, copy.deepcopy(INSUFFICIENT)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return 400, error_body(400, "Parse Error", "parseError")
        parts = [unquote(p) for p in path[len(API):].strip("/").split("/")]
        try:
            with self.lock:
                if self.purge_after is not None:
                    self.purge(self.purge_after)
                self._fresh_calendar(parts)
                return self._dispatch(method, parts, query, body)
        except ApiError as exc:
            return exc.code, exc.body

    def _fresh_calendar(self, parts: list[str]) -> None:
        """A calendar just made is not yet known everywhere: 404 for a few requests."""
        cal_id = parts[3] if parts[:3] == ["users", "me", "calendarList"] and len(parts) > 3 \
            else parts[1] if parts[0] == "calendars" and len(parts) > 1 else None
        cal = self.calendars.get(cal_id) if cal_id else None
        if cal is not None and cal.fresh > 0:
            cal.fresh -= 1
            raise ApiError(404, "Not Found", "notFound")

    def _dispatch(self, method, parts, query, body):
        if parts[:3] == ["users", "me", "calendarList"]:
            if len(parts) == 3 and method == "GET":
                items = [c.entry() for c in self.calendars.values()]
                return 200, {"kind": "calendar#calendarList", "items": items}
            if len(parts) == 4 and method == "GET":
                return 200, self.calendar(parts[3]).entry()
        if parts[0] == "calendars":
            if len(parts) == 1 and method == "POST":
                if not body.get("summary"):
                    raise ApiError(400, "Missing title.", "required")
                cal_id = f"c_{secrets.token_hex(12)}@group.calendar.google.com"
                cal = Calendar(cal_id, body["summary"], body.get("timeZone") or "UTC")
                cal.description = body.get("description") or ""
                cal.fresh = self.fresh_404s
                self.calendars[cal_id] = cal
                self.writes_applied += 1
                return 200, {"kind": "calendar#calendar", "id": cal_id,
                             "summary": cal.summary, "timeZone": cal.tz}
            if len(parts) == 2 and method == "GET":
                cal = self.calendar(parts[1])
                return 200, {"kind": "calendar#calendar", "id": cal.id, "summary": cal.summary,
                             "timeZone": cal.tz}
            if len(parts) == 2 and method == "DELETE":
                cal = self.calendar(parts[1])
                del self.calendars[cal.id]
                self.writes_applied += 1
                return 204, None
            if len(parts) >= 3 and parts[2] == "events":
                cal = self.calendar(parts[1])
                if len(parts) == 3:
                    if method == "GET":
                        return 200, self._list(cal, query)
                    if method == "POST":
                        self._refused(method, body.get("id"))
                        return 200, self._insert(cal, body)
                if len(parts) == 4:
                    return self._one(cal, method, parts[3], body)
        raise ApiError(404, "Not Found", "notFound")

    # -- events --------------------------------------------------------------------------

    def _touch(self, ev: dict) -> None:
        import time as clock

        if ev.get("status") == "cancelled" and "_deleted_at" not in ev:
            ev["_deleted_at"] = clock.monotonic()
        elif ev.get("status") != "cancelled":
            ev.pop("_deleted_at", None)
        ev["etag"] = f'"{next(self._etag)}"'
        ev["updated"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")

    def _new_event(self, cal: Calendar, body: dict) -> dict:
        if "id" in body:
            if not ID_RE.match(str(body["id"])):
                raise ApiError(400, "Invalid resource id value.", "invalid")
        else:
            body["id"] = base64.b32hexencode(secrets.token_bytes(10)).decode().lower()
        if body["id"] in cal.events or body["id"] in cal.reserved:
            raise ApiError(409, "The requested identifier already exists.", "duplicate")
        for key in ("start", "end"):
            if not isinstance(body.get(key), dict) or not (
                    body[key].get("dateTime") or body[key].get("date")):
                raise ApiError(400, f"Missing {key} time.", "required")
        if self._bounds(cal, body)[1] < self._bounds(cal, body)[0]:
            raise ApiError(400, "The specified time range is empty.", "timeRangeEmpty")
        self._clean(body)
        body.setdefault("status", "confirmed")
        body.setdefault("kind", "calendar#event")
        body.setdefault("iCalUID", f"{body['id']}@google.com")
        body.setdefault("creator", {"email": self.user})
        body.setdefault("organizer", {"email": cal.id, "displayName": cal.summary})
        body["created"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        body.setdefault("sequence", 0)
        self._touch(body)
        return body

    def _clean(self, body: dict) -> None:
        props = body.get("extendedProperties")
        if isinstance(props, dict):
            for scope in ("private", "shared"):
                values = props.get(scope)
                if isinstance(values, dict):
                    props[scope] = {k: str(v)[:1024] for k, v in values.items()
                                    if len(k) <= 44 and v is not None}
        reminders = body.get("reminders")
        if isinstance(reminders, dict) and len(reminders.get("overrides") or ()) > 5:
            raise ApiError(400, "Too many reminders.", "tooManyReminders")
        if "colorId" in body and str(body["colorId"]) not in {str(i) for i in range(1, 12)}:
            raise ApiError(400, "Invalid color.", "invalid")

    def _view(self, ev: dict, cal: Calendar) -> dict:
        """What a listing of `cal` shows: `self` marks the entries of the calendar's
        owner, as Google does (the user only on their own calendars)."""
        out = self._bare(ev)
        if self.mark_self:
            for key in ("creator", "organizer"):
                node = out.get(key)
                if isinstance(node, dict) and node.get("email") == cal.owner:
                    node["self"] = True
            for a in out.get("attendees") or ():
                if a.get("email") == cal.owner:
                    a["self"] = True
        return out

    def _insert(self, cal: Calendar, body: dict) -> dict:
        ev = self._new_event(cal, body)
        cal.events[ev["id"]] = ev
        self.writes_applied += 1
        return self._view(ev, cal)

    def _one(self, cal: Calendar, method: str, event_id: str, body: dict):
        self._refused(method, event_id)
        ev = cal.events.get(event_id)
        if ev is None:
            ev = self._instance(cal, event_id)
            if ev is None or method != "GET":
                raise ApiError(404, "Not Found", "notFound")
        if method == "GET":
            return 200, self._view(ev, cal)
        if method == "DELETE":
            if ev.get("status") == "cancelled":
                raise ApiError(410, "Resource has been deleted", "deleted")
            ev["status"] = "cancelled"
            self._touch(ev)
            self.writes_applied += 1
            return 204, None
        if method in ("PATCH", "PUT"):
            if body.get("id") not in (None, event_id):
                raise ApiError(400, "Invalid resource id value.", "invalid")
            keep = {k: ev[k] for k in ("id", "created", "iCalUID", "kind", "creator",
                                       "organizer") if k in ev}
            new = merge(copy.deepcopy(ev), body) if method == "PATCH" else {**body, **keep}
            new.update(keep)
            self._clean(new)
            if self._bounds(cal, new)[1] < self._bounds(cal, new)[0]:
                raise ApiError(400, "The specified time range is empty.", "timeRangeEmpty")
            if new.get("start") != ev.get("start") or new.get("end") != ev.get("end"):
                new["sequence"] = int(ev.get("sequence", 0)) + 1
            new.setdefault("status", "confirmed")
            self._touch(new)
            cal.events[event_id] = new
            self.writes_applied += 1
            return 200, self._view(new, cal)
        raise ApiError(405, "Method Not Allowed", "methodNotAllowed")

    def _instance(self, cal: Calendar, instance_id: str) -> dict | None:
        master_id, _, stamp = instance_id.rpartition("_")
        master = cal.events.get(master_id)
        if not master or not master.get("recurrence"):
            return None
        for inst in self._expand(cal, master, None, None):
            if inst["id"] == instance_id:
                return inst
        return None

    # -- listing -----------------------------------------------------------------------

    def _when(self, cal: Calendar, node: dict) -> datetime:
        if node.get("dateTime"):
            t = datetime.fromisoformat(node["dateTime"].replace("Z", "+00:00"))
            if t.tzinfo is None:
                t = t.replace(tzinfo=ZoneInfo(node.get("timeZone") or cal.tz))
            return t
        day = date.fromisoformat(node["date"])
        return datetime.combine(day, time(0), ZoneInfo(cal.tz))

    def _bounds(self, cal: Calendar, ev: dict) -> tuple[datetime, datetime]:
        return self._when(cal, ev["start"]), self._when(cal, ev["end"])

    def _expand(self, cal: Calendar, master: dict, lo: datetime | None,
                hi: datetime | None) -> list[dict]:
        from dateutil.rrule import rrulestr

        start, end = self._bounds(cal, master)
        length = end - start
        zone = ZoneInfo(master["start"].get("timeZone") or cal.tz)
        all_day = "date" in master["start"] and "dateTime" not in master["start"]
        local = start.astimezone(zone)
        lines = [r for r in master["recurrence"] if r.upper().startswith("RRULE")]
        rule = rrulestr("\n".join(lines), dtstart=local, forceset=True)
        out = []
        for occ in rule:
            if hi is not None and occ >= hi:
                break
            if len(out) > 2000:
                break
            occ_end = occ + length
            if lo is not None and occ_end <= lo:
                continue
            inst = copy.deepcopy(master)
            inst.pop("recurrence", None)
            utc = occ.astimezone(timezone.utc)
            if all_day:
                inst["id"] = f"{master['id']}_{occ:%Y%m%d}"
                inst["start"] = {"date": occ.date().isoformat()}
                inst["end"] = {"date": (occ.date() + (length // timedelta(days=1)) *
                                        timedelta(days=1)).isoformat()}
                inst["originalStartTime"] = {"date": occ.date().isoformat()}
            else:
                inst["id"] = f"{master['id']}_{utc:%Y%m%dT%H%M%SZ}"
                tz = master["start"].get("timeZone")
                inst["start"] = {"dateTime": _rfc3339(occ), **({"timeZone": tz} if tz else {})}
                inst["end"] = {"dateTime": _rfc3339(occ_end.astimezone(zone)),
                               **({"timeZone": tz} if tz else {})}
                inst["originalStartTime"] = dict(inst["start"])
            inst["recurringEventId"] = master["id"]
            out.append(inst)
        return out

    def _list(self, cal: Calendar, query: dict) -> dict:
        q = {k: v[-1] for k, v in query.items()}
        lo = _parse_time(q["timeMin"]) if q.get("timeMin") else None
        hi = _parse_time(q["timeMax"]) if q.get("timeMax") else None
        single = q.get("singleEvents") == "true"
        show_deleted = q.get("showDeleted") == "true"
        if q.get("orderBy") == "startTime" and not single:
            raise ApiError(400, "The requested ordering is not available for the particular "
                                "query.", "badRequest")
        wanted = [p.split("=", 1) for p in query.get("privateExtendedProperty", [])]
        types = set(query.get("eventTypes", []))
        hidden_too = q.get("showHiddenInvitations") == "true"
        items = []
        for ev in cal.events.values():
            if (ev.get("_hidden") and not hidden_too) or (
                    types and ev.get("eventType", "default") not in types):
                continue
            candidates = (self._expand(cal, ev, lo, hi) if single and ev.get("recurrence")
                          else [ev])
            for item in candidates:
                if item.get("status") == "cancelled" and (
                        not show_deleted or (wanted and self.list_hides_deleted)):
                    continue
                start, end = self._bounds(cal, item)
                if lo is not None and not end > lo:
                    continue
                if hi is not None and not start < hi:
                    continue
                private = (item.get("extendedProperties") or {}).get("private") or {}
                if any(private.get(k) != v for k, v in wanted):
                    continue
                items.append(item)
        if q.get("orderBy") == "startTime":
            items.sort(key=lambda e: self._bounds(cal, e)[0])
        size = max(1, min(int(q.get("maxResults") or 250), 2500, self.page_size))
        token = q.get("pageToken") or "0"
        offset, empty_next = int(token.split(":")[0]), token.endswith(":e")
        if empty_next:
            page, next_token = [], str(offset)
        else:
            page = items[offset:offset + size]
            offset += len(page)
            more = offset < len(items)
            next_token = (f"{offset}:e" if self.empty_pages else str(offset)) if more else None
        out = {"kind": "calendar#events", "summary": cal.summary, "timeZone": cal.tz,
               "accessRole": "owner", "defaultReminders": [],
               "items": [self._view(e, cal) for e in page]}
        if next_token:
            out["nextPageToken"] = next_token
        return out


# -- helpers the tests share ----------------------------------------------------------------

# what `followup-cal auth` asks for; OLD_SCOPES: what it asked for before issue 12
SCOPES = [SCOPE_ROOT + "calendar.events", SCOPE_ROOT + "calendar.app.created",
          SCOPE_ROOT + "calendar.calendarlist.readonly"]
OLD_SCOPES = SCOPES[:2]


def write_token(home, fake: FakeGoogle, *, token: str = "access-1",
                refresh: str = "refresh-1", expiry: str = "2099-01-01T00:00:00Z",
                client_secret: str = "test-secret", scopes=None) -> str:
    """An authorized-user token file whose token_uri is the fake (never the internet).
    `scopes`: what the file says was granted (default: what the fake grants)."""
    import os

    scopes = sorted(fake.granted) if scopes is None else list(scopes)

    path = os.path.join(str(home), "token.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"token": token, "refresh_token": refresh, "token_uri": fake.url + "token",
                   "client_id": "test-client.apps.googleusercontent.com",
                   "client_secret": client_secret, "scopes": scopes, "expiry": expiry,
                   "universe_domain": "googleapis.com", "account": ""}, fh)
    os.chmod(path, 0o600)
    return path


class _FastTime:
    """googleapiclient.http's view of `time`: back-off sleeps cut to nothing."""

    def __init__(self, real):
        self._real = real

    def sleep(self, seconds: float) -> None:
        self._real.sleep(min(seconds, 0.001))

    def __getattr__(self, name):
        return getattr(self._real, name)


def serve(monkeypatch) -> FakeGoogle:
    """A started fake, the client pointed at it, no proxy in the way, short back-off."""
    from followup_cal.calendars import google

    server = FakeGoogle().start()
    monkeypatch.setenv(google.API_URL_ENV, server.url)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    fast_backoff(monkeypatch)
    return server


def fast_backoff(monkeypatch) -> None:
    """Patch the client's retry sleeps (googleapiclient.http.time) and ours (client.SLEEP)."""
    import time as real_time

    import googleapiclient.http

    from followup_cal.calendars import google

    monkeypatch.setattr(googleapiclient.http, "time", _FastTime(real_time))
    monkeypatch.setattr(google.client, "SLEEP", lambda seconds: None)


def google_event(summary: str, start: str, minutes: int = 45, tz: str = "America/New_York",
                 *, attendees=(("jane@acme.com", "Jane Doe"),),
                 organizer=("rita@acme.com", "Rita Recruiter"), me: str | None = "me@example.com",
                 description: str = "", **extra) -> dict:
    """An event as Google holds it (start in `tz`, with the user among the attendees)."""
    begin = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(tz))
    end = begin + timedelta(minutes=minutes)
    people = [{"email": e, "displayName": n, "responseStatus": "accepted"} for e, n in attendees]
    if me:
        people.insert(0, {"email": me, "responseStatus": "accepted"})
    body = {"summary": summary, "description": description,
            "start": {"dateTime": begin.isoformat(), "timeZone": tz},
            "end": {"dateTime": end.isoformat(), "timeZone": tz},
            "attendees": people}
    if organizer:
        body["organizer"] = {"email": organizer[0], "displayName": organizer[1]}
    body.update(extra)
    return body


# -- checks shared by the crash and concurrency tests -----------------------------------------


def on_calendar(fake: FakeGoogle) -> dict:
    """Our live follow-ups over every calendar, uid -> start; fails on any duplicate."""
    from datetime import datetime

    from followup_cal.calendars import google
    from followup_cal.rules import UID_DOMAIN

    found: dict = {}
    for cal in list(fake.calendars.values()):
        for event in fake.events_in(cal.id).values():
            if not google.is_ours(event):
                continue
            uid = f"{google._private(event)[google.KEY_PROP][:32]}@{UID_DOMAIN}"
            assert uid not in found, f"duplicate follow-up {uid} ({event.get('summary')})"
            found[uid] = datetime.fromisoformat(event["start"]["dateTime"])
    return found


def planned(args) -> dict:
    """What `plan --google --json` says should be there, uid -> start."""
    from datetime import datetime

    from conftest import cli

    r = cli("plan", "--google", "--json", *args)
    assert r.code == 0, r.err
    return {item["uid"]: datetime.fromisoformat(item["start"]) for item in r.json()}


def integrity(path) -> str:
    import sqlite3

    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def assert_converged(fake: FakeGoogle, home, args) -> None:
    """Calendar == plan, one dedicated calendar, ledger agrees, next run writes nothing."""
    from followup_cal.calendars import google
    from followup_cal.ledger import Ledger

    from conftest import cli

    want = planned(args)
    assert want, "the scenario plans nothing"
    assert on_calendar(fake) == want
    mine = [c for c in fake.secondary() if c.summary == google.CALENDAR_NAME]
    assert len(mine) == 1, [c.id for c in mine]
    assert integrity(home / "state.db") == "ok"
    with Ledger.open() as ledger:
        target = f"google:{ledger.get_state(google.CALENDAR_STATE)}"
        rows = {w.uid for w in ledger.written(target) if w.removed_at is None}
        assert ledger.get_state(google.CALENDAR_STATE) == mine[0].id
    assert rows >= set(want)
    writes = fake.write_requests
    r = cli("sync", *args)
    assert r.code == 0 and "0 created, 0 updated, 0 deleted" in r.out, r.out + r.err
    assert fake.write_requests == writes


class Browser:
    """Plays the user's browser in `auth`: Google sends it back to the local redirect
    with an authorization code (accepted by the fake unless `good_code` is False)."""

    def __init__(self, fake: FakeGoogle, code: str = "code-1", good_code: bool = True):
        self.fake = fake
        self.code = code
        self.good_code = good_code
        self.seen: dict = {}

    def open(self, url, new=0, autoraise=True):
        import http.client
        from urllib.parse import parse_qs, urlsplit

        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        self.seen = query
        if self.good_code:
            self.fake.auth_codes[self.code] = "ok"

        def back():
            target = urlsplit(query["redirect_uri"])
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
            conn.request("GET", f"/?state={query['state']}&code={self.code}"
                                f"&scope={query['scope'].replace(' ', '%20')}")
            conn.getresponse().read()
            conn.close()

        threading.Thread(target=back, daemon=True).start()
        return True
