"""CalDAV against a real server: Radicale on 127.0.0.1 (htpasswd, so wrong passwords are
refused), behind a proxy that counts requests and injects faults (tests/fault_proxy.py)."""

from __future__ import annotations

import base64
import http.client
import itertools
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from socketserver import ThreadingMixIn
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from fault_proxy import FaultProxy
from sink_contract import T0, SinkContract, follow_up

from followup_cal.accounts import Account
from followup_cal.calendars.caldav import _file_name
from followup_cal.config import ConfigError, Settings
from followup_cal.detect import Window
from followup_cal.ledger import content_hash

radicale = pytest.importorskip("radicale")

USER, PASSWORD = "sam@example.com", "s3cret-Pa55"
NOW = datetime(2030, 3, 16, 12, 0, tzinfo=timezone.utc)
_names = itertools.count()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Radicale in-process (WSGI in a thread) with a plain-text htpasswd file."""
    from radicale import config

    folder = tmp_path_factory.mktemp("radicale")
    users = folder / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    conf = config.load()
    conf.update({"auth": {"type": "htpasswd", "htpasswd_filename": str(users),
                          "htpasswd_encryption": "plain", "delay": "0"},
                 "rights": {"type": "owner_only"},
                 "storage": {"filesystem_folder": str(folder / "collections")}},
                "test", privileged=True)
    httpd = make_server("127.0.0.1", 0, radicale.Application(conf), server_class=_Threaded,
                        handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def proxy(server):
    p = FaultProxy(server)
    yield p
    p.stop()


@pytest.fixture(autouse=True)
def clean_proxy(proxy):
    proxy.reset()
    yield
    proxy.reset()


class Direct:
    """What a calendar app does: requests straight to Radicale, not through the proxy."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def request(self, method: str, path: str, body: bytes | str = b"", **headers):
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, urlsplit(path).path if path.startswith("http") else path,
                     body=body, headers={"Authorization": self.auth, **headers})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, dict(r.getheaders()), data

    def mkcalendar(self, slug: str, name: str) -> str:
        body = ('<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
                f"<D:displayname>{name}</D:displayname></D:prop></D:set></C:mkcalendar>")
        path = f"/{USER}/{slug}/"
        assert self.request("MKCALENDAR", path, body)[0] == 201
        return self.base + path

    def put(self, url: str, text: str) -> int:
        return self.request("PUT", url, text, **{"Content-Type": "text/calendar"})[0]

    def names(self) -> list[str]:
        body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/>'
                "</D:prop></D:propfind>")
        _s, _h, data = self.request("PROPFIND", f"/{USER}/", body, Depth="1")
        import re

        return re.findall(r"<[^>]*displayname>([^<]*)</", data.decode())


@pytest.fixture(scope="module")
def direct(server):
    return Direct(server)


def vevent(uid: str, start: datetime, end: datetime, summary: str, extra: str = "") -> str:
    f = "%Y%m%dT%H%M%SZ"
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", f"UID:{uid}",
        "DTSTAMP:20300101T000000Z", f"DTSTART:{start.strftime(f)}", f"DTEND:{end.strftime(f)}",
        f"SUMMARY:{summary}", *([extra] if extra else []), "END:VEVENT", "END:VCALENDAR", ""])


def account(url: str, **options) -> Account:
    table = {"url": url, "username": USER, "password_env": "CALDAV_TEST_PASSWORD",
             "retries": 3, **options}
    return Account("calendars", "work", "caldav", table)


def calendar(url: str, sleeps: list | None = None, **options):
    from followup_cal.calendars.caldav import CalDAVCalendar

    record = sleeps if sleeps is not None else []
    return CalDAVCalendar(account(url, **options), Settings(), sleep=record.append)


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("CALDAV_TEST_PASSWORD", PASSWORD)


def fresh_name() -> str:
    return f"Follow-ups {next(_names)}"


# -- the shared contract ------------------------------------------------------------------


class TestCalDAVSink(SinkContract):
    @pytest.fixture
    def sink(self, proxy):
        return calendar(proxy.url, write=fresh_name())

    def reopen(self, sink):
        return calendar(sink.options.url, write=sink.options.write)

    def calendars_named(self, sink) -> int:
        return Direct(sink.options.url).names().count(sink.options.write)

    def _url(self, sink, uid):
        return sink._collection() + _file_name(uid)

    def put_foreign(self, sink, uid, start, end, summary):
        assert Direct(sink.options.url).put(self._url(sink, uid),
                                            vevent(uid, start, end, summary)) == 201

    def foreign(self, sink, uid):
        status, headers, data = Direct(sink.options.url).request("GET", self._url(sink, uid))
        return (headers.get("ETag"), data) if status == 200 else None

    def remove(self, sink, uid):
        status = Direct(sink.options.url).request("DELETE", self._url(sink, uid))[0]
        assert status in (200, 204)


# -- reading --------------------------------------------------------------------------------


ZONED = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
    "BEGIN:VTIMEZONE", "TZID:America/New_York",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "DTSTART:20070311T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "DTSTART:20071104T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD", "END:VTIMEZONE",
    "BEGIN:VEVENT", "UID:weekly-standup@example.com", "DTSTAMP:20300101T000000Z",
    "DTSTART;TZID=America/New_York:20300104T090000",
    "DTEND;TZID=America/New_York:20300104T093000",
    "RRULE:FREQ=WEEKLY", "SUMMARY:Team standup", "END:VEVENT", "END:VCALENDAR", ""])


@pytest.fixture(scope="module")
def work(direct):
    """A `Work` calendar with an interview, a weekly series and a broken event."""
    url = direct.mkcalendar("work", "Work")
    start = NOW - timedelta(days=2)
    assert direct.put(url + "iv.ics", vevent(
        "iv-1@acme.com", start, start + timedelta(hours=1), "Interview with Acme (Analyst)",
        "ORGANIZER;CN=Rita Ray:mailto:rita@acme.com")) == 201
    assert direct.put(url + "series.ics", ZONED) == 201
    assert direct.put(url + "old.ics", vevent(
        "old@acme.com", NOW - timedelta(days=3000), NOW - timedelta(days=2999),
        "Interview with Oldco")) == 201
    broken = vevent("broken@example.com", NOW + timedelta(days=1), NOW, "Backwards")
    assert direct.put(url + "broken.ics", broken) == 201
    return url


@pytest.mark.parametrize("prefilter", [True, False])
def test_read_expands_recurrences_locally_and_warns_on_a_bad_event(proxy, work, prefilter,
                                                                    monkeypatch):
    monkeypatch.setattr("followup_cal.calendars.prefilter.ENABLED", prefilter)
    cal = calendar(proxy.url, read=["Work"])
    window = Window.around(NOW, Settings())
    reading = cal.read(window, Settings())
    uids = [e.uid for e in reading.events]
    assert "iv-1@acme.com" in uids
    assert "old@acme.com" not in uids  # outside the window
    standups = [e for e in reading.events if e.uid == "weekly-standup@example.com"]
    assert len(standups) > 4  # expanded here: one per week of the window
    assert {e.start.astimezone(timezone.utc).hour for e in standups} <= {13, 14}  # 9:00 NY
    assert {e.tzid for e in standups} == {"America/New_York"}
    assert any("broken@example.com" in w for w in reading.warnings)
    assert USER in reading.me
    assert {e.source for e in reading.events} == {"caldav:work"}


def test_read_defaults_to_every_calendar_but_ours(proxy, work, direct):
    write = fresh_name()
    ours = calendar(proxy.url, write=write)
    ours.open(create=True)
    ours.create(follow_up(77, start=NOW + timedelta(days=1)), "m")
    reading = calendar(proxy.url, write=write).read(Window.around(NOW, Settings()), Settings())
    uids = {e.uid for e in reading.events}
    assert "iv-1@acme.com" in uids
    assert follow_up(77).uid not in uids


def test_read_by_url_and_an_unknown_name_is_a_config_error(proxy, work):
    spec = proxy.url.rstrip("/") + urlsplit(work).path
    by_url = calendar(proxy.url, read=[spec]).read(Window.around(NOW, Settings()), Settings())
    assert "iv-1@acme.com" in {e.uid for e in by_url.events}
    with pytest.raises(ConfigError, match=r"calendars.work.read: no calendar 'Hobbies'"):
        calendar(proxy.url, read=["Hobbies"]).read(Window.around(NOW, Settings()), Settings())


# -- config ------------------------------------------------------------------------------------


def test_unknown_key_and_missing_url_are_config_errors(proxy):
    with pytest.raises(ConfigError, match=r"calendars.work: unknown key 'calender'"):
        calendar(proxy.url, calender="x")
    from followup_cal.calendars.caldav import CalDAVCalendar

    with pytest.raises(ConfigError, match=r"calendars.work: 'url' is required"):
        CalDAVCalendar(Account("calendars", "work", "caldav", {"username": "x"}), Settings())
    with pytest.raises(ConfigError, match=r"calendars.work.retries"):
        calendar(proxy.url, retries="many")


def test_the_registry_finds_it():
    from followup_cal.calendars import load
    from followup_cal.calendars.caldav import CalDAVCalendar

    assert load("caldav") is CalDAVCalendar


# -- steady state ------------------------------------------------------------------------------


def test_steady_state_costs_one_request_per_calendar(proxy, work, home):
    write = fresh_name()
    first = calendar(proxy.url, write=write, read=["Work"])
    window = Window.around(NOW, Settings())
    first.read(window, Settings())
    assert first.open(create=True)
    for n in range(3):
        first.create(follow_up(n, start=NOW + timedelta(days=n + 1)), "m")
    first.list_ours(NOW)

    proxy.reset()
    again = calendar(proxy.url, write=write, read=["Work"])
    reading = again.read(window, Settings())
    assert again.open(create=False)
    ours = again.list_ours(NOW)
    assert len(ours) == 3 and "iv-1@acme.com" in {e.uid for e in reading.events}
    # the run after writes sees them in its delta; the one after that is quiet too
    proxy.reset()
    third = calendar(proxy.url, write=write, read=["Work"])
    third.read(window, Settings())
    third.open(create=False)
    assert third.list_ours(NOW) == ours
    assert dict(proxy.counts) == {"REPORT": 2}  # one per read calendar + one for ours
    cache = home / "cache" / "caldav-work.json"
    stamp = cache.stat().st_mtime_ns
    calendar(proxy.url, write=write, read=["Work"]).read(window, Settings())
    assert cache.stat().st_mtime_ns == stamp  # nothing changed: the file is not rewritten


def test_a_reader_and_a_writer_of_one_account_keep_each_others_tokens(proxy, work, home):
    import json

    write = fresh_name()
    window = Window.around(NOW, Settings())
    reader = calendar(proxy.url, write=write, read=["Work"])
    writer = calendar(proxy.url, write=write, read=["Work"])
    reader.cache, writer.cache  # both loaded before either writes  # noqa: B018
    writer.open(create=True)
    reader.read(window, Settings())
    writer.list_ours(NOW)
    data = json.loads((home / "cache" / "caldav-work.json").read_text())
    assert len([s for s in data["collections"].values() if s["token"]]) == 2
    assert write in [c[1] for c in data["discovery"]["calendars"]]


def test_an_expired_sync_token_falls_back_to_a_full_listing(proxy, home):
    import json

    write = fresh_name()
    cal = calendar(proxy.url, write=write)
    cal.open(create=True)
    cal.create(follow_up(), "m")
    cal.list_ours(T0 - timedelta(days=1))
    path = home / "cache" / "caldav-work.json"
    data = json.loads(path.read_text())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert PASSWORD not in path.read_text()
    for state in data["collections"].values():
        state["token"] = "http://radicale.org/ns/sync/0000-not-a-token"
    path.write_text(json.dumps(data))
    proxy.reset()
    again = calendar(proxy.url, write=write)
    again.open(create=False)
    assert set(again.list_ours(T0 - timedelta(days=1))) == {follow_up().uid}
    assert proxy.counts["REPORT"] == 2  # the refused token, then everything once


def test_a_server_without_sync_tokens_is_read_with_time_range_queries(proxy, work):
    proxy.answers["REPORT sync-collection"] = 501
    write = fresh_name()
    window = Window.around(NOW, Settings())
    first = calendar(proxy.url, write=write, read=["Work"])
    assert "iv-1@acme.com" in {e.uid for e in first.read(window, Settings()).events}
    first.open(create=True)
    first.create(follow_up(start=NOW + timedelta(days=1)), "m")
    assert set(first.list_ours(NOW)) == {follow_up().uid}
    proxy.counts.clear()
    again = calendar(proxy.url, write=write, read=["Work"])
    reading = again.read(window, Settings())
    again.open(create=False)
    assert set(again.list_ours(NOW)) == {follow_up().uid}
    assert "iv-1@acme.com" in {e.uid for e in reading.events}
    assert dict(proxy.counts) == {"REPORT": 2}  # remembered: no token is asked for again


# -- faults --------------------------------------------------------------------------------------


@pytest.fixture
def opened(proxy):
    cal = calendar(proxy.url, write=fresh_name())
    assert cal.open(create=True)
    proxy.reset()
    return cal


@pytest.mark.parametrize("fault", ["500", "503", "drop_before", "429"])
def test_transient_faults_are_retried(opened, proxy, fault):
    sleeps: list = []
    opened.http.sleep = sleeps.append
    proxy.script("PUT", fault, fault)
    assert opened.create(follow_up(), "m") is True
    assert proxy.counts["PUT"] == 3
    assert len(sleeps) == 2
    assert set(opened.list_ours(T0 - timedelta(days=1))) == {follow_up().uid}


def test_429_honours_retry_after_capped(opened, proxy):
    sleeps: list = []
    opened.http.sleep = sleeps.append
    proxy.retry_after = "7"
    proxy.script("REPORT", "429")
    opened.list_ours(T0)
    proxy.retry_after = "86400"
    proxy.script("REPORT", "429")
    opened.list_ours(T0)
    assert sleeps == [7, 60.0]


def test_retries_are_bounded(opened, proxy):
    from followup_cal.calendars.caldav import CalDAVError

    proxy.script("PUT", *["503"] * 10)
    with pytest.raises(CalDAVError, match=r"calendars.work: .*HTTP 503.* after 4 tries") as exc:
        opened.create(follow_up(), "m")
    assert exc.value.exit_code == 1
    assert proxy.counts["PUT"] == 4  # 1 + retries (3)


def test_a_put_whose_answer_was_lost_counts_as_created(opened, proxy, direct):
    proxy.script("PUT", "drop_after")
    assert opened.create(follow_up(), "m") is True
    assert proxy.counts["PUT"] == 2  # the retry met If-None-Match: 412
    ours = opened.list_ours(T0 - timedelta(days=1))
    assert list(ours) == [follow_up().uid]
    # a different event under that uid is not ours to claim
    proxy.script("PUT", "drop_after")
    assert opened.create(replace(follow_up(), summary="Other"), "m") is False


def test_a_lost_update_answer_is_confirmed_by_content(opened, proxy):
    f = follow_up()
    opened.create(f, "m")
    opened.list_ours(T0 - timedelta(days=1))
    proxy.script("PUT", "drop_after")
    moved = replace(f, summary="Moved")
    assert opened.update(moved, "m") is True
    assert opened.list_ours(T0 - timedelta(days=1))[f.uid].content_hash == content_hash(moved)


def test_a_stale_etag_is_refetched_once(opened, proxy, direct):
    f = follow_up()
    opened.create(f, "m")
    opened.list_ours(T0 - timedelta(days=1))
    href = opened._collection() + _file_name(f.uid)
    _s, _h, data = direct.request("GET", href)
    edited = data.decode().replace("DESCRIPTION:", "LOCATION:Desk\r\nDESCRIPTION:", 1)
    assert direct.put(href, edited) in (201, 204)  # the user touched it: new ETag
    proxy.reset()
    moved = replace(f, summary="Moved")
    assert opened.update(moved, "m2") is True
    assert proxy.counts == {"PUT": 2, "GET": 1}
    assert opened.list_ours(T0 - timedelta(days=1))[f.uid].content_hash == content_hash(moved)
    touched = direct.request("GET", href)[2].decode()
    direct.put(href, touched.replace("SUMMARY:", "LOCATION:x\r\nSUMMARY:", 1))
    opened.delete(f.uid)  # a stale ETag on delete: looked at again, then deleted
    assert dict(opened.list_ours(T0 - timedelta(days=1))) == {}


def test_a_timeout_is_retried(proxy):
    cal = calendar(proxy.url, write=fresh_name(), timeout=0.3)
    proxy.slow_seconds = 0.6
    proxy.script("PROPFIND", "slow")
    assert cal.open(create=True)
    assert proxy.counts["PROPFIND"] >= 2


def test_a_wrong_password_is_one_line_without_retry_or_secret(proxy, monkeypatch):
    from followup_cal.calendars.caldav import CalDAVError

    monkeypatch.setenv("CALDAV_TEST_PASSWORD", "wrong-horse-battery")
    cal = calendar(proxy.url, write=fresh_name())
    with pytest.raises(CalDAVError) as exc:
        cal.open(create=True)
    message = str(exc.value)
    assert "calendars.work" in message and "401" in message and "\n" not in message
    assert exc.value.exit_code == 1
    assert proxy.total() == 1  # no retry storm
    chain, seen = exc.value, []
    while chain is not None:
        seen.append(chain)
        chain = chain.__cause__ or chain.__context__
    assert len(seen) == 1  # nothing from the HTTP library rides along
    assert "wrong-horse-battery" not in repr(exc.value.args)


def test_an_unreachable_server_is_one_line(proxy):
    import socket

    from followup_cal.calendars.caldav import CalDAVError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list = []
    cal = calendar(f"http://127.0.0.1:{port}/", sleeps=sleeps, write=fresh_name())
    with pytest.raises(CalDAVError, match=r"calendars.work: cannot reach 127.0.0.1:\d+"):
        cal.open(create=True)
    assert len(sleeps) == 3


def test_a_server_without_mkcalendar_says_what_to_do(proxy, direct):
    from followup_cal.calendars.caldav import CalDAVError

    name = fresh_name()
    proxy.answers["MKCALENDAR"] = 405
    with pytest.raises(CalDAVError, match=r"create the calendar in your app and name it in "
                                          r"`write`"):
        calendar(proxy.url, write=name).open(create=True)
    assert name not in direct.names()


def test_a_dropped_mkcalendar_makes_one_calendar(proxy, direct):
    name = fresh_name()
    proxy.script("MKCALENDAR", "drop_after")
    cal = calendar(proxy.url, write=name)
    assert cal.open(create=True)
    assert direct.names().count(name) == 1


def test_events_not_ours_survive_a_calendar_shared_with_the_user(proxy, direct):
    url = direct.mkcalendar("shared", "Shared")
    assert direct.put(url + "dentist.ics", vevent(
        "dentist@example.com", T0, T0 + timedelta(hours=1), "Dentist",
        "X-FOLLOWUP-CAL-MARK:looks-like-ours")) == 201
    cal = calendar(proxy.url, write="Shared")
    assert cal.open(create=False)
    assert dict(cal.list_ours(T0 - timedelta(days=1))) == {}
    cal.create(follow_up(), "m")
    assert set(cal.list_ours(T0 - timedelta(days=1))) == {follow_up().uid}
    assert direct.request("GET", url + "dentist.ics")[0] == 200


def test_twenty_percent_faults_converge_without_duplicates(proxy, direct):
    """Each run does what it can; repeated runs end with every event once, then quiet."""
    from followup_cal.calendars.caldav import CalDAVError

    name = fresh_name()
    wanted = {f.uid: f for f in (follow_up(n, start=T0 + timedelta(hours=n)) for n in range(8))}
    proxy.chaos(0.2, seed=13)
    for _run in range(30):
        cal = calendar(proxy.url, write=name, retries=2)
        try:
            cal.open(create=True)
            ours = cal.list_ours(T0 - timedelta(days=1))
            done = True
            for uid, f in wanted.items():
                if uid not in ours:
                    cal.create(f, "m")
                    done = False
                elif ours[uid].content_hash != content_hash(f):
                    cal.update(f, "m")
                    done = False
            if done:
                break
        except CalDAVError:
            continue
    else:
        pytest.fail("did not converge")
    proxy.chaos(0)
    assert direct.names().count(name) == 1
    cal = calendar(proxy.url, write=name)
    cal.open(create=False)
    assert set(cal.list_ours(T0 - timedelta(days=1))) == set(wanted)
    objects = direct.request("PROPFIND", urlsplit(cal._collection()).path, Depth="1")[2]
    assert objects.decode().count(".ics</") == len(wanted)
    assert sum(proxy.faults.values()) > 0
