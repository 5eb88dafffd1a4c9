"""Decision dates and instructions in the notes (seeds 001, 002, 003, 004)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup_cal.config import Settings
from followup_cal.notes import grammar, mentions, read

NY = ZoneInfo("America/New_York")
S = Settings(timezone="America/New_York")
TUE = datetime(2026, 3, 3, 14, tzinfo=NY)

PHRASES = ["by Friday", "by Friday morning", "by August 1st", "on Mon", "by Tuesday, March 10",
           "by the 3rd of April", "by 4/15", "before 2026-05-01", "tomorrow", "by Dec 2",
           "by 1 June 2027", "around Wednesday"]
# Not "next Thursday": dateparser reads the coming Thursday; the notes reader reads the
# Thursday of next week, the later of the two meanings (seed 001: never early).


@pytest.mark.parametrize("weekday", range(7))
@pytest.mark.parametrize("phrase", PHRASES)
def test_fast_path_agrees_with_dateparser(phrase, weekday):
    """The notes reader's own date shapes give what dateparser (PREFER_DATES_FROM=future)
    gives, without its start-up cost."""
    from dateparser.search import search_dates

    base = datetime(2026, 3, 2, 14) + timedelta(days=weekday)
    hits = search_dates(phrase, languages=["en"],
                        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"})
    found = mentions(phrase, base.date(), grammar(("en",)))
    assert found[-1].first == hits[-1][1].date()


@pytest.mark.parametrize(
    ("notes", "on", "explicit", "channel"),
    [
        ("Rita said they expect a decision by March 13.", date(2026, 3, 13), False, None),
        ("We will make a decision by August 1st", date(2026, 8, 1), False, None),
        ("You should hear by Friday", date(2026, 3, 6), False, None),
        ("They will decide next week.", date(2026, 3, 13), False, None),  # by its Friday
        ("Michael said: email me in one week.", date(2026, 3, 10), True, "email"),
        ("OK to call if I don't hear by Friday morning.", date(2026, 3, 6), True, "phone"),
        ("We'll call you by Friday.", date(2026, 3, 6), False, None),  # their plan, not ours
        ("Feel free to reach out on the 12th.", date(2026, 3, 12), True, None),
        ("Expect to hear back within two weeks.", date(2026, 3, 17), False, None),
        ("Follow up with me by 3/20.", date(2026, 3, 20), True, None),
        ("Decision by March 13. Call me on the 16th if you have not heard.",
         date(2026, 3, 16), True, "phone"),  # an instruction beats a decision date
    ],
)
def test_notes(notes, on, explicit, channel):
    found = read(notes, TUE, S).instruction
    assert (found.on, found.explicit, found.channel) == (on, explicit, channel)


@pytest.mark.parametrize(
    "notes",
    ["30 minute phone screen with Nora Blake. She will call my cell.",
     "Great chat about the 2 teams; 45 minutes.",
     "We sat down for about an hour and talked design.",
     "Decision was due by March 1.",  # before the interview: stale
     "#rejected"],
)
def test_no_date_no_instruction(notes):
    assert read(notes, TUE, S).instruction is None
