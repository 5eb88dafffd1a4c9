"""Google sign-in: the installed-app OAuth flow, the saved token, its refresh.

The token is google-auth's authorized-user JSON (`Credentials.to_json()`) in
`$FOLLOWUP_CAL_HOME/token.json`, else the platform's data folder; it is
written atomically with mode 0600, and written again whenever it refreshes.
A token file others may read (copied over with `scp`, say) is made 0600 with a
one-line warning; one that cannot be made private is refused.

Secrets (access and refresh tokens, the client secret, authorization codes)
never reach the terminal: every message and exception chain built from what
Google or the token file said goes through `redact` / `scrub` first, so that
not even `--debug` tracebacks show them, whatever a server echoes back.

Nothing here ever opens a browser or waits for input unless `followup-cal
auth` asked for it: under cron a missing, expired or revoked token is one line
telling the user to run `followup-cal auth`, and exit 1.

google-auth and google-auth-oauthlib are imported inside the functions, so
`followup-cal --help` never loads them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import tempfile
import weakref
from pathlib import Path

from ...errors import AuthError, UsageError
from ...paths import config_dir, token_path

# Per method, from Google's discovery document (calendar.v3.json, shipped with
# google-api-python-client). calendar.events: read the interviews (events.list)
# and write the follow-ups (insert/patch/delete) on any of the user's calendars.
# calendar.app.created: create the dedicated "Interview follow-ups" calendar
# (calendars.insert) and read or delete only calendars this app made.
# calendar.calendarlist.readonly: calendarList.list, the only way to find that
# calendar again when state.db is lost (neither scope above covers it), read-only.
# Busy times come from the events already listed: no free/busy scope.
SCOPE_ROOT = "https://www.googleapis.com/auth/"
EVENTS_SCOPE = SCOPE_ROOT + "calendar.events"
APP_CREATED_SCOPE = SCOPE_ROOT + "calendar.app.created"
CALENDARLIST_SCOPE = SCOPE_ROOT + "calendar.calendarlist.readonly"
SCOPES = (EVENTS_SCOPE, APP_CREATED_SCOPE, CALENDARLIST_SCOPE)
# what each box on Google's consent screen is for, said when it is missing
WHY = {
    EVENTS_SCOPE: "to read your interviews and write the follow-ups",
    APP_CREATED_SCOPE: 'to create the "Interview follow-ups" calendar',
    CALENDARLIST_SCOPE: 'to find the "Interview follow-ups" calendar again instead of '
                        "making a second one",
}

RUN_AUTH = "run `followup-cal auth`"
DEFAULT_PORT = 8080  # without a display: a known port for `ssh -L`
FLOW_TIMEOUT_SECONDS = 600


class ClientSecretsError(UsageError):
    """The OAuth client file is missing or unreadable: bad input, exit 2."""


# -- secrets never printed --------------------------------------------------------------------

REDACTED = "[redacted]"
_KNOWN: set[str] = set()  # secret values seen in this process (token file, client file)
_LIVE: weakref.WeakSet = weakref.WeakSet()  # credentials in use: their refreshed tokens too
_MIN_SECRET = 8  # shorter values are not worth hiding (and would hide ordinary words)
_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]+"
_SHAPES = (
    # Authorization headers echoed back
    (re.compile(r"(?i)\b(bearer|basic)(\s+)" + _TOKEN_CHARS), r"\1\2" + REDACTED),
    # form or query fields: refresh_token=..., code=...
    (re.compile(r"(?i)\b(access_token|refresh_token|id_token|client_secret|code|token)"
                r"=[^&\s;,)\"'\]]+"), r"\1=" + REDACTED),
    # JSON / repr fields: "refresh_token": "..."
    (re.compile(r"(?i)([\"'](?:access_token|refresh_token|id_token|client_secret|token)"
                r"[\"']\s*:\s*[\"'])[^\"']*"), r"\1" + REDACTED),
    # Google's own shapes: access tokens, refresh tokens, client secrets, codes
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+|(?<![\w.])1//[A-Za-z0-9._-]{8,}"
                r"|\bGOCSPX-[A-Za-z0-9._-]+|\b4/0[A-Za-z0-9._-]{8,}"), REDACTED),
)


def remember_secrets(*values) -> None:
    """Hide these values wherever they would be printed (strings only; short ones skipped)."""
    for value in values:
        if isinstance(value, str) and len(value.strip()) >= _MIN_SECRET:
            _KNOWN.add(value.strip())


def _track(creds) -> None:
    with contextlib.suppress(TypeError):
        _LIVE.add(creds)
    remember_secrets(getattr(creds, "token", None), getattr(creds, "refresh_token", None),
                     getattr(creds, "client_secret", None))


def _secrets() -> list[str]:
    values = set(_KNOWN)
    for creds in list(_LIVE):
        for name in ("token", "refresh_token", "client_secret"):
            value = getattr(creds, name, None)
            if isinstance(value, str) and len(value) >= _MIN_SECRET:
                values.add(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` without any token, refresh token, client secret or code in it."""
    if not isinstance(text, str) or not text:
        return text
    for value in _secrets():
        text = text.replace(value, REDACTED)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "surrogateescape")).encode("utf-8",
                                                                        "surrogateescape")
    if type(value) in (list, tuple):
        return type(value)(_redact_value(v) for v in value)
    if type(value) is dict:
        return {k: _redact_value(v) for k, v in value.items()}
    return value


def scrub(exc: BaseException | None) -> None:
    """Redact, in place, an exception and every exception chained to it (as `--debug`
    prints them): their args and their text attributes (HttpError.content, .reason...)."""
    stack, seen = [exc], set()
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        with contextlib.suppress(Exception):
            e.args = tuple(_redact_value(a) for a in e.args)
        with contextlib.suppress(Exception):
            for name, value in list(vars(e).items()):
                new = _redact_value(value)
                if new is not value and new != value:
                    setattr(e, name, new)
        stack += [e.__cause__, e.__context__]


def warn(message: str) -> None:
    """A warning that is always shown (cron mails it): one line on stderr."""
    sys.stderr.write(f"followup-cal: warning: {redact(message)}\n")
    sys.stderr.flush()


# -- where things live -------------------------------------------------------------------


def client_secrets_path(given: str | None = None) -> Path:
    """--credentials FILE, else credentials.json beside the config file."""
    if given:
        return Path(given).expanduser()
    return config_dir() / "credentials.json"


def has_terminal() -> bool:
    """Someone is there to sign in (cron and systemd timers have no terminal)."""
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def has_display() -> bool:
    """A browser can be opened on this machine."""
    if sys.platform in ("darwin", "win32"):
        return not os.environ.get("SSH_CONNECTION")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# -- the token file ------------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(AttributeError, NotImplementedError):
            os.fchmod(fd, 0o600)  # before any secret is in it
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save(creds, path: Path | None = None) -> Path:
    path = path or token_path()
    _track(creds)
    write_private(path, creds.to_json())
    return path


REVOKE = "https://myaccount.google.com/permissions"


def ensure_private(path: Path) -> None:
    """A token file others may read is made 0600 with a warning; refused if it cannot be."""
    if os.name == "nt":  # pragma: no cover - ACLs, not mode bits
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # reading it will say what is wrong
    if not mode & 0o077:
        return
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise AuthError(
            f"{path} can be read by other users (mode {mode:o}) and cannot be made private "
            f"({exc.strerror or exc}): run `chmod 600 {path}` as its owner; if others may "
            f"have copied it, remove the access at {REVOKE} and {RUN_AUTH}") from None
    warn(f"{path} could be read by other users (mode {mode:o}); made it 0600. If anyone "
         f"else may have copied it, remove the access at {REVOKE} and {RUN_AUTH}")


def _http(timeout: float = 60):
    """An httplib2.Http that never goes through a proxy variable (PySocks-free)."""
    import httplib2

    return httplib2.Http(timeout=timeout, proxy_info=None)


def refresh_request():
    import google_auth_httplib2

    return google_auth_httplib2.Request(_http())


def short(scope: str) -> str:
    """`calendar.events` for its URL: the name Google's consent screen talks about."""
    return scope.removeprefix(SCOPE_ROOT)


def granted(creds) -> frozenset[str]:
    """What the user let us do: Google's word after a refresh or a sign-in
    (`granted_scopes`), else what the token file says (saved by `auth`)."""
    scopes = getattr(creds, "granted_scopes", None) or getattr(creds, "scopes", None) or ()
    if isinstance(scopes, str):
        scopes = scopes.split()
    return frozenset(scopes)


def missing_message(missing) -> str:
    """One line: which permission is missing, why it is needed, what to do."""
    names = " and ".join(f"{short(s)} ({WHY.get(s, 'needed')})" for s in sorted(missing))
    return (f"the Google sign-in lacks the permission {names}: {RUN_AUTH} again and leave "
            "every box ticked on Google's consent screen")


def refresh_failure(exc: BaseException) -> str:
    """The sign-in could not be renewed: expired or revoked only when Google says so."""
    first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    detail = (redact(first).splitlines() or [type(exc).__name__])[0][:120]
    if getattr(exc, "retryable", False):
        return f"cannot renew the Google sign-in right now ({detail}); try again later"
    if "invalid_grant" not in detail:
        return f"Google refused to renew the sign-in ({detail}): {RUN_AUTH}"
    return f"the Google sign-in has expired or was revoked ({detail}): {RUN_AUTH}"


def load(path: Path | None = None):
    """The saved credentials, refreshed (and saved again) if needed.

    Never interactive. Raises AuthError (one line, exit 1) when the token is
    missing, unreadable, expired or revoked.
    """
    from google.auth.exceptions import RefreshError, TransportError
    from google.oauth2.credentials import Credentials

    path = path or token_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuthError(f"not signed in to Google (no {path}): {RUN_AUTH}") from None
    except (OSError, ValueError) as exc:
        raise AuthError(f"{path}: not a readable token ({exc}): {RUN_AUTH}") from None
    remember_secrets(*re.findall(r'"(?:token|refresh_token|client_secret)"\s*:\s*"([^"]*)',
                                 text))  # even from a file too broken to parse
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise AuthError(f"{path}: not a readable token ({redact(str(exc))}): {RUN_AUTH}"
                        ) from None
    if not isinstance(info, dict):
        raise AuthError(f"{path}: not a token file: {RUN_AUTH}")
    ensure_private(path)  # before anything is sent with it
    remember_secrets(info.get("token"), info.get("refresh_token"), info.get("client_secret"))
    try:
        creds = Credentials.from_authorized_user_info(info)
        if isinstance(info.get("token_uri"), str) and info["token_uri"]:
            # from_authorized_user_info always resets it to Google's: keep the file's.
            # with_token_uri copies all but the expiry: keep that too, or an expired
            # token looks valid for ever
            expiry = creds.expiry
            creds = creds.with_token_uri(info["token_uri"])
            creds.expiry = expiry
    except (ValueError, TypeError, AttributeError) as exc:
        raise AuthError(f"{path}: not a usable token ({redact(str(exc))[:160]}): {RUN_AUTH}"
                        ) from None
    _track(creds)
    scopes = granted(creds)
    if scopes and EVENTS_SCOPE not in scopes:
        raise AuthError(missing_message({EVENTS_SCOPE}))
    if not creds.valid:
        if not creds.refresh_token:
            raise AuthError(f"the Google sign-in has expired: {RUN_AUTH}")
        try:
            creds.refresh(refresh_request())
        except RefreshError as exc:
            raise AuthError(refresh_failure(exc)) from None
        except (TransportError, OSError) as exc:
            raise AuthError(f"cannot reach Google to renew the sign-in ({redact(str(exc))})"
                            ) from None
        except ValueError as exc:  # a token_uri that is no address
            raise AuthError(f"{path}: cannot renew the sign-in ({redact(str(exc))[:160]}): "
                            f"{RUN_AUTH}") from None
        save(creds, path)
    return creds


@contextlib.contextmanager
def saving_refreshes(creds, path: Path | None = None):
    """Save the token again if the client refreshed it during the block (on a 401)."""
    before = getattr(creds, "token", None)
    try:
        yield creds
    finally:
        if creds is not None and creds.token and creds.token != before:
            save(creds, path)


# -- the sign-in flow -----------------------------------------------------------------------


def prompt_message(port: int, display: bool) -> str:
    """What `auth` prints; `{url}` is filled in by google-auth-oauthlib."""
    if display:
        return ("A browser window should open to sign in to Google. If it does not, "
                "open this address:\n{url}")
    shown = str(port) if port else "PORT"
    return (
        "No display here: open this address in a browser to sign in to Google:\n{url}\n"
        f"From another computer, first forward the port: "
        f"ssh -L {shown}:localhost:{shown} USER@THIS-HOST\n"
        "then open the address there. Waiting for Google to redirect back..."
    )


def run_flow(secrets: Path, port: int | None = None, display: bool | None = None):
    """InstalledAppFlow.run_local_server; returns the credentials (not yet saved)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    if not secrets.is_file():
        raise ClientSecretsError(
            f"no OAuth client file at {secrets}: create a Desktop OAuth client in the "
            "Google Cloud console, download it there or pass --credentials FILE "
            "(credentials.example.json shows the shape)")
    with contextlib.suppress(OSError, ValueError):
        remember_secrets(*re.findall(r'"client_secret"\s*:\s*"([^"]*)',
                                     secrets.read_text(encoding="utf-8")))
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=list(SCOPES))
    except (ValueError, KeyError, OSError) as exc:
        raise ClientSecretsError(f"{secrets}: not an OAuth client file ({redact(str(exc))})"
                                 ) from None
    display = has_display() if display is None else display
    if port is None:
        port = 0 if display else DEFAULT_PORT
    try:
        creds = flow.run_local_server(
            host="localhost",
            port=port,
            open_browser=display,
            authorization_prompt_message=prompt_message(port, display),
            success_message="Signed in: you can close this window and go back to followup-cal.",
            timeout_seconds=FLOW_TIMEOUT_SECONDS,
            prompt="consent",  # a refresh token every time, even on a second sign-in
        )
    except Warning as exc:
        # oauthlib: "Scope has changed from ... to ...": the user unticked a box
        if "Scope has changed" not in str(exc):
            raise
        got = frozenset(getattr(exc, "new_scope", None) or ())
        raise AuthError(missing_message(set(SCOPES) - got or set(SCOPES))) from None
    except OSError as exc:
        if type(exc).__module__.startswith(("requests", "urllib3")):
            raise AuthError(f"cannot reach Google to finish signing in ({redact(str(exc))})"
                            ) from None
        raise AuthError(f"cannot listen on localhost:{port} ({exc.strerror or exc}); "
                        "try --port with another number") from None
    except Exception as exc:
        name = type(exc).__name__
        if name == "WSGITimeoutError":
            raise AuthError("nobody signed in within "
                            f"{FLOW_TIMEOUT_SECONDS // 60} minutes: run `followup-cal auth` "
                            "again") from None
        if name in ("AccessDeniedError", "MismatchingStateError", "InvalidGrantError",
                    "OAuth2Error") or "oauthlib" in type(exc).__module__:
            raise AuthError(f"Google sign-in failed: {redact(str(exc))}") from None
        scrub(exc)
        raise
    # with OAUTHLIB_RELAX_TOKEN_SCOPE set, oauthlib says nothing: Google's answer is here
    lacking = set(SCOPES) - granted(creds) if creds.granted_scopes else set()
    if lacking:
        raise AuthError(missing_message(lacking))
    return creds
