"""`--calendar NAME` / `--to NAME`: accounts from [calendars.NAME] tables, through the registry.

A toy kind registered for the test (a calendar held in this process that reads
its interviews from an .ics file) stands in for a service: `sync --calendar
NAME` must write exactly what `plan --calendar NAME --json` lists, then nothing,
and follow the interview as it moves or is cancelled, through the one set of
rules in sync.py (DESIGN.md "Interfaces").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from followup_cal import calendars
from followup_cal.calendars.base import Remote
from followup_cal.sync import content_hash

from conftest import ZONE, cli, data

NOW = "2026-03-03T16:00"
SIMILAR = "lifecycle_similar_names.ics"  # Acme Corp, Acme Robotics, Globex Robotics
STORE: dict[str, dict] = {}


class ToyCalendar:
    """Reads `file`; keeps our events in STORE[name] (no tombstones, as CalDAV)."""

    def __init__(self, account, settings):
        self.name = f"toy:{account.name}"
        self.target = f"toy:{account.name}"
        self.file = account.text("file", required=True)
        self.cal = STORE.setdefault(account.name, {"exists": False, "ours": {}, "writes": 0,
                                                   "foreign": {"dentist": "10:00"}})

    def read(self, window, settings):
        from followup_cal.calendars.ics import IcsFiles

        return IcsFiles([self.file]).read(window, settings)

    def open(self, *, create):
        self.cal["exists"] = self.cal["exists"] or create
        return self.cal["exists"]

    def list_ours(self, since):
        return {u: r for u, r in self.cal["ours"].items() if r.end > since}

    def _put(self, f, mark):
        self.cal["writes"] += 1
        self.cal["ours"][f.uid] = Remote(f.uid, f.start, content_hash(f), mark, end=f.end)

    def create(self, f, mark):
        if f.uid in self.cal["ours"]:
            return False
        self._put(f, mark)
        return True

    def update(self, f, mark):
        if f.uid not in self.cal["ours"]:
            return False
        self._put(f, mark)
        return True

    def delete(self, uid):
        self.cal["writes"] += 1
        self.cal["ours"].pop(uid, None)


@pytest.fixture(autouse=True)
def toy(monkeypatch, home):
    STORE.clear()
    monkeypatch.setitem(calendars.KINDS, "toy", "test_calendar_accounts:ToyCalendar")
    return home


def configure(home: Path, *tables: tuple[str, str], extra: str = "") -> None:
    text = extra
    for name, file in tables:
        text += f'\n[calendars.{name}]\ntype = "toy"\nfile = "{file}"\n'
    (home / "config.toml").write_text(text)


def run(*args: str, now: str = NOW):
    return cli(*args, "--now", now, "--timezone", ZONE)


def planned(*args: str) -> dict[str, str]:
    r = run("plan", "--json", *args)
    assert r.code == 0, r.err
    return {f["uid"]: f["start"] for f in r.json()}


def held(name: str = "work") -> dict[str, str]:
    from zoneinfo import ZoneInfo

    return {u: r.start.astimezone(ZoneInfo(ZONE)).isoformat()
            for u, r in STORE[name]["ours"].items()}


def ahead(follow_ups: dict[str, str], now: str = NOW) -> dict[str, str]:
    """What is still to come (one that fell due stays where it was: the past is history)."""
    return {u: s for u, s in follow_ups.items() if s > now + ":00-05:00"}


def edited(tmp_path: Path, old: str, new: str) -> str:
    text = Path(data(SIMILAR)).read_text()
    assert old in text
    out = tmp_path / "work.ics"
    out.write_text(text.replace(old, new))
    return str(out)


def test_sync_writes_what_plan_lists_then_nothing(toy):
    configure(toy, ("work", data(SIMILAR)))
    want = planned("--calendar", "work")
    assert want
    r = run("sync", "--calendar", "work")
    assert r.code == 0, r.err
    assert held() == want
    assert r.out.startswith(f"synced toy:work: {len(want)} created, 0 updated, 0 deleted")
    writes = STORE["work"]["writes"]
    again = run("sync")  # the one configured account is the default, read and written
    assert again.code == 0 and STORE["work"]["writes"] == writes
    assert f"{len(want)} unchanged" in again.out
    assert STORE["work"]["foreign"] == {"dentist": "10:00"}


def test_a_moved_interview_moves_and_a_cancelled_one_removes_its_follow_ups(toy, tmp_path):
    start = "DTSTART:20260303T140000Z\nDTEND:20260303T150000Z"
    path = edited(tmp_path, start, start)
    configure(toy, ("work", path))
    assert run("sync").code == 0
    before = held()
    edited(tmp_path, start, "DTSTART:20260302T170000Z\nDTEND:20260302T180000Z")
    r = run("sync")
    assert r.code == 0 and ", 0 updated" not in r.out
    assert ahead(held()) == ahead(planned("--calendar", "work")) != ahead(before)
    moved = ahead(held())
    edited(tmp_path, "STATUS:CONFIRMED\nSUMMARY:Phone screen: Acme Robotics",
           "STATUS:CANCELLED\nSUMMARY:Phone screen: Acme Robotics")
    r = run("sync")
    assert r.code == 0 and ", 0 deleted" not in r.out
    assert ahead(held()) == ahead(planned("--calendar", "work"))
    assert ahead(held()).keys() < moved.keys()  # Acme Robotics' follow-ups are gone


def test_a_follow_up_deleted_in_the_calendar_stays_deleted(toy):
    configure(toy, ("work", data(SIMILAR)))
    assert run("sync").code == 0
    later = max(held(), key=held().get)
    STORE["work"]["ours"].pop(later)  # the user deletes it in their calendar app
    writes = STORE["work"]["writes"]
    r = run("sync")
    assert r.code == 0 and STORE["work"]["writes"] == writes and later not in held()
    assert "1 left deleted by you" in r.out


def test_reading_two_accounts_writes_to_the_one_named(toy, tmp_path):
    configure(toy, ("work", data(SIMILAR)), ("home", str(tmp_path / "empty.ics")))
    (tmp_path / "empty.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    r = run("sync")
    assert r.code == 2 and "--to NAME" in r.err
    assert run("sync", "--to", "home").code == 0
    assert held("home") == planned("--calendar", "work", "--calendar", "home")
    assert STORE["work"]["ours"] == {}
    configure(toy, ("work", data(SIMILAR)), ("home", str(tmp_path / "empty.ics")),
              extra='sync_to = "home"\n')
    assert run("sync").code == 0


@pytest.mark.parametrize("args, says", [
    (("plan", "--calendar", "nope"), "no calendar account 'nope'; configured: google, work"),
    (("sync", "--calendar", "nope"), "no calendar account 'nope'; configured: google, work"),
    (("sync", "--to", "nope"), "--to: no calendar account 'nope'"),
    (("sync", "--target", "primary"), "--target: only for Google"),
])
def test_bad_account_names_exit_2_naming_the_configured_ones(toy, args, says):
    configure(toy, ("work", data(SIMILAR)))
    r = run(*args)
    assert r.code == 2 and says in r.err and r.err.count("\n") == 1


def test_the_fell_due_rule_keeps_yesterdays_follow_up_where_it_was(toy):
    configure(toy, ("work", data(SIMILAR)))
    assert run("sync").code == 0
    first = held()
    r = run("sync", now="2026-03-04T16:00")
    assert r.code == 0
    kept = {u: s for u, s in first.items() if s < "2026-03-04T16:00"}
    assert kept and all(held()[u] == s for u, s in kept.items())


def test_an_unknown_type_in_a_table_is_a_config_error(toy):
    (toy / "config.toml").write_text('[calendars.work]\ntype = "exchange"\n')
    r = run("plan", "--calendar", "work")
    assert r.code == 2 and "calendars.work.type" in r.err


def test_google_is_the_built_in_account_and_dash_dash_google_its_short_name(fake):
    from test_google import acme

    acme(fake)
    assert planned("--google") == planned("--calendar", "google") != {}
    (fake_home := Path(__import__("os").environ["FOLLOWUP_CAL_HOME"]))
    (fake_home / "config.toml").write_text('[calendars.google]\ntype = "google"\n'
                                           'read = ["nope@group.calendar.google.com"]\n')
    r = run("plan", "--google")
    assert r.code == 2 and "nope@group.calendar.google.com" in r.err

