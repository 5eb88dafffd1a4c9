"""CalDAV (iCloud, Fastmail, Nextcloud, any RFC 4791 server): a Source and a CalendarSink.

The `caldav` library gives the HTTP session and its sign-in; the requests are
written out here, so that every one of them goes through one retry loop and
costs what it says: steady state is one REPORT per read calendar and one for
ours (RFC 6578 sync-collection with the token cached on disk, or a time-range
calendar-query where the server offers no token). Discovery (principal, home,
calendars) is cached a day.

Reading expands recurrences locally with the same code as an .ics file (many
servers do not expand); writing uses the export's VEVENT, plus our properties.
Ours are the objects with X-FOLLOWUP-CAL-KIND: nothing else is ever listed,
changed or deleted. Creates are `If-None-Match: *`, updates and deletes
`If-Match: <etag>`; the rules of what to write live in sync.py.

Passwords never reach a message: library errors are turned into our own
one-line errors outside the `except` block, so no chain carries them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from ..accounts import PASSWORD_KEYS, Account
from ..config import APP, ConfigError, home_dir
from ..errors import RemoteError
from ..ledger import content_hash
from .base import Reading, Remote

KEYS = frozenset({"url", "username", "read", "write", "timeout", "retries", "verify",
                  *PASSWORD_KEYS})
DEFAULT_WRITE = "Interview follow-ups"  # ics.CALNAME
KIND_PROP = "X-FOLLOWUP-CAL-KIND"  # ics.OUR_KIND: what makes an object ours
HASH_PROP = "X-FOLLOWUP-CAL-HASH"
MARK_PROP = "X-FOLLOWUP-CAL-MARK"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
BACKOFF_SECONDS = 0.5  # doubled after each failed try
RETRY_AFTER_CAP = 60.0  # a server asking for longer is not waited for
DISCOVERY_SECONDS = 24 * 3600  # calendar URLs are looked up again after a day
CACHE_VERSION = 1
DAV, CAL = "DAV:", "urn:ietf:params:xml:ns:caldav"
XML = {"Content-Type": "application/xml; charset=utf-8"}
ICS = {"Content-Type": "text/calendar; charset=utf-8"}
REFUSED = (403, 405, 501)  # MKCALENDAR not offered


class CalDAVError(RemoteError):
    """A CalDAV server failed or refused us: one line, exit 1."""


# -- options --------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The keys of one `[calendars.NAME] type = "caldav"` table."""

    where: str
    url: str
    username: str | None
    read: tuple[str, ...]
    write: str
    timeout: float
    retries: int
    verify: bool | str

    @classmethod
    def from_account(cls, account: Account) -> Options:
        where = account.where
        unknown = sorted(set(account.options) - KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} "
                              f"(known: {', '.join(sorted(KEYS))})")
        url = account.text("url", required=True).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}.url: expected an http(s):// address")
        if parts.username or parts.password:  # it would show in every message
            raise ConfigError(f"{where}.url: put the user in `username` and the password "
                              "in a password option, not in the URL")
        timeout = account.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"{where}.timeout: expected a number of seconds above 0")
        retries = account.get("retries", DEFAULT_RETRIES)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ConfigError(f"{where}.retries: expected a whole number from 0 to 10")
        verify = account.get("verify", True)
        if not isinstance(verify, (bool, str)):
            raise ConfigError(f"{where}.verify: expected true, false or a CA bundle path")
        write = account.text("write", DEFAULT_WRITE).strip()
        if not write:
            raise ConfigError(f"{where}.write: expected a calendar name or URL")
        return cls(where, url if url.endswith("/") else url + "/", account.text("username"),
                   tuple(r.strip() for r in account.texts("read") if r.strip()), write,
                   float(timeout), retries, verify)


# -- the two adapters to the .ics code (the one place that calls ics.py) -------------


def ics_events(objects: Iterable[tuple[str, str]], window, settings, source: str
               ) -> tuple[list, set[str], list[str]]:
    """Events of remote objects `(href, text)` in the window, read as an .ics file is.

    Returns (events, the user's addresses the calendars name, warnings); one
    object that cannot be read is a warning.
    """
    from ..detect import Detector
    from . import ics
    from . import prefilter as prefiltering

    keep = Detector.build(settings, ()).is_interview_summary
    reading = ics.Reading()
    events: list = []
    for href, text in objects:
        try:
            if prefiltering.ENABLED:  # most of a calendar is outside the window: skip it unparsed
                text = ics.filtered_text(text.encode("utf-8"), keep, window.busy_start,
                                         window.busy_end, since=window.start)
                if "BEGIN:VEVENT" not in text:
                    continue
            for cal in ics.parse_calendars(text, f"{source} {href}"):
                cal, zones = ics.prepare(cal, settings, reading, source)
                events.extend(ics.to_events(cal, zones, window, reading, source, keep))
        except Exception as exc:  # one broken object; the rest goes on
            reading.warnings.append(f"{source}: skipped {href}: {_short(exc)}")
    return events, set(reading.calnames), list(reading.warnings)


def follow_up_object(f, mark: str, settings) -> bytes:
    """The export's VEVENT for `f` (UTC times, DTEND, no ATTENDEE) as one CalDAV
    object, with the properties that mark it ours."""
    from icalendar import Calendar

    from . import ics

    cal = Calendar.from_ical(ics.to_ical([f], settings, datetime.now(timezone.utc)))
    for key in ("METHOD", "X-WR-CALNAME"):  # RFC 4791 4.1: no METHOD in a stored object
        cal.pop(key, None)
    event = cal.walk("VEVENT")[0]
    event.add(HASH_PROP, content_hash(f))
    event.add(MARK_PROP, mark or "-")
    return cal.to_ical()


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    return text or type(exc).__name__


# -- HTTP with retries ----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    tree: object | None  # lxml element of an XML body
    text: str
    retried: bool = False  # an earlier try of this request may have reached the server

    def preconditions(self) -> list[str]:
        if self.tree is None or getattr(self.tree, "tag", None) != f"{{{DAV}}}error":
            return []
        return [c.tag for c in self.tree if isinstance(c.tag, str)]


def _network_error(exc: BaseException) -> bool:
    module = type(exc).__module__.split(".")[0]
    return isinstance(exc, OSError) or module in ("niquests", "requests", "urllib3",
                                                  "urllib3_future", "ssl", "socket")


class Http:
    """One account's session: every request is tried `retries` more times after a
    5xx, a 429 (after its Retry-After, capped) or a dropped connection; a refused
    password (401) is never retried."""

    def __init__(self, options: Options, password: str | None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        import caldav

        self.options = options
        self.sleep = sleep
        self.client = caldav.DAVClient(
            url=options.url, username=options.username, password=password,
            auth_type="basic" if options.username else None, timeout=options.timeout,
            ssl_verify_cert=options.verify, enable_rfc6764=False)
        self.requests = 0

    def send(self, method: str, url: str, body: bytes | str = b"",
             headers: Mapping[str, str] | None = None) -> Answer:
        from caldav.lib import error

        where, host = self.options.where, _host(url)
        delay, retried = BACKOFF_SECONDS, False
        for attempt in range(self.options.retries + 1):
            last = attempt == self.options.retries
            failure = wait = None
            try:
                self.requests += 1
                r = self.client.request(url, method, body, dict(headers or {}))
            except error.RateLimitError as exc:
                wait = min(exc.retry_after_seconds or delay, RETRY_AFTER_CAP)
                failure = f"{where}: {host} is busy (HTTP 429) after {attempt + 1} tries"
            except error.AuthorizationError as exc:
                if exc.status == 403:
                    return Answer(403, {}, _xml(exc.body), _text(exc.body), retried)
                failure = (f"{where}: {host} refused the username or password (HTTP 401); "
                           f"check `username` and the password option")
                last = True
            except error.DAVError as exc:
                failure = f"{where}: {method} {url}: {type(exc).__name__} ({exc.reason})"
                last = True
            except Exception as exc:
                if not _network_error(exc):
                    raise
                kind = "no answer" if "timeout" in type(exc).__name__.lower() else "dropped"
                failure = (f"{where}: cannot reach {host} ({kind} after {attempt + 1} tries: "
                           f"{type(exc).__name__})")
            else:
                if r.status < 500 or r.status == 501:
                    return Answer(r.status, r.headers, r.tree, r.raw or "", retried)
                failure = f"{where}: {host} failed (HTTP {r.status}) after {attempt + 1} tries"
            if last:
                raise CalDAVError(failure)
            self.sleep(wait if wait is not None else delay)
            delay, retried = delay * 2, True
        raise AssertionError("unreachable")


def _xml(body):
    if not body:
        return None
    from lxml import etree

    try:
        return etree.fromstring(body if isinstance(body, bytes) else body.encode(),
                                parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except Exception:
        return None


def _text(body) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")


def _responses(tree) -> Iterable[tuple[str, int | None, dict]]:
    """(href, status, {prop tag: element}) of a multistatus, props of 2xx propstats only."""
    if tree is None:
        return
    for response in tree.iter(f"{{{DAV}}}response"):
        href = response.findtext(f"{{{DAV}}}href", "").strip()
        status = _status(response.findtext(f"{{{DAV}}}status"))
        props: dict = {}
        for propstat in response.iter(f"{{{DAV}}}propstat"):
            code = _status(propstat.findtext(f"{{{DAV}}}status"))
            if code is None or 200 <= code < 300:
                for prop in propstat.iter(f"{{{DAV}}}prop"):
                    for child in prop:
                        props[child.tag] = child
        yield href, status, props


def _status(line: str | None) -> int | None:
    parts = (line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


# -- the cache of calendars, sync tokens and objects -------------------------------------


def cache_folder() -> Path:
    """`$FOLLOWUP_CAL_HOME/cache`, else the platform's cache folder (as holidays.json)."""
    home = home_dir()
    if home:
        return home / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP))


class Cache:
    """`caldav-NAME.json`: calendar URLs, and per collection its sync token and
    objects. Private (0600: it holds calendar contents), replaced atomically, and
    dropped whole when the account's settings change or it cannot be read. A save
    writes only what changed over what is on disk, so two instances of one account
    (a reader and a writer) do not undo each other's tokens."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.discovery, self.collections = self._load()

    def _load(self) -> tuple[dict, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or (
                data.get("fingerprint") != self.fingerprint):
            data = {}
        discovery, collections = data.get("discovery"), data.get("collections")
        return (discovery if isinstance(discovery, dict) else {},
                collections if isinstance(collections, dict) else {})

    def save(self, *, discovery: bool = False, collection: str | None = None) -> None:
        """Write the discovery and/or one collection's state (gone when dropped)."""
        disk_discovery, collections = self._load()
        if not discovery:
            self.discovery = disk_discovery
        if collection is not None:
            if collection in self.collections:
                collections[collection] = self.collections[collection]
            else:
                collections.pop(collection, None)
        self.collections = collections
        data = {"version": CACHE_VERSION, "fingerprint": self.fingerprint,
                "discovery": self.discovery, "collections": collections}
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError:
            return  # a cache that cannot be written costs requests, not correctness
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                json.dump(data, fh, ensure_ascii=False)
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# -- the calendar -------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    url: str
    name: str
    events: bool  # holds VEVENTs (not a task list)


@dataclass
class _Ours:
    href: str
    etag: str | None
    remote: Remote | None = None


class CalDAVCalendar:
    """One `[calendars.NAME]` CalDAV account: reads the `read` calendars, keeps
    our follow-ups in the `write` one. Nothing is sent (and no password looked up)
    before the first read or open."""

    def __init__(self, account: Account, settings,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.account = account
        self.settings = settings
        self.sleep = sleep
        self.options = Options.from_account(account)
        self.name = f"caldav:{self.account.name}"
        write = self.options.write
        self.target = f"caldav:{urljoin(self.options.url, write)}" if _is_url(write) else (
            f"caldav:{self.account.name}/{write}")  # the URL once open() found it
        self._http: Http | None = None
        self._cache: Cache | None = None
        self._write_url: str | None = None
        self._ours: dict[str, _Ours] = {}
        self._listed = False  # the calendars were listed live in this run

    # -- plumbing --

    @property
    def http(self) -> Http:
        if self._http is None:
            password = self.account.password() if self.account.has_password() else None
            self._http = Http(self.options, password, self.sleep)
        return self._http

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            o = self.options
            fingerprint = hashlib.sha256(json.dumps(
                [o.url, o.username, o.read, o.write]).encode()).hexdigest()[:16]
            self._cache = Cache(cache_folder() / f"caldav-{self.account.name}.json",
                                fingerprint)
        return self._cache

    @property
    def requests(self) -> int:
        return self._http.requests if self._http else 0

    # -- discovery --

    def _calendars(self, fresh: bool = False) -> list[Found]:
        """The account's calendars: remembered a day; `fresh` looks again, once a run."""
        d = self.cache.discovery
        if d and (self._listed or not fresh and time.time() - d.get("at", 0) < DISCOVERY_SECONDS):
            with contextlib.suppress(TypeError, KeyError, ValueError):  # a hand-edited file
                return [Found(str(u), str(n), bool(e)) for u, n, e in d["calendars"]]
        home = self._home()
        answer = self.http.send("PROPFIND", home, _propfind(
            "<D:displayname/><D:resourcetype/><C:supported-calendar-component-set/>"),
            {**XML, "Depth": "1"})
        self._check(answer, "PROPFIND", home)
        found = []
        for href, _status, props in _responses(answer.tree):
            kind = props.get(f"{{{DAV}}}resourcetype")
            if kind is None or kind.find(f"{{{CAL}}}calendar") is None:
                continue
            comps = props.get(f"{{{CAL}}}supported-calendar-component-set")
            names = {c.get("name", "").upper() for c in comps} if comps is not None else set()
            name = (props[f"{{{DAV}}}displayname"].text or "").strip() if (
                f"{{{DAV}}}displayname" in props) else ""
            url = urljoin(home, href)
            found.append(Found(url, name or url.rstrip("/").rsplit("/", 1)[-1],
                               not names or "VEVENT" in names))
        self.cache.discovery = {"at": time.time(), "home": home,
                                "calendars": [[f.url, f.name, f.events] for f in found]}
        self.cache.save(discovery=True)
        self._listed = True
        return found

    def _home(self) -> str:
        url = self.options.url
        answer = self.http.send("PROPFIND", url, _propfind(
            "<D:current-user-principal/><C:calendar-home-set/>"), {**XML, "Depth": "0"})
        self._check(answer, "PROPFIND", url)
        props = next((p for _h, _s, p in _responses(answer.tree)), {})
        home = _href(props.get(f"{{{CAL}}}calendar-home-set"))
        if home:
            return urljoin(url, home)
        principal = _href(props.get(f"{{{DAV}}}current-user-principal"))
        if not principal:
            return url  # the URL given is the calendar home itself
        principal = urljoin(url, principal)
        answer = self.http.send("PROPFIND", principal, _propfind("<C:calendar-home-set/>"),
                                {**XML, "Depth": "0"})
        self._check(answer, "PROPFIND", principal)
        props = next((p for _h, _s, p in _responses(answer.tree)), {})
        home = _href(props.get(f"{{{CAL}}}calendar-home-set"))
        return urljoin(principal, home) if home else principal

    def _check(self, answer: Answer, method: str, url: str) -> None:
        if answer.status == 404:
            raise CalDAVError(f"{self.options.where}: {url} not found (HTTP 404); "
                              "check `url`")
        if answer.status >= 400:
            raise CalDAVError(f"{self.options.where}: {method} {url} failed "
                              f"(HTTP {answer.status})")

    def _pick(self, spec: str, found: list[Found]) -> Found | None:
        if _is_url(spec) or spec.startswith("/"):
            # by path: iCloud serves the calendars from another host than `url`
            path = _path(urljoin(self.options.url, spec))
            return next((f for f in found if _path(f.url) == path), None)
        return next((f for f in found if f.name == spec), None) or next(
            (f for f in found if f.name.casefold() == spec.casefold()), None)

    def _find_write(self, fresh: bool) -> str | None:
        write = self.options.write
        hit = self._pick(write, self._calendars(fresh))
        if hit is None and not fresh:
            hit = self._pick(write, self._calendars(fresh=True))  # proven missing, not cached
        return hit.url if hit else None

    def _read_urls(self, fresh: bool = False) -> list[Found]:
        found = self._calendars(fresh)
        if not self.options.read:
            write = self._pick(self.options.write, found)
            return [f for f in found if f.events and (write is None or f.url != write.url)]
        picked = []
        for spec in self.options.read:
            hit = self._pick(spec, found)
            if hit is None and not fresh:
                return self._read_urls(fresh=True)
            if hit is None:
                names = ", ".join(f.name for f in found) or "none"
                raise ConfigError(f"{self.options.where}.read: no calendar {spec!r} "
                                  f"(the account has: {names})")
            picked.append(hit)
        return picked

    # -- collections: sync-token, else time-range query --

    def _objects(self, url: str, start: datetime, end: datetime) -> dict[str, list]:
        """{href: [etag, text]} of the collection (at least every object overlapping
        [start, end]); one request in steady state. A 404 raises _Moved."""
        state = self.cache.collections.setdefault(url, {"token": "", "sync": True,
                                                         "objects": {}})
        if state.get("sync"):
            for token in dict.fromkeys([state.get("token") or "", ""]):
                answer = self.http.send("REPORT", url, _sync_body(token),
                                        {**XML, "Depth": "0"})
                if answer.status in (200, 207):
                    self._apply_sync(url, state, answer, fresh=not token)
                    if state["token"] != token:  # a quiet calendar rewrites nothing
                        self.cache.save(collection=url)
                    return state["objects"]
                if answer.status == 404:
                    self._gone(url)
                if token and (answer.status in (403, 409) or
                              f"{{{DAV}}}valid-sync-token" in answer.preconditions()):
                    continue  # the token expired: list everything once
                break
            state.update(sync=False, token="", objects={})  # the server offers no token
            self.cache.save(collection=url)
        answer = self.http.send("REPORT", url, _query_body(start, end), {**XML, "Depth": "1"})
        if answer.status == 404:
            self._gone(url)
        self._check(answer, "REPORT", url)
        return {urljoin(url, h): [_etag(p), _data(p)] for h, _s, p in _responses(answer.tree)
                if _data(p) is not None}

    def _apply_sync(self, url: str, state: dict, answer: Answer, fresh: bool) -> None:
        objects = {} if fresh else state["objects"]
        missing = []
        for href, status, props in _responses(answer.tree):
            full = urljoin(url, href)
            if full.rstrip("/") == url.rstrip("/"):
                continue
            if status in (404, 410):
                objects.pop(full, None)
            elif _data(props) is not None:
                objects[full] = [_etag(props), _data(props)]
            elif status is None or status < 300:
                missing.append(full)  # the server gave the ETag only: fetch the data
        if missing:
            got = self.http.send("REPORT", url, _multiget_body(missing, url),
                                 {**XML, "Depth": "1"})
            self._check(got, "REPORT", url)
            for href, _s, props in _responses(got.tree):
                if _data(props) is not None:
                    objects[urljoin(url, href)] = [_etag(props), _data(props)]
        token = answer.tree.findtext(f"{{{DAV}}}sync-token") if answer.tree is not None else None
        state.update(objects=objects, token=(token or "").strip(), sync=bool(token))

    def _gone(self, url: str) -> None:
        self.cache.discovery = {}
        self.cache.collections.pop(url, None)
        self.cache.save(discovery=True, collection=url)
        raise _Moved(url)

    # -- Source --

    def read(self, window, settings) -> Reading:
        """Events of the read calendars over the window, expanded here."""
        texts = []
        for attempt in (0, 1):
            try:
                for cal in self._read_urls(fresh=attempt == 1):
                    objects = self._objects(cal.url, window.start, window.busy_end)
                    texts.extend((href, text) for href, (_e, text) in sorted(objects.items()))
                break
            except _Moved:
                texts = []
                if attempt:
                    raise CalDAVError(f"{self.options.where}: a read calendar vanished "
                                      "while reading; run again") from None
        events, me, warnings = ics_events(texts, window, settings, self.name)
        if self.options.username and "@" in self.options.username:
            me.add(self.options.username.strip().lower())
        return Reading(tuple(events), frozenset(me), tuple(warnings))

    # -- CalendarSink --

    def open(self, *, create: bool) -> bool:
        url = self._find_write(fresh=False)
        if url is None and create:
            url = self._make_calendar()
        if url is None:
            return False
        self._write_url = url if url.endswith("/") else url + "/"
        self.target = f"caldav:{self._write_url}"
        return True

    def _make_calendar(self) -> str:
        write, where = self.options.write, self.options.where
        if _is_url(write):
            url = urljoin(self.options.url, write)
        else:
            home = self.cache.discovery.get("home") or self._home()
            slug = hashlib.sha256(write.encode()).hexdigest()[:12]
            url = urljoin(home if home.endswith("/") else home + "/", f"followup-cal-{slug}/")
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                f'<C:mkcalendar xmlns:D="{DAV}" xmlns:C="{CAL}"><D:set><D:prop>'
                f"<D:displayname>{_escape(write)}</D:displayname>"
                '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
                "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>")
        answer = self.http.send("MKCALENDAR", url, body, XML)
        if answer.status in (200, 201):
            self.cache.discovery.setdefault("calendars", []).append([url, write, True])
            self.cache.save(discovery=True)
            return url
        self._listed = False
        found = self._find_write(fresh=True)  # a lost answer: an earlier try made it
        if found:
            return found
        if answer.status in REFUSED:
            raise CalDAVError(f"{where}: the server does not let us create calendars "
                              f"(HTTP {answer.status}); create the calendar in your app "
                              f"and name it in `write`")
        raise CalDAVError(f"{where}: cannot create the calendar {write!r} "
                          f"(HTTP {answer.status})")

    def _collection(self) -> str:
        if self._write_url is None:
            raise CalDAVError(f"{self.options.where}: open() the calendar first")
        return self._write_url

    def list_ours(self, since: datetime) -> Mapping[str, Remote]:
        url = self._collection()
        try:
            objects = self._objects(url, since, since.replace(year=since.year + 10))
        except _Moved:
            raise CalDAVError(f"{self.options.where}: the calendar {url} is gone; run "
                              "again to find or create it") from None
        ours: dict[str, Remote] = {}
        self._ours = {}
        for href, (etag, text) in objects.items():
            remote, end = _ours_in(text, etag)
            if remote is None:
                continue
            self._ours[remote.uid] = _Ours(href, etag, remote)
            if end > since:
                ours[remote.uid] = remote
        return ours

    def _href(self, uid: str) -> str:
        known = self._ours.get(uid)
        return known.href if known else self._collection() + _file_name(uid)

    def _fetch(self, uid: str) -> _Ours | None:
        """Our object for `uid` as the server has it now; None when gone or not ours."""
        href = self._href(uid)
        answer = self.http.send("GET", href)
        if answer.status in (404, 410):
            self._ours.pop(uid, None)
            return None
        if answer.status >= 400:
            raise CalDAVError(f"{self.options.where}: GET {href} failed (HTTP {answer.status})")
        etag = answer.headers.get("ETag")
        remote, _end = _ours_in(answer.text, etag)
        if remote is None or remote.uid != uid:
            return None
        got = self._ours[uid] = _Ours(href, etag, remote)
        return got

    def create(self, f, mark: str) -> bool:
        href = self._href(f.uid)
        answer = self.http.send("PUT", href, follow_up_object(f, mark, self.settings),
                                {**ICS, "If-None-Match": "*"})
        if answer.status in (200, 201, 204):
            self._ours[f.uid] = _Ours(href, answer.headers.get("ETag"))
            return True
        conflict = any(p.endswith("no-uid-conflict") for p in answer.preconditions())
        if answer.status == 412 or conflict or answer.status == 409:
            if answer.retried:  # our first try may have landed: it is ours if it matches
                got = self._fetch(f.uid)
                return bool(got and got.remote and got.remote.content_hash == content_hash(f))
            return False
        raise CalDAVError(f"{self.options.where}: PUT {href} failed (HTTP {answer.status})")

    def update(self, f, mark: str) -> bool:
        known = self._ours.get(f.uid)
        if known is None or known.etag is None:  # never write without a precondition
            known = self._fetch(f.uid)
        if known is None:
            return False
        body = follow_up_object(f, mark, self.settings)
        for attempt in (0, 1):
            headers = {**ICS, **({"If-Match": known.etag} if known.etag else {})}
            answer = self.http.send("PUT", known.href, body, headers)
            if answer.status in (200, 201, 204):
                self._ours[f.uid] = _Ours(known.href, answer.headers.get("ETag"))
                return True
            if answer.status in (404, 410):
                self._ours.pop(f.uid, None)
                return False
            if answer.status != 412 or attempt:
                break
            known = self._fetch(f.uid)  # a stale ETag: look again once
            if known is None:
                return False
            if known.remote and known.remote.content_hash == content_hash(f) and (
                    known.remote.interview_mark == mark):
                return True  # our lost first try landed
        raise CalDAVError(f"{self.options.where}: PUT {known.href} failed "
                          f"(HTTP {answer.status})")

    def delete(self, uid: str) -> None:
        known = self._ours.get(uid)
        if known is None or known.etag is None:
            known = self._fetch(uid)
        for attempt in (0, 1):
            if known is None:
                return
            headers = {"If-Match": known.etag} if known.etag else {}
            answer = self.http.send("DELETE", known.href, b"", headers)
            if answer.status in (200, 204, 404, 410):
                self._ours.pop(uid, None)
                return
            if answer.status != 412 or attempt:
                break
            known = self._fetch(uid)
        raise CalDAVError(f"{self.options.where}: DELETE {known.href} failed "
                          f"(HTTP {answer.status})")


class _Moved(Exception):
    """A cached calendar URL answered 404: discover again."""


def _ours_in(text: str | None, etag: str | None) -> tuple[Remote | None, datetime]:
    """Our event in an object's text and its end; (None, ...) when not ours or unreadable."""
    nothing = (None, datetime.min.replace(tzinfo=timezone.utc))
    if not text or KIND_PROP not in text:
        return nothing
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(text)
        event = next(e for e in cal.walk("VEVENT") if KIND_PROP in e)
        start, end = _utc(event.start), _utc(event.end)
    except Exception:
        return nothing
    mark = str(event.get(MARK_PROP, ""))
    return Remote(str(event.get("UID", "")), start, str(event.get(HASH_PROP, "")),
                  "" if mark == "-" else mark, etag=etag), end


def _utc(t) -> datetime:
    if isinstance(t, datetime):
        return t.astimezone(timezone.utc) if t.tzinfo else t.replace(tzinfo=timezone.utc)
    if isinstance(t, date):
        return datetime(t.year, t.month, t.day, tzinfo=timezone.utc)
    raise ValueError("no time")


SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-")


def _file_name(uid: str) -> str:
    """`<uid>.ics`; a digest of the uid where it holds characters some servers refuse
    in a path (Radicale: anything beyond plain ASCII), as vdirsyncer does."""
    if uid and set(uid) <= SAFE and len(uid) <= 200:
        return uid + ".ics"
    return hashlib.sha256(uid.encode("utf-8")).hexdigest()[:32] + ".ics"


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _path(url: str) -> str:
    return unquote(urlsplit(url).path).rstrip("/")


def _is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _href(element) -> str | None:
    if element is None:
        return None
    text = element.findtext(f"{{{DAV}}}href")
    return text.strip() if text and text.strip() else None


def _etag(props: dict) -> str | None:
    element = props.get(f"{{{DAV}}}getetag")
    return element.text.strip() if element is not None and element.text else None


def _data(props: dict) -> str | None:
    element = props.get(f"{{{CAL}}}calendar-data")
    return element.text if element is not None and element.text else None


def _propfind(props: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="{DAV}" '
            f'xmlns:C="{CAL}"><D:prop>{props}</D:prop></D:propfind>')


def _sync_body(token: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="{DAV}" '
            f'xmlns:C="{CAL}"><D:sync-token>{_escape(token)}</D:sync-token>'
            "<D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/><C:calendar-data/></D:prop></D:sync-collection>")


def _stamp(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _query_body(start: datetime, end: datetime) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="{DAV}" '
            f'xmlns:C="{CAL}"><D:prop><D:getetag/><C:calendar-data/></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{_stamp(start)}" end="{_stamp(end)}"/>'
            "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>")


def _multiget_body(hrefs: list[str], base: str) -> str:
    path = "".join(f"<D:href>{_escape(urlsplit(h).path)}</D:href>" for h in hrefs)
    return (f'<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="{DAV}" '
            f'xmlns:C="{CAL}"><D:prop><D:getetag/><C:calendar-data/></D:prop>{path}'
            "</C:calendar-multiget>")
