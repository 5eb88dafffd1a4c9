"""[calendars.NAME] / [mail.NAME] tables and where their passwords come from."""

from __future__ import annotations

import os
import sys

import pytest

from followup_cal import accounts
from followup_cal.accounts import load
from followup_cal.config import ConfigError, build_settings

SECRET = "s3cret-app-password"


def write(home, text: str, mode: int = 0o600):
    path = home / "config.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def one(home, table: str, mode: int = 0o600):
    path = write(home, "[calendars.work]\ntype = \"caldav\"\nurl = \"http://127.0.0.1/\"\n"
                 + table, mode)
    (account,) = load("calendars", ("caldav", "google"), path)
    return account


def test_tables_are_read_and_planner_settings_still_build(home):
    path = write(home, 'timezone = "Europe/Berlin"\n'
                       '[calendars.work]\ntype = "caldav"\nurl = "https://dav.example/"\n'
                       'read = ["Home", "Work"]\nwrite = "Interview follow-ups"\n'
                       '[calendars.cloud]\ntype = "caldav"\nurl = "https://c.example/"\n'
                       '[mail.personal]\ntype = "imap"\nhost = "imap.example"\n')
    cals = load("calendars", ("caldav",), path)
    assert [(a.name, a.type) for a in cals] == [("work", "caldav"), ("cloud", "caldav")]
    assert cals[0].texts("read") == ("Home", "Work")
    assert cals[1].texts("read") == ()
    assert cals[0].text("write") == "Interview follow-ups"
    (mail,) = load("mail", ("imap",), path)
    assert mail.where == "mail.personal" and mail.text("host") == "imap.example"
    assert build_settings(path=path).timezone == "Europe/Berlin"


def test_no_config_file_means_no_accounts(home):
    assert load("calendars", ("caldav",), home / "missing.toml") == ()


@pytest.mark.parametrize("text, message", [
    ('[calendars.work]\nurl = "x"\n', "calendars.work.type: expected one of caldav"),
    ('[calendars.work]\ntype = "exchange"\n', "got 'exchange'"),
    ('calendars = "x"\n', "calendars: expected tables"),
    ('[calendars."my cal"]\ntype = "caldav"\n', "letters, digits"),
    ('[calendars.w]\ntype = "caldav"\npassword = "a"\npassword_env = "B"\n', "not several"),
])
def test_bad_tables_say_where(home, text, message):
    with pytest.raises(ConfigError, match=message):
        load("calendars", ("caldav",), write(home, text))


def test_password_from_env(home, monkeypatch):
    monkeypatch.setenv("WORK_PW", SECRET)
    assert one(home, 'password_env = "WORK_PW"\n').password() == SECRET
    monkeypatch.delenv("WORK_PW")
    with pytest.raises(ConfigError, match="WORK_PW is not set"):
        one(home, 'password_env = "WORK_PW"\n').password()


def test_password_command_first_line_without_a_shell(home, tmp_path):
    script = tmp_path / "pw.py"
    script.write_text(f"print({SECRET!r}); print('second line')\n")
    account = one(home, f'password_command = ["{sys.executable}", "{script}"]\n')
    assert account.password() == SECRET
    # a string is split like a command line, never given to a shell
    account = one(home, f'password_command = "{sys.executable} {script} ; touch hacked"\n')
    assert account.password() == SECRET


def test_password_command_failure_never_shows_what_it_printed(home, tmp_path):
    script = tmp_path / "pw.py"
    script.write_text(f"import sys; print({SECRET!r}, file=sys.stderr); sys.exit(3)\n")
    with pytest.raises(ConfigError) as err:
        one(home, f'password_command = ["{sys.executable}", "{script}"]\n').password()
    assert "exited with 3" in str(err.value) and SECRET not in str(err.value)


def test_password_command_time_limit(home, tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "PASSWORD_COMMAND_SECONDS", 0.5)
    script = tmp_path / "slow.py"
    script.write_text("import time; time.sleep(30)\n")
    with pytest.raises(ConfigError, match="no answer within"):
        one(home, f'password_command = ["{sys.executable}", "{script}"]\n').password()


def test_password_command_missing_program(home):
    with pytest.raises(ConfigError, match="command not found"):
        one(home, 'password_command = "no-such-program-xyz"\n').password()


def test_password_in_file_only_when_private(home):
    assert one(home, f'password = "{SECRET}"\n', mode=0o600).password() == SECRET
    with pytest.raises(ConfigError, match="chmod 600") as err:
        one(home, f'password = "{SECRET}"\n', mode=0o644).password()
    assert SECRET not in str(err.value)


def test_no_password_option(home):
    with pytest.raises(ConfigError, match="no password given"):
        one(home, "").password()
