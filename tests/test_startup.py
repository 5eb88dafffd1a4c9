"""Start-up hygiene (issue 5): `--help` and `export` load only what they use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Google client, OAuth, date parsing, calendar parsing, holidays, tables: none is
# needed to print help; `export` needs the calendar ones but never Google's.
HEAVY = ("googleapiclient", "google.auth", "google_auth_oauthlib", "google_auth_httplib2",
         "httplib2", "dateparser", "icalendar", "recurring_ical_events", "x_wr_timezone",
         "holidays", "rich", "imaplib", "caldav", "niquests")
GOOGLE = ("googleapiclient", "google.auth", "google_auth_oauthlib", "google_auth_httplib2",
          "httplib2", "caldav", "niquests")

RUN = """
import json, sys
from followup_cal.cli import cli
try:
    cli(sys.argv[1:], prog_name="followup-cal")
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True,
                          timeout=60)
    marker = [line for line in proc.stdout.splitlines() if line.startswith("MODULES ")]
    assert marker, proc.stderr
    return set(json.loads(marker[-1][len("MODULES "):]))


def heavy_in(modules: set[str], names=HEAVY) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


@pytest.mark.parametrize("args", [("--help",), ("export", "--help"), ("plan", "--help"),
                                  ("--version",)])
def test_help_imports_nothing_heavy(args, home):
    modules = loaded(*args)
    assert "followup_cal.cli" in modules
    assert heavy_in(modules) == []


def test_export_does_not_load_google_or_tables(tmp_path, home):
    ics = tmp_path / "one.ics"
    ics.write_text("\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
        "UID:one@example.com", "DTSTAMP:20260301T120000Z", "DTSTART:20260317T150000Z",
        "DTEND:20260317T160000Z", "SUMMARY:Interview with Acme (Analyst)",
        "ORGANIZER;CN=Rita Ray:mailto:rita@acme.com",
        "ATTENDEE;CN=Dana Lee;PARTSTAT=ACCEPTED:mailto:dana@acme.com",
        "ATTENDEE;CN=Sam Carter;PARTSTAT=ACCEPTED:mailto:sam.carter@gmail.com",
        "DESCRIPTION:First round.", "END:VEVENT", "END:VCALENDAR", ""]), encoding="utf-8")
    out = tmp_path / "out.ics"
    args = ("export", str(ics), "-o", str(out), "--now", "2026-03-18T09:00",
            "--timezone", "America/New_York", "--me", "sam.carter@gmail.com")
    modules = loaded(*args)
    assert out.read_text(encoding="utf-8").count("BEGIN:VEVENT") > 0
    assert "icalendar" in modules
    assert heavy_in(modules, (*GOOGLE, "rich", "dateparser", "imaplib")) == []
    # the public holidays are cached now (holidays_cache): the package is not imported again
    assert heavy_in(loaded(*args), ("holidays",)) == []
