"""Issue 14: replies from the employer, found over IMAP, end the inquiries.

Against a real IMAP server on 127.0.0.1 (pymap, tests/imap_server.py) with
messages APPENDed here; the calendar is
tests/data/mail_employer_domain_and_free_mail_recruiter.ics (Acme interview
2026-12-01 10:00, Globex 2026-12-02 14:00, New York).
"""

from __future__ import annotations

import imaplib
import os
import re
import sqlite3
from datetime import datetime, timezone

import pytest
from imap_server import (
    PASSWORD,
    USER,
    IMAPServer,
    SilentServer,
    free_port,
    message,
    self_signed,
)

from followup_cal.accounts import Account
from followup_cal.config import ConfigError
from followup_cal.mail.base import Application
from followup_cal.mail.imap import IMAPMail
from followup_cal.mail.match import from_employer, is_automatic, judge, sent_at

from conftest import ZONE, cli, data

ICS = data("mail_employer_domain_and_free_mail_recruiter.ics")
NOW = "2026-12-04T09:00"
ME = "sam.carter@gmail.com"
INQUIRIES = {"check_in", "move_on"}


@pytest.fixture
def imap():
    server = IMAPServer()
    yield server
    server.stop()


def configure(home, port: int, *, password: str = PASSWORD, folders=None, timeout=5,
              host="127.0.0.1", tls="none", ca_file=None) -> None:
    text = (f'[mail.personal]\ntype = "imap"\nhost = "{host}"\nport = {port}\n'
            f'tls = "{tls}"\nusername = "{USER}"\npassword = "{password}"\n'
            f"timeout = {timeout}\n")
    if ca_file is not None:
        text += f'ca_file = "{ca_file}"\n'

    if folders is not None:
        text += "folders = [" + ", ".join(f'"{f}"' for f in folders) + "]\n"
    path = home / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)


def run(command: str = "plan", *extra: str, now: str = NOW, ics: tuple[str, ...] = (ICS,)):
    args = [command]
    if command == "plan":
        args.append("--json")
    args += ["--now", now, "--timezone", ZONE, "--me", ME, *extra]
    for f in ics:
        args += ["--ics", f]
    return cli(*args)


def kinds(plan: list[dict], company: str) -> set[str]:
    return {f["kind"] for f in plan if f["company"] == company}


def status() -> dict[str, dict]:
    r = cli("status", "--json", "--now", NOW, "--timezone", ZONE)
    assert r.code == 0, r.err
    return {row["company"]: row for row in r.json()}


def mail_rows(home) -> list[tuple]:
    with sqlite3.connect(str(home / "state.db")) as conn:
        return conn.execute("SELECT company, kind, at, source FROM outcomes "
                            "WHERE source LIKE 'mail:%' ORDER BY at").fetchall()


def test_a_reply_from_the_recruiter_ends_that_applications_inquiries(imap, home):
    imap.append(message("Rita Talent <rita.talent@acme.com>", "Thu, 03 Dec 2026 09:12:00 -0500",
                        "<r1@acme.com>"), "03-Dec-2026 14:12:00 +0000")
    flags = imap.flags()
    configure(home, imap.port)
    r = run()
    assert r.code == 0, r.err
    plan = r.json()
    assert not kinds(plan, "Acme") & INQUIRIES
    assert {"check_in", "move_on"} <= kinds(plan, "Globex")  # untouched
    assert "Acme: heard back 2026-12-03 (mail:personal), no check-ins" in r.err
    again = run()
    assert again.code == 0 and again.json() == plan
    # recorded once, with its date and source, nothing else of the message
    assert mail_rows(home) == [("Acme", "heard-back", "2026-12-03T14:12:00+00:00",
                                "mail:personal:<r1@acme.com>")]
    stored = b"".join(p.read_bytes() for p in home.glob("state.db*"))
    assert b"Re: Thank you" not in stored and b"in touch" not in stored
    rows = status()
    assert rows["Acme"]["outcome"] == "heard-back"
    assert rows["Acme"]["replied"] == "2026-12-03T09:12:00-05:00"
    assert rows["Globex"]["replied"] is None and rows["Globex"]["outcome"] is None
    table = cli("status", "--now", NOW, "--timezone", ZONE)
    assert "replied 2026-12-03" in table.out
    page = cli("status", "--html", "-", "--now", NOW, "--timezone", ZONE)
    assert re.search(r"<b>Outcome:</b> Replied <time [^>]*>Thu 2026-12-03</time>", page.out)
    assert imap.flags() == flags  # nothing marked read
    assert all(b"Seen" not in f for f in flags)


def test_mail_that_is_not_the_employer_answering_changes_nothing(imap, home):
    after = "Thu, 03 Dec 2026 09:00:00 -0500"
    arrived = "03-Dec-2026 14:00:00 +0000"
    for n, (sender, extra, subject) in enumerate([
        ("Eve <rita.talent@acme.com.evil.example>", (), "Re: Thank you"),  # look-alike
        ("rita@acme-careers.com", (), "Re: Thank you"),
        ("x@notacme.com", (), "Re: Thank you"),
        ("rita.talent@acme.com", ("Auto-Submitted: auto-replied",), "Re: Thank you"),
        ("rita.talent@acme.com", (), "Automatic reply: Thank you"),
        ("ivan@acme.com", (), "Out of office until Monday"),
        ("ivan@acme.com", (), "Abwesenheitsnotiz: Danke"),
        ("ivan@acme.com", ("X-Autoreply: yes",), "Re: Thank you"),
        ("Acme News <news@acme.com>", ("List-Id: <news.acme.com>",
                                       "List-Unsubscribe: <mailto:u@acme.com>"), "Our newsletter"),
        ("talent@acme.com", ("Precedence: bulk",), "Open roles"),
        ("noreply@acme.com", (), "Your application"),
        ("someone.else@gmail.com", (), "Re: Globex"),  # free mail: only Gus's own address
        ("no-reply@greenhouse.io", (), "Interview feedback"),
    ]):
        imap.append(message(sender, after, f"<n{n}@x>", subject, extra), arrived)
    # before the interview ended (Acme: 2026-12-01 11:00 New York)
    imap.append(message("rita.talent@acme.com", "Tue, 01 Dec 2026 10:30:00 -0500", "<early@x>"),
                "01-Dec-2026 15:30:00 +0000")
    imap.append(message("rita.talent@acme.com", "Mon, 30 Nov 2026 09:00:00 -0500", "<before@x>"),
                "30-Nov-2026 14:00:00 +0000")
    flags = imap.flags()
    baseline = run("plan", "--no-mail")
    configure(home, imap.port)
    r = run()
    assert r.code == 0, r.err
    assert r.json() == baseline.json()
    assert "warning" not in r.err and mail_rows(home) == []
    assert {row["outcome"] for row in status().values()} == {None}
    assert imap.flags() == flags


def test_a_reply_in_a_second_folder_and_a_missing_folder(imap, home):
    imap.append(message("Gus Grant <gus.grant@gmail.com>", "Fri, 04 Dec 2026 08:00:00 -0500",
                        "<g1@mail.gmail.com>"), "04-Dec-2026 13:00:00 +0000", folder="Archive")
    configure(home, imap.port)  # default: INBOX only
    assert {"check_in", "move_on"} <= kinds(run().json(), "Globex")
    configure(home, imap.port, folders=["INBOX", "Archive", "No Such Folder"])
    r = run()
    assert r.code == 0, r.err
    assert not kinds(r.json(), "Globex") & INQUIRIES
    warnings = [line for line in r.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "mail.personal" in warnings[0]
    assert "No Such Folder" in warnings[0]


def test_encoded_8bit_malformed_and_dateless_headers_never_stop_a_run(imap, home):
    before = "Mon, 30 Nov 2026 09:00:00 -0500"
    imap.append(b"From: J\xc3\xb6rg M\xfcller <joerg@acme.com>\r\nDate: " + before.encode()
                + b"\r\nSubject: Gr\xc3\xbc\xdfe \xff\r\nMessage-ID: <8bit@x>\r\n\r\nbody\r\n",
                "30-Nov-2026 14:00:00 +0000")
    imap.append(b"From: <<<@@acme.com@@>>>, ,;\r\nDate: not a date at all\r\n"
                b"Message-ID: <<<>>>\r\nAuto-Submitted\r\n\r\nbody\r\n",
                "03-Dec-2026 14:00:00 +0000")
    imap.append(message("ivan@acme.com", "Thu, 03 Dec 2026 09:00:00 -0500", "<ooo@x>",
                        "=?utf-8?q?R=C3=A9ponse_automatique=3A_merci?="),
                "03-Dec-2026 14:00:00 +0000")
    # no Date at all: the server's arrival time stands in for it
    imap.append(b"From: =?utf-8?q?Gus_Gr=C3=A1nt?= <gus.grant@gmail.com>\r\n"
                b"Subject: =?iso-8859-1?q?Re=3A_Gr=FC=DFe?=\r\n"
                b"Message-ID: <nodate@x>\r\n\r\nhi\r\n",
                "03-Dec-2026 16:00:00 +0000")
    configure(home, imap.port)
    r = run()
    assert r.code == 0, r.err
    assert "warning" not in r.err
    assert not kinds(r.json(), "Globex") & INQUIRIES
    assert {"check_in", "move_on"} <= kinds(r.json(), "Acme")
    assert mail_rows(home) == [("Globex", "heard-back", "2026-12-03T16:00:00+00:00",
                                "mail:personal:<nodate@x>")]


@pytest.mark.parametrize("trouble", ["down", "hangs", "wrong password"])
def test_a_mailbox_that_cannot_be_read_is_one_warning_and_the_plan_goes_on(home, trouble):
    secret = "wr0ng-Secret-Pa55"
    baseline = run("plan", "--no-mail").json()
    server = None
    if trouble == "down":
        configure(home, free_port(), password=secret)
    elif trouble == "hangs":
        server = SilentServer()
        configure(home, server.port, password=secret, timeout=0.5)
    else:
        server = IMAPServer()
        server.append(message("rita.talent@acme.com", "Thu, 03 Dec 2026 09:12:00 -0500",
                              "<r1@acme.com>"), "03-Dec-2026 14:12:00 +0000")
        configure(home, server.port, password=secret)
    try:
        r = run("plan", "--debug")
        out = home.parent / "out.ics"
        exported = run("export", "-o", str(out))
    finally:
        if server:
            server.stop()
    assert r.code == 0, r.err
    assert r.json() == baseline
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "warning: mail.personal:" in lines[0], r.err
    assert {"down": "cannot reach", "hangs": "no answer", "wrong password": "refused"}[
        trouble] in lines[0]
    assert exported.code == 0 and out.exists()
    for text in (r.out, r.err, exported.out, exported.err):
        assert secret not in text and PASSWORD not in text


def test_starttls_with_the_servers_own_certificate(home, tmp_path):
    cert, key = self_signed(tmp_path)
    server = IMAPServer(cert=(cert, key))
    try:
        server.append(message("rita.talent@acme.com", "Thu, 03 Dec 2026 09:12:00 -0500",
                               "<r1@acme.com>"), "03-Dec-2026 14:12:00 +0000")
        configure(home, server.port, tls="starttls")  # the system's CAs don't know it
        r = run()
        assert r.code == 0 and "warning: mail.personal: TLS with 127.0.0.1" in r.err, r.err
        assert {"check_in", "move_on"} <= kinds(r.json(), "Acme")
        configure(home, server.port, tls="starttls", ca_file=cert)
        r = run()
    finally:
        server.stop()
    assert r.code == 0 and "warning" not in r.err, r.err
    assert not kinds(r.json(), "Acme") & INQUIRIES


def test_no_mail_skips_the_mailboxes_for_one_run(imap, home):
    imap.append(message("ivan@acme.com", "Thu, 03 Dec 2026 09:12:00 -0500", "<i1@acme.com>"),
                "03-Dec-2026 14:12:00 +0000")
    configure(home, imap.port)
    assert {"check_in", "move_on"} <= kinds(run("plan", "--no-mail").json(), "Acme")
    assert mail_rows(home) == []
    assert not kinds(run().json(), "Acme") & INQUIRIES


def test_a_later_interview_starts_a_new_cycle(imap, home, tmp_path):
    imap.append(message("rita.talent@acme.com", "Thu, 03 Dec 2026 09:12:00 -0500",
                        "<r1@acme.com>"), "03-Dec-2026 14:12:00 +0000")
    configure(home, imap.port)
    assert not kinds(run().json(), "Acme") & INQUIRIES
    round_two = tmp_path / "round2.ics"
    round_two.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        "UID:mail-acme-2@example.com\r\nDTSTAMP:20261203T120000Z\r\n"
        "DTSTART;TZID=America/New_York:20261208T100000\r\n"
        "DTEND;TZID=America/New_York:20261208T110000\r\nSUMMARY:Final interview - Acme\r\n"
        "ORGANIZER;CN=Rita Talent:mailto:rita.talent@acme.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n")
    r = run(now="2026-12-09T09:00", ics=(ICS, str(round_two)))
    assert r.code == 0, r.err
    assert "check_in" in kinds(r.json(), "Acme")
    assert "heard back" not in r.err


def test_searches_are_bounded_read_only_and_fetch_headers_only(imap, home, monkeypatch):
    """EXAMINE, one SEARCH per open application with SINCE, BODY.PEEK; no STORE/SELECT."""
    imap.append(message("ivan@acme.com", "Mon, 30 Nov 2026 09:00:00 -0500", "<old@x>"),
                "30-Nov-2026 14:00:00 +0000")
    sent: list[tuple[str, str]] = []
    original = imaplib.IMAP4._command

    def spy(self, name, *args):
        if name != "LOGIN":  # the password is an argument there
            sent.append((name, " ".join(a if isinstance(a, str) else a.decode() for a in args)))
        return original(self, name, *args)

    monkeypatch.setattr(imaplib.IMAP4, "_command", spy)
    configure(home, imap.port)
    assert run().code == 0
    names = [n for n, _ in sent if n not in ("CAPABILITY", "LOGOUT")]
    assert "SELECT" not in names and "STORE" not in names and "EXPUNGE" not in names
    assert names.count("EXAMINE") == 1
    searches = [a for n, a in sent if n == "UID" and a.startswith("SEARCH")]
    assert len(searches) == 2  # Acme and Globex, each once
    # the day before the interview ended in UTC: SINCE is a date in the server's zone
    assert sorted(s.split()[2] for s in searches) == ["01-Dec-2026", "30-Nov-2026"]
    assert any('FROM "gus.grant@gmail.com"' in s for s in searches)
    assert not any('"gmail.com"' in s for s in searches)
    fetches = [a for n, a in sent if n == "UID" and a.startswith("FETCH")]
    assert fetches and all("BODY.PEEK[HEADER.FIELDS" in f for f in fetches)
    # an application with an outcome is not searched
    assert cli("outcome", "Globex", "rejected", "--now", NOW, "--timezone", ZONE).code == 0
    sent.clear()
    assert run().code == 0
    searches = [a for n, a in sent if n == "UID" and a.startswith("SEARCH")]
    assert len(searches) == 1 and "acme.com" in searches[0]


def test_tls_none_is_only_for_this_machine(home):
    configure(home, 143, host="imap.example.com", tls="none")
    r = run()
    assert r.code == 2
    assert "mail.personal.tls" in r.err and "Traceback" not in r.err
    configure(home, 993, host="imap.example.com", tls="plain")
    assert run().code == 2


def test_ledger_migrates_from_version_3_and_records_a_reply_once(home):
    from followup_cal.ledger import MIGRATIONS, SCHEMA_VERSION, Ledger

    path = home / "state.db"
    conn = sqlite3.connect(str(path))
    for steps in MIGRATIONS[:3]:
        for sql in steps:
            conn.execute(sql)
    conn.execute("INSERT INTO outcomes (company, kind, at, recorded_at) "
                 "VALUES ('Acme', 'heard-back', '2026-11-01T00:00:00+00:00', "
                 "'2026-11-01T00:00:00+00:00')")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    at = datetime(2026, 12, 3, tzinfo=timezone.utc)
    with Ledger.open(path) as ledger:
        assert ledger.version == SCHEMA_VERSION == 4
        assert ledger.add_outcome("Acme", "heard-back", at, now, source="mail:p:<a@x>")
        assert not ledger.add_outcome("Acme", "heard-back", at, now, source="mail:p:<a@x>")
        assert ledger.add_outcome("Acme", "heard-back", at, now, source="mail:q:<a@x>")
        assert ledger.add_outcome("Acme", "heard-back", at, now)  # the command: every time
        assert ledger.add_outcome("Acme", "heard-back", at, now)
        assert [o.source for o in ledger.outcomes()] == [
            "cli", "mail:p:<a@x>", "mail:q:<a@x>", "cli", "cli"]


# -- the rules of what counts, without a server ---------------------------------------------

APP = Application("acme", "Acme", frozenset({"rita.talent@acme.com", "gus@gmail.com"}),
                  ("acme.com",), datetime(2026, 12, 1, 16, tzinfo=timezone.utc))


@pytest.mark.parametrize("address, counts", [
    ("rita.talent@acme.com", True),
    ("ivan@acme.com", True),
    ("boss@mail.acme.com", True),  # a subdomain of their own
    ("gus@gmail.com", True),  # one of their people, at free mail
    ("other@gmail.com", False),
    ("x@acme.com.evil.example", False),
    ("x@acme-careers.com", False),
    ("x@notacme.com", False),
    ("noreply@acme.com", False),
    ("notifications@acme.com", False),
])
def test_who_counts_as_the_employer(address, counts):
    assert from_employer(address, APP) is counts


@pytest.mark.parametrize("headers, automatic", [
    ({}, False),
    ({"auto-submitted": "no"}, False),
    ({"auto-submitted": "No ; comment"}, False),
    ({"auto-submitted": "auto-replied"}, True),
    ({"auto-submitted": "auto-generated"}, True),
    ({"precedence": "bulk"}, True),
    ({"precedence": "junk"}, True),
    ({"precedence": "auto_reply"}, True),
    ({"precedence": "first-class"}, False),
    ({"list-id": "<x>"}, True),
    ({"list-unsubscribe": "<mailto:x>"}, True),
    ({"x-autorespond": "yes"}, True),
    ({"subject": "Auto: Thanks"}, True),
    ({"subject": "=?utf-8?q?R=C3=A9ponse_automatique?="}, True),
    ({"subject": "Re: Out of office policy question"}, False),
    ({"subject": "Re: Thank you"}, False),
])
def test_automatic_and_bulk_mail(headers, automatic):
    assert is_automatic(headers) is automatic


def test_dates_fall_back_to_arrival_and_naive_dates_are_utc():
    arrived = datetime(2026, 12, 3, 16, tzinfo=timezone.utc)
    assert sent_at({}, arrived) == arrived
    assert sent_at({"date": "garbage"}, arrived) == arrived
    assert sent_at({"date": "Thu, 03 Dec 2026 09:00:00 -0000"}, None) == datetime(
        2026, 12, 3, 9, tzinfo=timezone.utc)
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    reply = judge(APP, {"from": "Rita <rita.talent@acme.com>"}, arrived, now, "p", "<uid-1.x>")
    assert reply and reply.source == "mail:p:<uid-1.x>" and reply.at == arrived
    late = datetime(2026, 12, 5, tzinfo=timezone.utc)  # after --now: not yet
    assert judge(APP, {"from": "rita.talent@acme.com"}, late, now, "p", "<u>") is None


def test_account_options_are_checked():
    def account(**options):
        base = {"host": "127.0.0.1", "username": "u", "password_env": "X", "tls": "none"}
        return Account("mail", "m", "imap", {**base, **options})

    box = IMAPMail(account())
    assert (box.port, box.timeout, box.folders) == (143, 20, ("INBOX",))
    assert IMAPMail(account(tls="ssl", host="imap.example.com")).port == 993
    for bad in ({"port": "993"}, {"timeout": 0}, {"folders": []}, {"ca_file": "/nonexistent"},
                {"tls": "none", "host": "10.0.0.1"}, {"username": 7}):
        with pytest.raises(ConfigError):
            IMAPMail(account(**bad))
    with pytest.raises(ConfigError, match="no password"):
        IMAPMail(Account("mail", "m", "imap", {"host": "imap.example.com", "username": "u"}))


def test_sync_drops_the_check_ins_a_reply_ended_and_says_when_mail_was_skipped(home, fake,
                                                                               imap):
    from fake_google import google_event

    from followup_cal.calendars import google
    from followup_cal.ledger import Ledger

    fake.seed(google_event("Interview - Acme", "2026-12-01T10:00:00"))  # rita@acme.com
    fake.seed(google_event("Interview - Globex", "2026-12-02T14:00:00",
                           attendees=(("ann@globex.com", "Ann Lee"),),
                           organizer=("talent@globex.com", "Globex Talent")))
    imap.append(message("Rita Recruiter <rita@acme.com>", "Thu, 03 Dec 2026 09:12:00 -0500",
                        "<r1@acme.com>"), "03-Dec-2026 14:12:00 +0000")

    def written() -> set[tuple[str, str]]:
        with Ledger.open() as ledger:
            state = ledger.get_state(google.CALENDAR_STATE)
            return {(w.company, w.kind) for w in ledger.written(f"google:{state}")
                    if w.removed_at is None}

    configure(home, free_port())  # down
    r = cli("sync", "--now", NOW, "--timezone", ZONE)
    assert r.code == 0, r.err
    assert "mail skipped (mail.personal)" in r.out and "warning: mail.personal" in r.err
    assert {("Acme", "check_in"), ("Globex", "check_in")} <= written()
    configure(home, imap.port)
    r = cli("sync", "--now", NOW, "--timezone", ZONE, "-v")
    assert r.code == 0, r.err
    assert "mail skipped" not in r.out
    assert "Acme: heard back 2026-12-03 (mail:personal), no check-ins" in r.err
    assert ("Acme", "check_in") not in written() and ("Acme", "move_on") not in written()
    assert ("Globex", "check_in") in written()


def test_a_fault_of_ours_or_an_odd_folder_name_is_a_warning_too(imap, home, monkeypatch):
    configure(home, imap.port, folders=["INBOX", "Entwürfe"])
    r = run()
    assert r.code == 0 and "'Entwürfe': only ASCII folder names" in r.err, r.err

    def broken(self, applications, now, password):
        raise RuntimeError(f"something with {password}")

    monkeypatch.setattr(IMAPMail, "_read", broken)
    r = run("plan", "--debug")
    assert r.code == 0, r.err
    assert "warning: mail.personal: failed (RuntimeError)" in r.err
    assert PASSWORD not in r.err
