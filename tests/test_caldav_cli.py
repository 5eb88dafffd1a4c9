"""`sync --calendar NAME` end to end against Radicale (issue 13's acceptance).

A `[calendars.work]` CalDAV account in config.toml, an interview put into its
`Work` calendar as a calendar app would, and the CLI run in-process: sync
writes exactly what `plan --calendar work --json` lists, a second run writes
nothing, a moved interview moves its follow-ups, a cancelled one removes
them, a follow-up deleted in the calendar stays deleted, and events not ours
are never touched. Radicale and the counting proxy come from test_caldav.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from test_caldav import PASSWORD, USER, direct, proxy, server, vevent  # noqa: F401 (fixtures)

from conftest import cli

pytest.importorskip("radicale")

NOW = datetime(2030, 3, 16, 12, 0, tzinfo=timezone.utc)
ZONE = "America/New_York"
WRITES = ("PUT", "DELETE", "MKCALENDAR")
_slugs = itertools.count()


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("CALDAV_TEST_PASSWORD", PASSWORD)


@pytest.fixture
def work(direct, proxy, home):  # noqa: F811 (fixtures from test_caldav)
    """A fresh `Work` calendar with one interview and one event not ours; the account
    configured to read it and keep follow-ups in a fresh calendar of its own."""
    n = next(_slugs)
    url = direct.mkcalendar(f"cli-work-{n}", f"CLI Work {n}")
    put_interview(direct, url, NOW - timedelta(days=1))
    assert direct.put(url + "lunch.ics", vevent(
        "lunch@example.com", NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1),
        "Lunch with Pat")) == 201
    (home / "config.toml").write_text(
        f'me = ["{USER}"]\n\n[calendars.work]\ntype = "caldav"\nurl = "{proxy.url}"\n'
        f'username = "{USER}"\npassword_env = "CALDAV_TEST_PASSWORD"\n'
        f'read = ["CLI Work {n}"]\nwrite = "CLI follow-ups {n}"\n')
    proxy.reset()
    return url


def put_interview(direct, url, start: datetime, status: str = "CONFIRMED") -> None:  # noqa: F811
    status_line = f"STATUS:{status}\r\nORGANIZER;CN=Rita Ray:mailto:rita@acme.com"
    code = direct.put(url + "iv.ics", vevent("iv-cli@acme.com", start,
                                             start + timedelta(hours=1),
                                             "Interview with Acme (Analyst)", status_line))
    assert code in (201, 204)


def run(*args: str, now: datetime = NOW):
    return cli(*args, "--now", now.isoformat(), "--timezone", ZONE)


def planned(now: datetime = NOW) -> dict[str, str]:
    r = run("plan", "--calendar", "work", "--json", now=now)
    assert r.code == 0, r.err
    return {f["uid"]: f["start"] for f in r.json()}


def ours(since: datetime = NOW):
    """The account's CalDAV calendar, opened and listed from `since` (as sync does)."""
    from followup_cal.accounts import load
    from followup_cal.calendars.caldav import CalDAVCalendar
    from followup_cal.config import build_settings

    account = next(a for a in load("calendars", ("caldav",)) if a.name == "work")
    cal = CalDAVCalendar(account, build_settings(timezone=ZONE))
    assert cal.open(create=False)
    return cal, cal.list_ours(since)


def held(proxy, since: datetime = NOW) -> dict[str, str]:  # noqa: F811
    """Our follow-ups in the write calendar (start in the user's zone), still ahead."""
    from zoneinfo import ZoneInfo

    _cal, found = ours(since)
    return {u: r.start.astimezone(ZoneInfo(ZONE)).isoformat()
            for u, r in found.items() if r.start > since}


def ahead(follow_ups: dict[str, str], now: datetime = NOW) -> dict[str, str]:
    return {u: s for u, s in follow_ups.items() if datetime.fromisoformat(s) > now}


def writes(proxy) -> int:  # noqa: F811
    return sum(proxy.counts.get(m, 0) for m in WRITES)


def test_sync_writes_what_plan_lists_then_nothing(work, proxy, direct):  # noqa: F811
    want = ahead(planned())
    assert want
    r = run("sync", "--calendar", "work")
    assert r.code == 0, r.err
    assert held(proxy) == want
    proxy.reset()
    again = run("sync", "--calendar", "work")
    assert again.code == 0, again.err
    assert writes(proxy) == 0 and ": 0 created, 0 updated, 0 deleted" in again.out
    assert direct.request("GET", work + "lunch.ics")[0] == 200  # not ours: untouched


def test_a_moved_interview_moves_its_follow_ups_and_a_cancelled_one_removes_them(
        work, proxy, direct):  # noqa: F811
    assert run("sync").code == 0  # the one configured account: read and written
    before = held(proxy)
    put_interview(direct, work, NOW + timedelta(days=2))
    r = run("sync")
    assert r.code == 0, r.err
    assert held(proxy) == ahead(planned()) != before
    put_interview(direct, work, NOW + timedelta(days=2), status="CANCELLED")
    r = run("sync")
    assert r.code == 0, r.err
    assert held(proxy) == ahead(planned()) == {}


def test_a_follow_up_deleted_in_the_calendar_stays_deleted(work, proxy, direct):  # noqa: F811
    assert run("sync").code == 0
    first = held(proxy)
    gone = max(first, key=first.get)
    cal, _found = ours()
    href = cal._ours[gone].href  # the user deletes it in their calendar app
    assert direct.request("DELETE", href)[0] in (200, 204)
    proxy.reset()
    r = run("sync")
    assert r.code == 0, r.err
    assert gone not in held(proxy) and writes(proxy) == 0
    assert "1 left deleted by you" in r.out

