"""Sign-in: the token file, its refresh, and the installed-app flow (against the fake)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fake_google import (
    OLD_SCOPES,
    SCOPES,
    Browser,
    FakeGoogle,
    google_event,
    serve,
    write_token,
)

from followup_cal.calendars.google import auth

from conftest import ZONE, cli

NOW = "2026-03-01T09:00"


@pytest.fixture
def fake(home, monkeypatch):
    server = serve(monkeypatch)
    server.seed(google_event("Phone screen with Acme", "2026-03-02T10:00:00"))
    yield server
    server.stop()


def sync(*args: str):
    return cli("sync", "--now", NOW, "--timezone", ZONE, *args)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- without a terminal: never a browser, never a prompt ---------------------------------------


def test_missing_token_without_terminal_exits_1_with_one_line(fake, home):
    r = sync()
    assert r.code == 1
    line = one_line(r.err)
    assert "run `followup-cal auth`" in line and str(home / "token.json") in line
    assert fake.calls == []


def test_unreadable_token_exits_1_with_one_line(fake, home):
    (home / "token.json").write_text("{not json")
    r = sync()
    assert r.code == 1 and "followup-cal auth" in one_line(r.err)


def test_expired_token_refreshes_at_the_fake_and_is_saved_again(fake, home):
    path = write_token(home, fake, token="stale", expiry="2020-01-01T00:00:00Z")
    r = sync()
    assert r.code == 0, r.err
    assert fake.token_requests == 1
    saved = json.loads(Path(path).read_text())
    assert saved["token"] != "stale" and saved["token"] in fake.access_tokens
    assert saved["token_uri"] == fake.url + "token"  # not reset to Google's
    assert saved["refresh_token"] == "refresh-1"
    assert mode(Path(path)) == 0o600


def test_revoked_refresh_token_exits_1_telling_to_run_auth(fake, home):
    write_token(home, fake, token="stale", expiry="2020-01-01T00:00:00Z")
    fake.refresh_tokens.clear()  # revoked, or a "Testing" app's 7-day expiry
    r = sync()
    assert r.code == 1
    line = one_line(r.err)
    assert "invalid_grant" in line and "run `followup-cal auth`" in line
    assert fake.write_requests == 0


def test_token_rejected_midway_is_refreshed_and_saved(fake, home):
    path = write_token(home, fake)
    fake.access_tokens.discard("access-1")  # Google revoked the access token: 401
    r = sync()
    assert r.code == 0, r.err
    assert fake.token_requests == 1
    assert json.loads(Path(path).read_text())["token"] in fake.access_tokens
    assert mode(Path(path)) == 0o600


def test_401_with_revoked_refresh_exits_1(fake, home):
    write_token(home, fake)
    fake.access_tokens.clear()
    fake.refresh_tokens.clear()
    r = sync()
    assert r.code == 1 and "followup-cal auth" in one_line(r.err)


def test_token_without_events_scope_asks_for_auth_again(fake, home):
    path = write_token(home, fake)
    info = json.loads(Path(path).read_text())
    info["scopes"] = ["https://www.googleapis.com/auth/calendar.readonly"]
    Path(path).write_text(json.dumps(info))
    r = sync()
    assert r.code == 1 and "followup-cal auth" in one_line(r.err)


def test_auth_without_terminal_refuses(home):
    r = cli("auth")
    assert r.code == 1 and "terminal" in one_line(r.err)


# -- the token file --------------------------------------------------------------------------


def test_token_path_is_in_home_else_the_data_dir(home, monkeypatch):
    assert auth.token_path() == home / "token.json"
    assert auth.client_secrets_path() == home / "credentials.json"
    monkeypatch.delenv("FOLLOWUP_CAL_HOME")
    from platformdirs import user_data_dir

    assert auth.token_path() == Path(user_data_dir("followup-cal")) / "token.json"


def test_token_written_atomically_with_mode_0600(tmp_path):
    path = tmp_path / "sub" / "token.json"
    old = os.umask(0)
    try:
        path.parent.mkdir()
        path.write_text("old")
        os.chmod(path, 0o644)
        auth.write_private(path, '{"token": "x"}')
    finally:
        os.umask(old)
    assert path.read_text() == '{"token": "x"}' and mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["token.json"]  # no temp file left


# -- the sign-in flow -------------------------------------------------------------------------


def write_client(home: Path, fake: FakeGoogle) -> Path:
    path = home / "credentials.json"
    path.write_text(json.dumps({"installed": {
        "client_id": "test-client.apps.googleusercontent.com", "project_id": "p",
        "auth_uri": fake.url + "auth", "token_uri": fake.url + "token",
        "client_secret": "test-secret", "redirect_uris": ["http://localhost"]}}))
    return path



def _signing_in(fake, home, monkeypatch) -> Browser:
    import webbrowser

    write_client(home, fake)
    browser = Browser(fake)
    monkeypatch.setattr(auth, "has_terminal", lambda: True)
    monkeypatch.setattr(auth, "has_display", lambda: True)
    monkeypatch.setattr(webbrowser, "get", lambda using=None: browser)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain http
    return browser


def test_auth_flow_saves_the_token_0600(fake, home, monkeypatch):
    browser = _signing_in(fake, home, monkeypatch)
    r = cli("auth")
    assert r.code == 0, r.err
    assert r.out.strip().splitlines()[-1] == f"signed in; token saved to {home / 'token.json'}"
    assert set(browser.seen["scope"].split()) == set(SCOPES)
    assert browser.seen["access_type"] == "offline" and browser.seen["prompt"] == "consent"
    token = home / "token.json"
    saved = json.loads(token.read_text())
    assert saved["refresh_token"].startswith("refresh-") and saved["token"] in fake.access_tokens
    assert mode(token) == 0o600
    r = sync()  # and the saved token works
    assert r.code == 0, r.err


def test_auth_asks_for_the_calendar_list_scope_as_google_spells_it(fake, home, monkeypatch):
    browser = _signing_in(fake, home, monkeypatch)
    assert cli("auth").code == 0
    assert "https://www.googleapis.com/auth/calendar.calendarlist.readonly" in \
        browser.seen["scope"].split()
    assert set(json.loads((home / "token.json").read_text())["scopes"]) == set(SCOPES)


@pytest.mark.parametrize("relaxed", [False, True])
def test_a_box_unticked_at_consent_says_which_permission_and_why(fake, home, monkeypatch,
                                                                 relaxed):
    """Granular consent: oauthlib's Warning("Scope has changed ...") (or, relaxed, the
    granted scopes) becomes one line naming the missing permission and what it is for."""
    _signing_in(fake, home, monkeypatch)
    if relaxed:
        monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    fake.granted = frozenset(OLD_SCOPES)  # the calendar-list box left unticked
    r = cli("auth")
    assert r.code == 1
    line = one_line(r.err)
    assert "calendar.calendarlist.readonly" in line and "Scope has changed" not in line
    assert "find the" in line and "run `followup-cal auth` again" in line
    assert "calendar.events " not in line  # only what is missing
    assert not (home / "token.json").exists()


def test_a_passing_refresh_failure_is_not_called_expired(fake, home, monkeypatch):
    import google.auth._exponential_backoff as backoff

    monkeypatch.setattr(backoff.time, "sleep", lambda seconds: None)
    write_token(home, fake, token="stale", expiry="2020-01-01T00:00:00Z")
    fake.fail("503", times=10, when=lambda method, route: route == "token")
    r = sync()
    assert r.code == 1
    line = one_line(r.err)
    assert "expired" not in line and "revoked" not in line and "try again later" in line
    assert "followup-cal auth" not in line


def test_auth_without_client_file_is_bad_input(home, monkeypatch):
    monkeypatch.setattr(auth, "has_terminal", lambda: True)
    r = cli("auth")
    assert r.code == 2
    assert "credentials.json" in one_line(r.err)


def test_no_display_prints_url_and_ssh_tunnel_line():
    message = auth.prompt_message(8080, display=False)
    assert "{url}" in message
    assert "ssh -L 8080:localhost:8080" in message
    assert message.format(url="https://accounts.example/x")  # formats cleanly
    assert auth.prompt_message(0, display=True).format(url="u")
