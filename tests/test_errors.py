"""Errors: each class carries its exit code; a bug says it is one; no import cycles.

DESIGN.md "Interfaces": 1 failed, 2 bad usage, config or input; one line on
stderr, a traceback only with --debug.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import followup_cal
from followup_cal import errors

from conftest import cli, data

NOW = "2026-03-02T09:00:00-05:00"


@pytest.mark.parametrize("cls, code", [
    (errors.UsageError, 2), (errors.InputError, 2), (errors.ConfigError, 2),
    (errors.CalendarNotFound, 2), (errors.LedgerError, 1), (errors.AuthError, 1),
    (errors.RemoteError, 1), (errors.FollowupError, 1),
])
def test_each_error_carries_its_exit_code(cls, code):
    assert issubclass(cls, errors.FollowupError) and cls.exit_code == code


def test_old_names_are_the_same_classes_where_they_always_were():
    from followup_cal import cli, config, ledger
    from followup_cal.calendars import google, ics
    from followup_cal.calendars.google import auth

    assert cli.UsageProblem is errors.UsageError
    assert config.ConfigError is errors.ConfigError and issubclass(config.ConfigError, ValueError)
    assert ics.InputError is errors.InputError
    assert ledger.LedgerError is errors.LedgerError
    assert auth.AuthError is errors.AuthError
    assert issubclass(auth.ClientSecretsError, errors.UsageError)
    assert issubclass(google.QuotaError, google.GoogleError)
    assert issubclass(google.GoogleError, errors.RemoteError)
    assert google.CalendarNotFound.exit_code == 2


def _raise(exc):
    def boom(*args, **kwargs):
        raise exc
    return boom


def test_a_bug_is_called_an_internal_error_with_exit_1(monkeypatch):
    from followup_cal import ledger

    monkeypatch.setattr(ledger.Ledger, "history", _raise(KeyError("x")))
    r = cli("plan", "--ics", data("example_busy_day.ics"), "--now", NOW)
    assert r.code == 1
    assert r.err.strip() == "followup-cal: internal error: KeyError: 'x' (run with --debug)"


def test_a_new_error_class_exits_with_its_own_code(monkeypatch):
    from followup_cal import ledger

    class Refused(errors.RemoteError):
        pass

    monkeypatch.setattr(ledger.Ledger, "history", _raise(Refused("the server said no")))
    r = cli("plan", "--ics", data("example_busy_day.ics"), "--now", NOW)
    assert (r.code, r.err.strip()) == (1, "followup-cal: the server said no")
    monkeypatch.setattr(ledger.Ledger, "history", _raise(errors.CalendarNotFound("no such")))
    assert cli("plan", "--ics", data("example_busy_day.ics"), "--now", NOW).code == 2


def test_every_module_imports_alone():
    """No module needs another imported first: the import cycles are gone."""
    names = [m.name for m in pkgutil.walk_packages(followup_cal.__path__, "followup_cal.")]
    for name in names:
        if name.endswith("__main__"):
            continue
        r = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                           text=True)
        assert r.returncode == 0, f"{name}: {r.stderr[-500:]}"
