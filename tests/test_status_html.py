"""`status --html` (issue 15): one page, the same rows as `status --json`, escaped."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from followup_cal.config import Settings
from followup_cal.ledger import Ledger
from followup_cal.model import Interview, Person

from conftest import ZONE, cli

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "calendar.ics")
T0 = "2026-12-01T08:00"  # the README's Quick start
LATER = "2026-12-04T13:00"  # thank-yous to Brightline done, Northwind's panel held
OPTS = ("--timezone", ZONE)


def run(*args: str):
    r = cli(*args, *OPTS)
    assert r.code == 0, r.err
    return r


def lifecycle(tmp_path: Path) -> None:
    """Export, then an offer from Northwind, then export again: done, dropped, an outcome."""
    out = str(tmp_path / "followups.ics")
    run("export", EXAMPLE, "-o", out, "--now", T0)
    run("contacted", "brightline", "--via", "phone", "--at", "2026-12-03T11:00", "--now", LATER)
    run("outcome", "northwind", "offer", "--at", "2026-12-04T12:00", "--now", LATER)
    run("export", EXAMPLE, "-o", out, "--now", LATER)


class Page(HTMLParser):
    """What a reader of the page gets per application: its name, facts and steps."""

    def __init__(self, text: str):
        super().__init__()
        self.apps: list[dict] = []
        self.links: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self._in_h2 = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("href", "src") and v is not None]
        if tag == "article":
            self.apps.append({"name": "", "next": None, "steps": [], "text": "",
                              "outcome_at": None})
        if not self.apps:
            return
        app = self.apps[-1]
        cls = a.get("class") or ""
        if tag == "h2":
            self._in_h2 = True
        if tag == "li" and "step" in cls.split():
            state = next(c[2:] for c in cls.split() if c.startswith("s-"))
            app["steps"].append({"state": state, "start": None})
        if tag == "time":
            if self._stack and self._stack[-1][0] == "dd-next":
                app["next"] = a["datetime"]
            elif self._stack and self._stack[-1][0] == "outcome":
                app["outcome_at"] = a["datetime"]
            elif app["steps"] and app["steps"][-1]["start"] is None:
                app["steps"][-1]["start"] = a["datetime"]
        if tag == "dd" and "data-kind" in a:
            self._stack.append(("dd-next", a))
        if tag == "p" and "outcome" in cls.split():
            self._stack.append(("outcome", a))

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        if tag in ("dd", "p") and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self.apps:
            self.apps[-1]["text"] += data
            if self._in_h2:
                self.apps[-1]["name"] += data


def both(now: str) -> tuple[list[dict], str]:
    rows = run("status", "--json", "--now", now).json()
    page = run("status", "--html", "-", "--now", now).out
    return rows, page


def test_page_and_json_show_the_same_rows(tmp_path):
    lifecycle(tmp_path)
    rows, text = both(LATER)
    page = Page(text)
    assert [a["name"] for a in page.apps] == [r["company"] for r in rows]
    for app, row in zip(page.apps, rows, strict=True):
        assert app["next"] == (row["next"]["start"] if row["next"] else None)
        assert f"{row['inquiries_made']} of {row['inquiries_allowed']}" in app["text"]
        assert row["role"] in app["text"]
        assert [(s["start"], s["state"]) for s in app["steps"]] == \
            [(s["start"], s["state"]) for s in row["timeline"]]
        assert app["outcome_at"] == row["outcome_at"]
        for person in row["interviewers"]:
            assert person["name"] in app["text"]


def test_states_on_the_timeline(tmp_path):
    lifecycle(tmp_path)
    rows = {r["company"]: r for r in run("status", "--json", "--now", LATER).json()}
    north, bright = rows["Northwind Health"], rows["Brightline Logistics"]
    assert north["outcome"] == "offer"
    assert north["outcome_at"] == "2026-12-04T12:00:00-05:00"
    assert north["next"] is None

    def states(row, kind):
        return [s["state"] for s in row["timeline"] if s["kind"] == kind]

    # written, and their time came: done; the panel was held
    assert states(north, "thank_you_email") == ["done"] * 3
    assert [s["for"] for s in north["timeline"] if s["kind"] == "thank_you_note"] == \
        ["Lena Park", "Priya Shah", "Tom Becker"]
    assert states(north, "interview") == ["done"]
    # the call on Friday 11:15 came before the offer (12:00); the rest was taken off
    # the calendar by the second export
    assert states(north, "check_in") == ["done", "dropped"]
    assert north["inquiries_made"] == 1
    assert states(north, "move_on") == ["dropped"]
    assert states(north, "offer") == ["done"]
    # the logged call counts and shows; what is still ahead is planned
    assert bright["inquiries_made"] == 1
    assert [s["channel"] for s in bright["timeline"] if s["kind"] == "contact"] == ["phone"]
    assert states(bright, "thank_you_email") == ["done"]
    # the call took the first check-in's place: that one was taken off; one is left
    assert states(bright, "check_in") == ["planned", "dropped"]
    assert bright["next"]["kind"] == "check_in"


def test_a_follow_up_you_deleted_is_dropped_even_while_planned(tmp_path):
    """Sync never re-creates what you deleted (issue 4), so the page must not call it planned."""
    out = tmp_path / "followups.ics"
    run("export", EXAMPLE, "-o", str(out), "--now", T0)
    with Ledger.open() as ledger:
        note = next(w for w in ledger.written() if w.kind == "thank_you_note"
                    and "lena.park" in w.key)
        ledger.mark_deleted_by_user(note.target, note.uid)
    rows = {r["company"]: r for r in run("status", "--json", "--now", T0).json()}
    notes = [(s["for"], s["state"]) for s in rows["Northwind Health"]["timeline"]
             if s["kind"] == "thank_you_note"]
    assert notes == [("Priya Shah", "planned"), ("Tom Becker", "planned"),
                     ("Lena Park", "dropped")]  # at one time, what is dropped goes last


def test_json_keeps_its_fields_and_only_adds(tmp_path):
    """`status --json` is a stable interface (DESIGN.md): the old fields, as before, first."""
    lifecycle(tmp_path)
    rows = run("status", "--json", "--now", LATER).json()
    settings = Settings(timezone=ZONE)
    now = datetime.fromisoformat(LATER).replace(tzinfo=ZoneInfo(ZONE))
    with Ledger.open() as ledger:
        before = [r.as_json(settings.tz) for r in ledger.status(settings, now)]
    assert [dict(list(r.items())[:len(b)]) for r, b in zip(rows, before, strict=True)] == before
    assert all(list(r)[len(b):] == ["outcome_at", "timeline"] for r, b in zip(rows, before,
                                                                              strict=True))


def test_everything_is_escaped(home):
    nasty = "<script>alert('x')</script> & \"Sons\" Ltd"
    role = "<img src=x onerror=alert(1)> Engineer"
    settings = Settings(timezone=ZONE)
    tz = ZoneInfo(ZONE)
    iv = Interview(uid="esc@x", recurrence_id=None, summary="Interview", company=nasty,
                   role=role, start=datetime(2026, 12, 1, 10, tzinfo=tz),
                   end=datetime(2026, 12, 1, 11, tzinfo=tz), employer_tz=ZONE,
                   interviewers=(Person("Ann <b>&amp;</b> O'Neil", "ann@x.com"),),
                   recruiter=None)
    with Ledger.open() as ledger:
        ledger.remember([iv], [], settings, datetime(2026, 12, 1, 12, tzinfo=tz))
    text = run("status", "--html", "-", "--now", "2026-12-02T09:00").out
    assert "<script" not in text and "<img" not in text and "<b>&amp;" not in text
    page = Page(text)
    assert page.apps[0]["name"] == nasty
    assert role in page.apps[0]["text"]
    assert "Ann <b>&amp;</b> O'Neil" in page.apps[0]["text"]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Sons&quot;" in text


def test_page_is_self_contained(tmp_path):
    lifecycle(tmp_path)
    _rows, text = both(LATER)
    page = Page(text)
    assert page.links and all(link.startswith("#") for link in page.links)
    assert not re.search(r"https?:|//[a-z]|@import|url\(|<script|<link|<img|<iframe", text)
    assert "default-src 'none'" in text  # and the browser is told to load nothing either
    assert "@media print" in text and "@media (max-width" in text
    assert '<main>' in text and '<nav aria-label="Applications">' in text


def test_written_atomically_to_a_file(tmp_path):
    lifecycle(tmp_path)
    out = tmp_path / "site" / "status.html"
    out.parent.mkdir()
    out.write_text("old")
    r = run("status", "--html", str(out), "--now", LATER)
    assert r.out == ""
    assert "2 applications" in r.err
    assert out.read_text(encoding="utf-8") == run("status", "--html", "-", "--now", LATER).out
    assert [p.name for p in out.parent.iterdir()] == ["status.html"]  # no temporary left


def test_bad_targets_are_usage_errors(tmp_path):
    r = cli("status", "--html", str(tmp_path / "missing" / "s.html"), *OPTS)
    assert r.code == 2 and "does not exist" in r.err
    r = cli("status", "--html", "-", "--json", *OPTS)
    assert r.code == 2 and "stdout" in r.err


def test_no_applications_yet():
    text = run("status", "--html", "-", "--now", T0).out
    assert "0 applications" in text and "No applications seen yet" in text
    assert Page(text).apps == []
