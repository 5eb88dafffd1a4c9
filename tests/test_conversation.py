"""Whose conversation it is, what its notes mean, in the user's languages (issue 10):
the plan of real-looking calendars, through the CLI, with the present fixed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup_cal.calendars import prefilter as prefiltering

from conftest import cli, data, plan_json

NOW = "2026-03-16T08:00"  # the Monday before every interview in these files
INQUIRIES = ("check_in", "move_on")


def kinds(plan: list[dict], company: str) -> list[str]:
    return [f["kind"] for f in plan if f["company"] == company]


def first(plan: list[dict], company: str, kind: str = "check_in") -> dict:
    return next(f for f in plan if f["company"] == company and f["kind"] == kind)


def arrives_on(item: dict) -> str:
    """The day an e-mail check-in arrives in the employer's mid-morning: its reminder
    is at the candidate's last waking moment before that (issue 11), so an evening
    reminder in New York is for the next business morning in Paris or Berlin."""
    local = datetime.fromisoformat(item["start"]).astimezone(ZoneInfo(item["timezone"]))
    day = local.date() if local.time() <= time(10, 0) else local.date() + timedelta(days=1)
    while day.weekday() >= 5:  # a Friday evening's reminder is for Monday
        day += timedelta(days=1)
    return day.isoformat()


def configure(home, languages: list[str]) -> None:
    quoted = ", ".join(f'"{code}"' for code in languages)
    (home / "config.toml").write_text(f"languages = [{quoted}]\n", encoding="utf-8")


# -- whose conversation ----------------------------------------------------------------

def test_the_user_as_interviewer_gets_no_follow_ups():
    """Sam organises "Interview: Jane Doe (candidate)", sits on a panel "Interviewing
    candidates", runs a debrief and a phone screen naming "candidate": none is Sam's
    candidacy, nor is Greenhouse's interviewer invite (an interview kit, a scorecard).
    Acme (Sam interviewed there) and Sam's own "Phone interview with Globex"
    entry (Sam organised it, it names no candidate) are."""
    plan = plan_json("user_is_interviewer_organizer.ics", now=NOW)
    assert {f["company"] for f in plan} == {"Acme Corp", "Globex"}
    recipients = {(f["recipient"] or {}).get("email") for f in plan}
    assert not recipients & {"jane.doe.designs@gmail.com", "priya@brightloop.io",
                             "omar.haddad@outlook.com", "talent@brightloop.io"}
    assert "check_in" in kinds(plan, "Acme Corp")


def test_media_interviews_get_nothing_but_a_media_company_is_an_employer():
    plan = plan_json("podcast_interview.ics", now=NOW)
    assert {f["company"] for f in plan} == {"Vox Media"}
    assert first(plan, "Vox Media", "thank_you_email")["role"] == "Video Producer"
    assert set(kinds(plan, "Vox Media")) >= {"thank_you_email", "check_in", "move_on"}


def test_informational_interview_gets_thank_yous_only_recruiter_chats_are_candidacies():
    plan = plan_json("informational_interview.ics", now=NOW)
    initech = kinds(plan, "Initech")
    assert "thank_you_email" in initech and "thank_you_note" in initech
    assert not set(initech) & set(INQUIRIES)
    for company in ("Hooli", "Globex"):  # "coffee chat with a recruiter", "Recruiter call"
        assert set(kinds(plan, company)) >= {"thank_you_email", "check_in", "move_on"}
    assert first(plan, "Globex")["recipient"]["email"] == "talent@globex.com"


# -- what the notes mean ------------------------------------------------------------------

def test_take_home_deadline_is_not_the_decision_date():
    """"take-home due by March 20 … we'll make a decision next Friday" (Greenhouse, with
    Zoom boilerplate dated Mar 17): the check-in is the business day after Fri Mar 27."""
    plan = plan_json("notes_takehome_due_vs_decision.ics", now=NOW)
    assert first(plan, "Pied Piper")["start"].startswith("2026-03-30T10:00")


def test_out_of_office_until_no_inquiry_before_they_are_back_and_no_call():
    """Outlook/Teams: "out of office until March 30 … Please don't call; email is best"."""
    plan = plan_json("notes_out_of_office_until.ics", now=NOW)
    checks = [f for f in plan if f["kind"] == "check_in"]
    assert checks and all(f["start"] >= "2026-03-31" for f in checks)
    assert {f["channel"] for f in checks} == {"email"}


def test_decision_by_the_15th_is_the_next_15th():
    """Calendly: "decision by the 15th" on Mar 17 is Apr 15; the Calendly block's own
    "Tuesday, March 17, 2026" and "30 Minute" are not read."""
    plan = plan_json("notes_decision_by_the_15th.ics", now=NOW)
    assert first(plan, "Umbrella Co")["start"].startswith("2026-04-16T10:00")


# -- languages ------------------------------------------------------------------------------

LANGUAGE_FILES = [
    # file, language, company, role, first check-in with the language, without it
    ("fr_entretien_avec.ics", "fr", "Atelier Lumière", None, "2026-03-30", "2026-03-24"),
    ("de_vorstellungsgespraech_bei.ics", "de", "Nordlicht Energie GmbH", None,
     "2026-03-30", "2026-03-24"),
    ("es_entrevista_con.ics", "es", "Hidroeléctrica Ibérica", "Ingeniera de datos",
     "2026-04-08", None),  # "Entrevista" is no English interview word
]


@pytest.mark.parametrize(("name", "language", "company", "role", "configured", "english"),
                         LANGUAGE_FILES)
def test_summary_shapes_and_decision_dates_in_the_configured_language(
        home, name, language, company, role, configured, english):
    plan = plan_json(name, now=NOW)
    if english is None:
        assert plan == []
    else:
        assert arrives_on(first(plan, company)) == english
    configure(home, ["en", language])
    plan = plan_json(name, now=NOW)
    assert {(f["company"], f["role"]) for f in plan} == {(company, role)}
    assert arrives_on(first(plan, company)) == configured


def test_german_please_do_not_call_keeps_check_ins_off_the_phone(home):
    configure(home, ["en", "de"])
    home.joinpath("config.toml").write_text(
        'languages = ["en", "de"]\ncheck_in_channel = "phone"\n', encoding="utf-8")
    plan = plan_json("de_vorstellungsgespraech_bei.ics", now=NOW)
    assert {f["channel"] for f in plan if f["kind"] == "check_in"} == {"email"}


@pytest.mark.parametrize("name", [f[0] for f in LANGUAGE_FILES])
def test_prefilter_keeps_what_the_configured_language_calls_an_interview(
        home, name, monkeypatch):
    """The pre-filter's interview words come from the same vocabulary as the parser's."""
    configure(home, ["en", "fr", "de", "es"])
    args = ("plan", "--json", "--ics", data(name), "--now", NOW, "--timezone",
            "America/New_York")
    monkeypatch.setattr(prefiltering, "ENABLED", True)
    fast = cli(*args)
    monkeypatch.setattr(prefiltering, "ENABLED", False)
    full = cli(*args)
    assert fast.code == full.code == 0
    assert fast.out == full.out and fast.out.strip() != "[]"
