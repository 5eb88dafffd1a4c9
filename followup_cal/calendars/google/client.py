"""The Calendar v3 client: retries on every request, and one-line errors.

google-api-python-client and google-auth are imported inside the functions,
so importing this module costs nothing. `FOLLOWUP_CAL_GOOGLE_API_URL` points
the client at another API root (tests, proxies).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator

from ... import errors
from ...config import ConfigError, Settings
from ...errors import RemoteError
from .auth import RUN_AUTH, AuthError

API_URL_ENV = "FOLLOWUP_CAL_GOOGLE_API_URL"
PAGE_SIZE = 250
DAILY_REASONS = ("dailyLimitExceeded", "dailyLimitExceededUnreg", "RATE_LIMIT_EXCEEDED_DAILY")
USAGE_REASONS = ("quotaExceeded",)  # "Calendar usage limits exceeded": recovers in minutes
QUOTA_REASONS = (*USAGE_REASONS, *DAILY_REASONS)
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
SCOPE_REASONS = ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
# broader scopes that also list calendars (calendarList.list in the discovery document)
LIST_SCOPES = ("calendar.calendarlist.readonly", "calendar.calendarlist", "calendar.readonly",
               "calendar")

NOT_FOUND_TRIES = 4  # a 404 on a calendar is confirmed this many times, backing off

SLEEP: Callable[[float], None] = time.sleep  # our own back-off (tests make it short)



class GoogleError(RemoteError):
    """Google Calendar refused or could not be reached: exit 1 with this one line."""


class QuotaError(GoogleError):
    """quotaExceeded / dailyLimitExceeded: retrying now would not help."""


class CalendarNotFound(errors.CalendarNotFound, GoogleError):
    """A Google calendar named on the command line or in the config does not exist."""


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
