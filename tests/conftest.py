"""Shared test helpers: an isolated FOLLOWUP_CAL_HOME and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

DATA = Path(__file__).parent / "data"
ZONE = "America/New_York"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own config/state folder; nothing leaks from the machine."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("FOLLOWUP_CAL_HOME", str(folder))
    return folder


@pytest.fixture
def fake(home, monkeypatch):
    """A fake Google Calendar on 127.0.0.1 with a valid token in the home (a test
    module that needs another start defines its own `fake`)."""
    from fake_google import serve, write_token

    server = serve(monkeypatch)
    write_token(home, server)
    yield server
    server.stop()


def data(name: str) -> str:
    return str(DATA / name)


class Result:
    def __init__(self, result):
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception

    def json(self):
        return json.loads(self.out)


def cli(*args: str, input: str | None = None) -> Result:
    """Run followup-cal in-process, stdout and stderr kept apart."""
    from followup_cal.cli import cli as group

    runner = CliRunner()
    return Result(runner.invoke(group, list(args), input=input, catch_exceptions=True))


def plan_json(*files: str, now: str, tz: str = ZONE, extra: tuple[str, ...] = ()) -> list[dict]:
    args = ["plan", "--json", "--now", now, "--timezone", tz, *extra]
    for f in files:
        args += ["--ics", f if "/" in f else data(f)]
    r = cli(*args)
    assert r.code == 0, r.err
    return r.json()


def pytest_configure(config) -> None:
    """`slow`: long runs (the 100-sync soak), skipped unless asked for with `-m slow`."""
    config.addinivalue_line("markers", "slow: long runs; skipped unless `-m slow` is given")
