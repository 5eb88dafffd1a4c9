"""The .ics writer and the export/plan commands, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import icalendar
import pytest

from conftest import ZONE, cli, data, plan_json

NOW = "2026-03-01T08:00"
GOOGLE = "google_utc_x_wr_timezone.ics"


def export(tmp_path: Path, *files: str, now: str = NOW, name: str = "out.ics"):
    out = tmp_path / name
    r = cli("export", *[data(f) for f in files], "-o", str(out), "--now", now,
            "--timezone", ZONE)
    return r, out


def test_written_file_reads_back_with_every_planned_follow_up(tmp_path):
    planned = plan_json(GOOGLE, now=NOW)
    r, out = export(tmp_path, GOOGLE)
    assert r.code == 0, r.err
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {p["uid"] for p in planned}
    for p in planned:
        ev = events[p["uid"]]
        assert ev.start == _parse(p["start"]) and ev.end == _parse(p["end"])
        assert str(ev["SUMMARY"]) == p["summary"]
        assert str(ev["RELATED-TO"]) == p["interview_uid"]


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_file_is_publishable_rfc5545(tmp_path):
    r, out = export(tmp_path, GOOGLE)
    assert r.code == 0
    raw = out.read_bytes()
    assert b"\r\n" in raw and all(len(line) <= 75 for line in raw.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Interview follow-ups" and cal.get("PRODID")
    assert b"ATTENDEE" not in raw  # PUBLISH forbids it; an import would invite people
    for ev in cal.walk("VEVENT"):
        assert ev["DTSTAMP"].dt.tzinfo is not None and ev["DTSTAMP"].dt.utcoffset().seconds == 0
        assert ev["DTSTART"].dt.utcoffset().total_seconds() == 0
        assert "DURATION" not in ev
        alarms = ev.walk("VALARM")
        assert len(alarms) == 1 and str(alarms[0]["ACTION"]) == "DISPLAY"
        kind = str(ev["X-FOLLOWUP-CAL-KIND"])
        assert str(ev["TRANSP"]) == ("OPAQUE" if "Call " in str(ev["SUMMARY"]) else "TRANSPARENT")
        assert kind and ev.get("CATEGORIES")
        if kind == "thank_you_email":
            # plain text a calendar app shows as written: the address, no mailto link
            assert str(ev["DESCRIPTION"]).startswith("To: ") and "mailto:" not in str(
                ev["DESCRIPTION"])
            assert "[something you discussed]" in str(ev["DESCRIPTION"])


def test_vobject_accepts_the_file(tmp_path):
    vobject = pytest.importorskip("vobject")
    r, out = export(tmp_path, GOOGLE)
    cal = vobject.readOne(out.read_text(encoding="utf-8"))
    assert len(cal.vevent_list) == len(plan_json(GOOGLE, now=NOW))


def test_same_input_same_bytes(tmp_path):
    _, a = export(tmp_path, GOOGLE, name="a.ics")
    _, b = export(tmp_path, GOOGLE, name="b.ics")
    assert a.read_bytes() == b.read_bytes()


def test_stdout_output():
    r = cli("export", data(GOOGLE), "-o", "-", "--now", NOW, "--timezone", ZONE)
    assert r.code == 0 and r.out.startswith("BEGIN:VCALENDAR")


def test_unparseable_input_exits_2_one_line_and_output_untouched(tmp_path):
    out = tmp_path / "out.ics"
    out.write_bytes(b"previous good file")
    r = cli("export", data("not_a_calendar_html.ics"), "-o", str(out), "--now", NOW,
            "--timezone", ZONE)
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert out.read_bytes() == b"previous good file"


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "out.ics"
    out.write_bytes(b"previous good file")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    r, _ = export(tmp_path, GOOGLE)
    assert r.code == 1 and "No space left" in r.err
    assert out.read_bytes() == b"previous good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out.ics"]


def test_broken_event_skipped_with_warning_rest_planned():
    r = cli("plan", "--json", "--ics", data("event_broken_among_good.ics"), "--now", NOW,
            "--timezone", ZONE)
    assert r.code == 0
    assert "broken-event-1@example.com" in r.err and "warning" in r.err
    companies = {p["company"] for p in r.json()}
    assert len(companies) == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--ics", "/nonexistent/cal.ics"], "no such file"),
        (["--ics", "/"], "directory"),
        (["--ics", data(GOOGLE), "--now", "yesterday-ish"], "--now"),
        (["--ics", data(GOOGLE), "--timezone", "Mars/Base"], "time zone"),
        ([], "no calendar"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    r = cli("plan", "--now", NOW, *args) if "--now" not in args else cli("plan", *args)
    assert r.code == 2, (r.out, r.err)
    assert needle in r.err and len(r.err.strip().splitlines()) == 1


def test_bad_config_exit_2(home):
    (home / "config.toml").write_text("max_inquiries = 'two'\n")
    r = cli("plan", "--ics", data(GOOGLE), "--now", NOW, "--timezone", ZONE)
    assert r.code == 2 and "max_inquiries" in r.err


def test_config_changes_the_rules(home):
    (home / "config.toml").write_text(
        'max_inquiries = 1\ncall_window_start = "10:30"\ncheck_in_channel = "phone"\n'
    )
    items = plan_json(GOOGLE, now=NOW)
    checks = [p for p in items if p["kind"] == "check_in"]
    assert len(checks) == 1 and checks[0]["channel"] == "phone"
    assert checks[0]["start"][11:16] == "10:30"


def test_unwritable_output_exit_2(tmp_path):
    r = cli("export", data(GOOGLE), "-o", str(tmp_path / "missing" / "out.ics"), "--now", NOW,
            "--timezone", ZONE)
    assert r.code == 2 and "does not exist" in r.err


def test_json_shape():
    items = plan_json(GOOGLE, now=NOW)
    assert items
    keys = {"uid", "kind", "channel", "company", "role", "interview_uid", "recipient", "start",
            "end", "timezone", "summary"}
    for p in items:
        assert set(p) == keys
        assert p["kind"] in ("prep", "thank_you_email", "thank_you_note", "check_in", "move_on")
        assert p["channel"] in ("email", "mail", "phone", None)
        assert p["start"][-6] in "+-" and p["end"] > p["start"]


def test_module_entry_point_and_version():
    r = subprocess.run([sys.executable, "-m", "followup_cal", "--version"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0 and "followup-cal" in r.stdout


def test_debug_shows_traceback(tmp_path):
    r = cli("plan", "--debug", "--ics", "/nonexistent.ics", "--now", NOW)
    assert r.code == 2 and "Traceback" in r.err


def test_caldav_server_accepts_the_file_whole(tmp_path):
    """Radicale (a real CalDAV server, driven in-process through WSGI) takes every event."""
    import io

    radicale = pytest.importorskip("radicale")
    from radicale import config

    _, out = export(tmp_path, GOOGLE)
    body = out.read_bytes()
    conf = config.load()
    conf.update({"auth": {"type": "none"}, "rights": {"type": "owner_only"},
                 "storage": {"filesystem_folder": str(tmp_path / "radicale")}}, "test",
                privileged=True)
    app = radicale.Application(conf)

    def request(method: str, path: str, data: bytes = b"") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5232", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "text/calendar", "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": "Basic c2FtOnNhbQ==",  # sam:sam
        }
        status = []
        answer = b"".join(app(environ, lambda s, h: status.append(s)))
        return status[0], answer

    assert request("MKCALENDAR", "/sam/followups/")[0].startswith("201")
    assert request("PUT", "/sam/followups/", body)[0].startswith("201")
    status, stored = request("GET", "/sam/followups/")
    assert status.startswith("200")
    stored_cal = icalendar.Calendar.from_ical(stored)
    assert {str(e["UID"]) for e in stored_cal.walk("VEVENT")} == {
        p["uid"] for p in plan_json(GOOGLE, now=NOW)
    }
