"""IMAP mailboxes (`[mail.NAME] type = "imap"`), standard library imaplib only.

Least access (issue 14): each folder is opened read-only (EXAMINE); per open
application one UID SEARCH, bounded by `SINCE` the latest interview and an OR
of FROM terms for its people and domains; of what it finds only the header
fields below are fetched with BODY.PEEK, so nothing is marked read and no body
is downloaded. Nothing of a message is kept but the `Reply` it may be.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..accounts import Account
from ..config import ConfigError
from .base import Application, MailError, Reading, Reply
from .match import judge

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TLS_MODES = ("ssl", "starttls", "none")
TIMEOUT_SECONDS = 20
FIELDS = ("FROM DATE MESSAGE-ID AUTO-SUBMITTED PRECEDENCE LIST-ID LIST-UNSUBSCRIBE "
          "X-AUTOREPLY X-AUTORESPOND SUBJECT")
FETCH = f"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ({FIELDS})])"
BATCH = 200  # UIDs per FETCH command
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
INTERNALDATE = re.compile(rb'INTERNALDATE "\s?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) '
                          rb'([+-])(\d\d)(\d\d)"')
UID = re.compile(rb"\bUID (\d+)")


class IMAPMail:
    """One IMAP account; its options are checked when it is made (ConfigError)."""

    def __init__(self, account: Account):
        where = account.where
        self.account = account
        self.name = account.name
        self.host = account.text("host", required=True)
        self.tls = account.text("tls", "ssl")
        if self.tls not in TLS_MODES:
            raise ConfigError(f"{where}.tls: expected one of {', '.join(TLS_MODES)}")
        if self.tls == "none" and self.host.strip("[]").lower() not in LOCAL_HOSTS:
            raise ConfigError(f"{where}.tls: \"none\" sends the password in clear text; "
                              "only allowed for 127.0.0.1, localhost or ::1")
        self.port = account.get("port", 993 if self.tls == "ssl" else 143)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not (
                0 < self.port < 65536):
            raise ConfigError(f"{where}.port: expected a port number")
        self.timeout = account.get("timeout", TIMEOUT_SECONDS)
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or (
                self.timeout <= 0):
            raise ConfigError(f"{where}.timeout: expected seconds (a number above 0)")
        self.username = account.text("username", required=True)
        self.folders = account.texts("folders", ("INBOX",))
        if not self.folders:
            raise ConfigError(f"{where}.folders: give at least one folder")
        # a server with its own certificate (at home, or the tests'): trust this PEM instead
        self.ca_file = account.text("ca_file")
        if self.ca_file is not None and not Path(self.ca_file).expanduser().is_file():
            raise ConfigError(f"{where}.ca_file: no such file: {self.ca_file}")
        if not account.has_password():
            raise ConfigError(f"{where}: no password given "
                              "(password_command, password_env or password)")

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def replies(self, applications: Sequence[Application], now: datetime) -> Reading:
        try:
            password = self.account.password()
        except ConfigError as exc:  # a locked keychain must not stop the plan
            raise MailError(str(exc)) from None
        try:
            return self._read(applications, now, password)
        except MailError:
            raise
        except TimeoutError:
            raise MailError(f"no answer from {self.server} within {self.timeout:g} s") from None
        except ssl.SSLError as exc:
            raise MailError(f"TLS with {self.server} failed ({_scrub(exc, password)})") from None
        except OSError as exc:
            raise MailError(f"cannot reach {self.server} "
                            f"({_scrub(exc.strerror or exc, password)})") from None
        except (imaplib.IMAP4.error, EOFError, ValueError) as exc:
            raise MailError(f"{self.server}: {_scrub(exc, password)}") from None

    def _context(self) -> ssl.SSLContext:
        cafile = str(Path(self.ca_file).expanduser()) if self.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> imaplib.IMAP4:
        if self.tls == "ssl":
            return imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self._context(),
                                     timeout=self.timeout)
        conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        if self.tls == "starttls":
            try:
                conn.starttls(ssl_context=self._context())
            except BaseException:
                _close(conn)
                raise
        return conn

    def _read(self, applications: Sequence[Application], now: datetime,
              password: str) -> Reading:
        conn = self._connect()
        try:
            try:
                conn.login(self.username, password)
            except (imaplib.IMAP4.error, UnicodeEncodeError):
                raise MailError(f"{self.server} refused the user name or password") from None
            replies: list[Reply] = []
            warnings: list[str] = []
            for folder in self.folders:
                if not folder.isascii():  # would need modified UTF-7 (RFC 3501 5.1.3)
                    warnings.append(f"folder {folder!r}: only ASCII folder names for now; "
                                    "skipped")
                    continue
                typ, _ = conn.select(_quote(folder), readonly=True)  # EXAMINE
                if typ != "OK":
                    warnings.append(f"no folder {folder!r} on {self.host}; skipped")
                    continue
                validity = (conn.response("UIDVALIDITY")[1] or [b"0"])[0]
                for app in applications:
                    replies += self._search(conn, app, now, f"{_text(validity)}.{folder}")
            with contextlib.suppress(Exception):  # read-only: nothing is expunged
                conn.logout()
            return Reading(tuple(replies), tuple(warnings))
        except BaseException:
            _close(conn)
            raise

    def _search(self, conn: imaplib.IMAP4, app: Application, now: datetime,
                where: str) -> list[Reply]:
        """One SEARCH for the application, then its hits' header fields in batches."""
        terms = [f"FROM {_quote(t)}" for t in (*sorted(app.people), *app.domains)
                 if t.isascii()]
        if not terms:
            return []
        day = (app.since.astimezone(timezone.utc) - timedelta(days=1)).date()
        since = f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year}"
        typ, data = conn.uid("SEARCH", f"SINCE {since} {_any(terms)}")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"search failed: {_text(data[0] if data else b'')}")
        uids = (data[0] or b"").split() if data else []
        found: list[Reply] = []
        for start in range(0, len(uids), BATCH):
            batch = b",".join(uids[start:start + BATCH]).decode("ascii")
            typ, data = conn.uid("FETCH", batch, FETCH)
            if typ != "OK":
                raise imaplib.IMAP4.error("fetch failed")
            for meta, raw in _fetched(data):
                uid = UID.search(meta)
                reply = judge(app, _headers(raw), _internaldate(meta), now, self.name,
                              f"<uid-{uid.group(1).decode() if uid else 0}.{where}>")
                if reply:
                    found.append(reply)
        return found


def _any(terms: list[str]) -> str:
    """IMAP's OR takes two keys: OR a OR b c."""
    return terms[0] if len(terms) == 1 else f"OR {terms[0]} {_any(terms[1:])}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _scrub(exc, password: str) -> str:
    text = _text(exc.args[0]) if isinstance(exc, Exception) and exc.args else _text(exc)
    return text.replace(password, "***") if password else text


def _close(conn: imaplib.IMAP4) -> None:
    """Drop the connection without another command that could wait for a timeout."""
    with contextlib.suppress(Exception):
        conn.shutdown()


def _fetched(data) -> Iterator[tuple[bytes, bytes]]:
    """(the FETCH line's items, the header literal) per message; the UID may follow the
    literal (b' UID 7)'), so that piece is added to the items."""
    for i, item in enumerate(data or ()):
        if isinstance(item, tuple) and len(item) == 2:
            tail = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
            yield item[0] + b" " + tail, item[1] or b""


def _headers(raw: bytes) -> dict[str, str]:
    """Header fields by lower-case name (the first of each); never raises."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    try:
        message = BytesHeaderParser(policy=compat32).parsebytes(raw)
        out: dict[str, str] = {}
        for name, value in message.items():
            out.setdefault(name.lower(), str(value))
        return out
    except Exception:
        return {}


def _internaldate(meta: bytes) -> datetime | None:
    m = INTERNALDATE.search(meta)
    if not m:
        return None
    day, month, year, hh, mm, ss, sign, oh, om = (g.decode() for g in m.groups())
    if month.title() not in MONTHS:
        return None
    offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == "-" else 1)
    try:
        return datetime(int(year), MONTHS.index(month.title()) + 1, int(day), int(hh), int(mm),
                        int(ss), tzinfo=timezone(offset))
    except ValueError:
        return None
