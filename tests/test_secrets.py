"""Secrets (issue 6, point 5): file modes, loose token files, nothing secret printed.

The fake is told to repeat what the client sent (bearer token, refresh token,
client secret, authorization code) in every error body, as a careless proxy or
server could; the token file is broken in several ways. Whatever goes wrong,
stdout and stderr, `--debug` tracebacks included, must not contain a secret.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

import pytest
from fake_google import Browser, FakeGoogle, google_event, serve, write_token

from followup_cal.calendars.google import auth

from conftest import ZONE, cli

NOW = "2026-03-01T09:00"
ACCESS = "ya29.A0ARrdaM-ACCESS-s3cr3t-9f8e7d6c"
REFRESH = "1//0gREFRESH-s3cr3t-6c5b4a39"
CLIENT_SECRET = "GOCSPX-CLIENT-s3cr3t-3a2b1c0d"
CODE = "4/0AUTHCODE-s3cr3t-77aa"
CLIENT_ID = "test-client.apps.googleusercontent.com"


@pytest.fixture
def fake(home, monkeypatch):
    server = serve(monkeypatch)
    server.access_tokens = {ACCESS}
    server.refresh_tokens = {REFRESH}
    server.echo_credentials = True
    server.seed(google_event("Phone screen with Acme", "2026-03-02T10:00:00"))
    yield server
    server.stop()


def token(home: Path, fake: FakeGoogle, **kw) -> Path:
    kw.setdefault("token", ACCESS)
    kw.setdefault("refresh", REFRESH)
    kw.setdefault("client_secret", CLIENT_SECRET)
    return Path(write_token(home, fake, **kw))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def secrets_of(fake: FakeGoogle) -> set[str]:
    """Every secret in play: ours, and every access token the fake handed out."""
    return {ACCESS, REFRESH, CLIENT_SECRET, CODE, *fake.access_tokens, *fake.refresh_tokens}


def assert_no_secret(fake: FakeGoogle, *texts: str) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for text in texts:
        for secret in (*secrets_of(fake), basic, basic.rstrip("=")[:24]):
            assert secret not in text, f"{secret!r} printed:\n{text}"
        shown = re.findall(r"(?i)\b(?:bearer|basic)\s+(\S+)", text)
        assert all(s.startswith("[redacted]") for s in shown), text


def run(*args: str, debug: str | None = None):
    """`followup-cal [--debug] CMD ARGS [--debug]`: debug in None, 'root' or 'command'."""
    lead = ("--debug",) if debug == "root" else ()
    tail = ("--debug",) if debug == "command" else ()
    return cli(*lead, *args, "--now", NOW, "--timezone", ZONE, *tail)


DEBUG = [None, "root", "command"]


# -- errors that carry secrets -----------------------------------------------------------------


@pytest.mark.parametrize("debug", DEBUG)
def test_refresh_refused_with_the_token_echoed_prints_no_secret(fake, home, debug):
    token(home, fake, token="stale-" + ACCESS, expiry="2020-01-01T00:00:00Z")
    fake.refresh_tokens.clear()  # revoked; the token endpoint's error repeats the request
    r = run("sync", debug=debug)
    assert r.code == 1
    assert "invalid_grant" in r.err and "followup-cal auth" in r.err
    if debug is None:
        assert len(r.err.strip().splitlines()) == 1, r.err
    else:
        assert "Traceback" in r.err
    assert_no_secret(fake, r.out, r.err)


@pytest.mark.parametrize("debug", DEBUG)
def test_api_errors_with_the_bearer_token_echoed_print_no_secret(fake, home, debug):
    token(home, fake)
    fake.fail("500", times=50)  # beyond the retries: HttpError, its body repeats the header
    r = run("sync", debug=debug)
    assert r.code == 1 and "HTTP 500" in r.err
    assert_no_secret(fake, r.out, r.err)


@pytest.mark.parametrize("kind", ["quota", "403rate", "429"])
def test_other_api_errors_print_no_secret(fake, home, kind):
    token(home, fake)
    fake.fail(kind, times=50)
    r = run("sync", debug="command")
    assert r.code == 1
    assert_no_secret(fake, r.out, r.err)


@pytest.mark.parametrize("debug", DEBUG)
def test_token_rejected_then_refresh_refused_prints_no_secret(fake, home, debug):
    token(home, fake)
    fake.access_tokens.clear()
    fake.refresh_tokens.clear()
    for command in (("sync",), ("plan", "--google"), ("export", "--google", "-o", "-")):
        r = run(*command, debug=debug)
        assert r.code == 1 and "followup-cal auth" in r.err, (command, r.err)
        assert_no_secret(fake, r.out, r.err)


def test_token_renewed_midway_prints_no_secret_and_is_saved_0600(fake, home):
    path = token(home, fake)
    fake.access_tokens.clear()  # 401: the client renews it and goes on
    r = run("sync", "-v")
    assert r.code == 0, r.err
    saved = json.loads(path.read_text())
    assert saved["token"] in fake.access_tokens and mode(path) == 0o600
    assert_no_secret(fake, r.out, r.err)


def test_unreachable_token_endpoint_prints_no_secret(fake, home):
    path = token(home, fake, expiry="2020-01-01T00:00:00Z")
    info = json.loads(path.read_text())
    info["token_uri"] = "http://127.0.0.1:9/token"  # nothing listens there
    path.write_text(json.dumps(info))
    r = run("sync", debug="command")
    assert r.code == 1 and "renew" in r.err
    assert_no_secret(fake, r.out, r.err)


def _bad_token_files(fake: FakeGoogle) -> dict[str, str]:
    good = {"token": ACCESS, "refresh_token": REFRESH, "token_uri": fake.url + "token",
            "client_id": "test-client.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET, "scopes": ["x"], "expiry": "2099-01-01T00:00:00Z"}
    whole = json.dumps(good)
    return {
        "truncated": whole[: whole.index(REFRESH) + 8],
        "expiry-garbage": json.dumps({**good, "expiry": f"when {REFRESH} says"}),
        "scopes-not-a-list": json.dumps({**good, "scopes": CLIENT_SECRET}),
        "missing-client-id": json.dumps({k: v for k, v in good.items() if k != "client_id"}),
        "a-bare-token": json.dumps(ACCESS),
        "not-utf8": whole.replace("scopes", "sc\udcffopes").encode(
            "utf-8", "surrogateescape").decode("latin-1"),
        "token-uri-garbage": json.dumps({**good, "expiry": "2020-01-01T00:00:00Z",
                                         "token_uri": f"::{REFRESH}::"}),
    }


BAD_TOKEN_FILES = ["truncated", "expiry-garbage", "scopes-not-a-list", "missing-client-id",
                   "a-bare-token", "not-utf8", "token-uri-garbage"]


@pytest.mark.parametrize("case", BAD_TOKEN_FILES)
@pytest.mark.parametrize("debug", [None, "command"])
def test_bad_token_file_exits_1_with_one_line_and_no_secret(fake, home, case, debug):
    text = _bad_token_files(fake)[case]
    path = home / "token.json"
    path.write_bytes(text.encode("latin-1"))
    path.chmod(0o600)
    r = run("sync", debug=debug)
    assert r.code == 1, (r.out, r.err)
    assert "followup-cal auth" in r.err
    if debug is None:
        assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err, r.err
    assert_no_secret(fake, r.out, r.err)


# -- the sign-in flow ----------------------------------------------------------------------------


def write_client(home: Path, fake: FakeGoogle) -> Path:
    path = home / "credentials.json"
    path.write_text(json.dumps({"installed": {
        "client_id": "test-client.apps.googleusercontent.com", "project_id": "p",
        "auth_uri": fake.url + "auth", "token_uri": fake.url + "token",
        "client_secret": CLIENT_SECRET, "redirect_uris": ["http://localhost"]}}))
    return path



@pytest.fixture
def signing_in(fake, home, monkeypatch):
    import webbrowser

    write_client(home, fake)
    monkeypatch.setattr(auth, "has_terminal", lambda: True)
    monkeypatch.setattr(auth, "has_display", lambda: True)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain http

    def use(browser: Browser) -> None:
        monkeypatch.setattr(webbrowser, "get", lambda using=None: browser)

    return use


def test_auth_saves_the_token_0600_even_with_umask_0_and_copies_nothing(
        fake, home, signing_in):
    signing_in(Browser(fake, CODE))
    old = os.umask(0)
    try:
        r = cli("auth")
    finally:
        os.umask(old)
    assert r.code == 0, r.err
    path = home / "token.json"
    assert mode(path) == 0o600
    assert json.loads(path.read_text())["client_secret"] == CLIENT_SECRET
    # no copy of the client file, no temp file: only what was there and the token
    assert sorted(p.name for p in home.iterdir()) == ["credentials.json", "token.json"]
    assert_no_secret(fake, r.out, r.err)


@pytest.mark.parametrize("debug", [False, True])
def test_auth_refused_by_the_token_endpoint_prints_no_secret(fake, home, signing_in, debug):
    signing_in(Browser(fake, CODE, good_code=False))  # the code is refused; the body repeats it
    r = cli(*(["--debug"] if debug else []), "auth")
    assert r.code == 1
    assert "sign-in failed" in r.err
    assert not (home / "token.json").exists()
    assert_no_secret(fake, r.out, r.err)


# -- file modes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660])
def test_token_readable_by_others_is_made_0600_with_a_warning(fake, home, loose):
    path = token(home, fake)
    path.chmod(loose)
    r = run("sync")
    assert r.code == 0, r.err
    assert mode(path) == 0o600
    warning = [line for line in r.err.splitlines() if "token" in line]
    assert len(warning) == 1 and str(path) in warning[0] and "0600" in warning[0], r.err
    assert oct(loose)[2:] in warning[0]
    r = run("sync")  # fixed: no warning the next time
    assert r.code == 0 and r.err == "", r.err
    assert_no_secret(fake, r.out, r.err)


def test_token_that_cannot_be_made_private_is_refused(fake, home, monkeypatch):
    path = token(home, fake)
    path.chmod(0o644)

    def denied(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(auth.os, "chmod", denied)
    r = run("sync")
    assert r.code == 1
    line = r.err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert str(path) in line and "chmod 600" in line, line
    assert fake.calls == []  # nothing sent with a token others may have read


def test_state_file_is_made_0600(fake, home):
    old = os.umask(0o022)
    try:
        token(home, fake)
        r = run("sync")
    finally:
        os.umask(old)
    assert r.code == 0, r.err
    # interviewers' names and addresses, outcomes of applications: the owner's only
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        if (home / name).exists():
            assert mode(home / name) == 0o600, name


def test_new_data_folder_is_0700(tmp_path, monkeypatch):
    from followup_cal.ledger import Ledger

    folder = tmp_path / "fresh" / "followup-cal"
    monkeypatch.setenv("FOLLOWUP_CAL_HOME", str(folder))
    old = os.umask(0o022)
    try:
        with Ledger.open():
            pass
    finally:
        os.umask(old)
    assert mode(folder) == 0o700
    assert mode(folder / "state.db") == 0o600


def test_redact_hides_secret_shapes_and_keeps_the_rest():
    auth.remember_secrets("plain-known-secret-value", "short")
    text = ("HTTP 400 at http://127.0.0.1:8080/calendar/v3/calendars/primary/events?"
            "pageToken=3:e&maxResults=250 (request had: Bearer ya29.a0Af-xyz_123; "
            "refresh_token=1//0gAbCdEfGh-ij; client_secret=GOCSPX-abcDEF_123) "
            '{"access_token": "opaque-value-1", "token": "opaque-value-2"} '
            "Basic dGVzdDpzZWNyZXQ= plain-known-secret-value code=4/0AbCdEfGhIjKl short")
    out = auth.redact(text)
    for secret in ("ya29.a0Af-xyz_123", "1//0gAbCdEfGh-ij", "GOCSPX-abcDEF_123",
                   "opaque-value-1", "opaque-value-2", "dGVzdDpzZWNyZXQ=",
                   "plain-known-secret-value", "4/0AbCdEfGhIjKl"):
        assert secret not in out, (secret, out)
    # what helps the reader stays: the status, the address, the page token, short words
    assert out.startswith("HTTP 400 at http://127.0.0.1:8080/calendar/v3/calendars/primary/"
                          "events?pageToken=3:e&maxResults=250")
    assert out.endswith(" short")
