"""Google sign-in: the installed-app OAuth flow, the saved token, its refresh.

The token is google-auth's authorized-user JSON (`Credentials.to_json()`) in
`$FOLLOWUP_CAL_HOME/token.json`, else the platform's data folder; it is
written atomically with mode 0600, and written again whenever it refreshes.

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
import sys
import tempfile
from pathlib import Path

from .config import APP, home_dir

# calendar.events: read the interviews (events.list) and write the follow-ups
# (insert/patch/delete) on any of the user's calendars. calendar.app.created:
# create the dedicated "Interview follow-ups" calendar, and only that calendar.
# Busy times come from the events already listed: no free/busy scope.
EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
APP_CREATED_SCOPE = "https://www.googleapis.com/auth/calendar.app.created"
SCOPES = (EVENTS_SCOPE, APP_CREATED_SCOPE)

RUN_AUTH = "run `followup-cal auth`"
DEFAULT_PORT = 8080  # without a display: a known port for `ssh -L`
FLOW_TIMEOUT_SECONDS = 600


class AuthError(Exception):
    """No usable sign-in: exit 1 with this one line."""


class ClientSecretsError(Exception):
    """The OAuth client file is missing or unreadable: bad input, exit 2."""


# -- where things live -------------------------------------------------------------------


def _data_dir() -> Path:
    home = home_dir()
    if home:
        return home
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP))


def token_path() -> Path:
    return _data_dir() / "token.json"


def client_secrets_path(given: str | None = None) -> Path:
    """--credentials FILE, else credentials.json beside the config file."""
    if given:
        return Path(given).expanduser()
    home = home_dir()
    if home:
        return home / "credentials.json"
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP)) / "credentials.json"


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
    write_private(path, creds.to_json())
    return path


def _http(timeout: float = 60):
    """An httplib2.Http that never goes through a proxy variable (PySocks-free)."""
    import httplib2

    return httplib2.Http(timeout=timeout, proxy_info=None)


def refresh_request():
    import google_auth_httplib2

    return google_auth_httplib2.Request(_http())


def _expired_message(exc: BaseException) -> str:
    first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    detail = (first.splitlines() or [type(exc).__name__])[0][:120]
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
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthError(f"not signed in to Google (no {path}): {RUN_AUTH}") from None
    except (OSError, ValueError) as exc:
        raise AuthError(f"{path}: not a readable token ({exc}): {RUN_AUTH}") from None
    if not isinstance(info, dict):
        raise AuthError(f"{path}: not a token file: {RUN_AUTH}")
    try:
        creds = Credentials.from_authorized_user_info(info)
    except ValueError as exc:
        raise AuthError(f"{path}: {exc}: {RUN_AUTH}") from None
    if info.get("token_uri"):
        # from_authorized_user_info always resets it to Google's; keep the file's
        creds = creds.with_token_uri(info["token_uri"])
    scopes = set(creds.scopes or ())
    if scopes and EVENTS_SCOPE not in scopes:
        raise AuthError(f"the saved sign-in may not read or write events: {RUN_AUTH} again")
    if not creds.valid:
        if not creds.refresh_token:
            raise AuthError(f"the Google sign-in has expired: {RUN_AUTH}")
        try:
            creds.refresh(refresh_request())
        except RefreshError as exc:
            raise AuthError(_expired_message(exc)) from None
        except TransportError as exc:
            raise AuthError(f"cannot reach Google to renew the sign-in ({exc})") from None
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
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=list(SCOPES))
    except (ValueError, KeyError, OSError) as exc:
        raise ClientSecretsError(f"{secrets}: not an OAuth client file ({exc})") from None
    display = has_display() if display is None else display
    if port is None:
        port = 0 if display else DEFAULT_PORT
    try:
        return flow.run_local_server(
            host="localhost",
            port=port,
            open_browser=display,
            authorization_prompt_message=prompt_message(port, display),
            success_message="Signed in: you can close this window and go back to followup-cal.",
            timeout_seconds=FLOW_TIMEOUT_SECONDS,
            prompt="consent",  # a refresh token every time, even on a second sign-in
        )
    except OSError as exc:
        if type(exc).__module__.startswith(("requests", "urllib3")):
            raise AuthError(f"cannot reach Google to finish signing in ({exc})") from None
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
            raise AuthError(f"Google sign-in failed: {exc}") from None
        raise
