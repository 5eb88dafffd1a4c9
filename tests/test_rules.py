"""The planner's rules and guards (DESIGN.md table), one test each, time frozen."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup_cal.config import Settings
from followup_cal.model import Busy, Contact, History, Instruction, Interview, Outcome, Person
from followup_cal.rules import plan

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
S = Settings(timezone="America/New_York")
JANE = Person("Jane Roe", "jane@acme.example")
BOB = Person("Bob Stone", "bob@acme.example")
RITA = Person("Rita Recruiter", "rita@acme.example")


def at(y, m, d, h=0, mi=0, tz=NY) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=tz)


def interview(start: datetime, minutes: int = 60, **kw) -> Interview:
    base = dict(
        uid=kw.pop("uid", "iv-1@example.com"), recurrence_id=None, summary="Interview with Acme",
        company="Acme", role="Designer", start=start, end=start + timedelta(minutes=minutes),
        employer_tz=str(start.tzinfo), interviewers=(JANE, BOB), recruiter=RITA,
    )
    base.update(kw)
    return Interview(**base)


NOTHING = History()


def run(ivs, now, history=NOTHING, busy=(), settings=S):
    return plan(ivs, history, busy, settings, now)


def kinds(items, kind):
    return [f for f in items if f.kind == kind]


# Tue 2026-03-03 14:00-15:00 New York: a plain weekday interview.
TUE = at(2026, 3, 3, 14)


def test_thank_you_email_per_interviewer_an_hour_after():
    """Seeds 002/003: a separate e-mail to each person, the same day."""
    items = run([interview(TUE)], now=at(2026, 3, 3, 8))
    emails = kinds(items, "thank_you_email")
    assert {f.recipient for f in emails} == {JANE, BOB}
    assert all(f.start == at(2026, 3, 3, 16) and f.channel == "email" for f in emails)


def test_thank_you_email_late_but_in_window_goes_now_and_after_window_is_dropped():
    """A thank-you three days late is worse than none (DESIGN.md guards)."""
    late = run([interview(TUE)], now=at(2026, 3, 3, 19, 7) + timedelta(seconds=30))
    assert {f.start for f in kinds(late, "thank_you_email")} == {at(2026, 3, 3, 19, 8)}
    # past the candidate's bedtime (waking_hours): their next morning, still < 24 h
    night = run([interview(TUE)], now=at(2026, 3, 3, 22, 7))
    assert {f.start for f in kinds(night, "thank_you_email")} == {at(2026, 3, 4, 8)}
    gone = run([interview(TUE)], now=at(2026, 3, 4, 15, 1))
    assert kinds(gone, "thank_you_email") == []


def test_no_interviewers_known_still_one_thank_you():
    items = run([interview(TUE, interviewers=())], now=at(2026, 3, 3, 8))
    emails = kinds(items, "thank_you_email")
    assert len(emails) == 1 and emails[0].recipient is None


def test_note_next_business_morning_within_48h():
    """Seeds 001/002: mailed within 48 h (24 preferred), on a business day."""
    items = run([interview(TUE)], now=at(2026, 3, 3, 8))
    notes = kinds(items, "thank_you_note")
    assert {f.start for f in notes} == {at(2026, 3, 4, 9)}
    assert {f.channel for f in notes} == {"mail"}


def test_note_after_friday_interview_is_mailed_the_same_day():
    fri = at(2026, 3, 6, 14)
    notes = kinds(run([interview(fri)], now=at(2026, 3, 6, 8)), "thank_you_note")
    assert {f.start for f in notes} == {at(2026, 3, 6, 16)}
    assert all(f.start - (fri + timedelta(hours=1)) <= timedelta(hours=48) for f in notes)


def test_note_skips_a_public_holiday():
    """Thanksgiving 2026 is Thu Nov 26: a Wednesday interview's note goes Friday."""
    wed = at(2026, 11, 25, 10)
    notes = kinds(run([interview(wed)], now=at(2026, 11, 25, 8)), "thank_you_note")
    assert {f.start for f in notes} == {at(2026, 11, 27, 9)}


def test_check_in_one_week_later_by_email_mid_morning_employer_zone():
    """Seeds 001/003: no date given, an e-mail after a week."""
    items = run([interview(TUE)], now=at(2026, 3, 3, 8))
    first = kinds(items, "check_in")[0]
    assert first.start == at(2026, 3, 10, 10) and first.channel == "email"
    assert first.recipient == RITA and first.timezone == "America/New_York"


def test_check_in_business_day_after_decision_date():
    """Seeds 000/004: the decision date has come and gone, then ask."""
    iv = interview(TUE, instruction=Instruction(on=date(2026, 3, 13), explicit=False))
    first = kinds(run([iv], now=at(2026, 3, 3, 8)), "check_in")[0]
    assert first.start.date() == date(2026, 3, 16)  # Fri 13th -> Mon 16th


def test_instruction_followed_exactly_channel_and_day_nothing_before():
    """Seed 001: called the next day when told to e-mail in a week = pushy."""
    told = Instruction(on=date(2026, 3, 6), explicit=True, channel="phone")
    items = run([interview(TUE, instruction=told)], now=at(2026, 3, 3, 8))
    checks = kinds(items, "check_in")
    assert checks[0].start == at(2026, 3, 6, 10) and checks[0].channel == "phone"
    assert checks[0].busy  # a call holds the slot
    assert all(f.start >= at(2026, 3, 6) for f in checks)


def test_call_avoids_busy_and_stays_mid_morning():
    told = Instruction(on=date(2026, 3, 6), explicit=True, channel="phone")
    busy = [Busy(at(2026, 3, 6, 9, 30), at(2026, 3, 6, 10, 40))]
    call = kinds(run([interview(TUE, instruction=told)], now=at(2026, 3, 3, 8), busy=busy),
                 "check_in")[0]
    assert call.start == at(2026, 3, 6, 10, 45)
    assert call.end <= at(2026, 3, 6, 11, 30)


def test_call_day_full_moves_to_next_business_day():
    told = Instruction(on=date(2026, 3, 6), explicit=True, channel="phone")
    busy = [Busy(at(2026, 3, 6, 9), at(2026, 3, 6, 12))]
    call = kinds(run([interview(TUE, instruction=told)], now=at(2026, 3, 3, 8), busy=busy),
                 "check_in")[0]
    assert call.start == at(2026, 3, 9, 10)  # Friday full -> Monday


def test_dst_change_keeps_ten_oclock():
    """US clocks change on 2026-03-08: the check-in stays at 10:00 local."""
    first = kinds(run([interview(TUE)], now=at(2026, 3, 3, 8)), "check_in")[0]
    local = first.start.astimezone(NY)
    assert (local.hour, local.minute) == (10, 0)
    assert local.utcoffset() == timedelta(hours=-4)  # EDT, the interview was in EST


def test_employer_zone_mid_morning_across_european_dst():
    """Berlin changes on 2026-03-29, New York earlier: still 10:00 in Berlin."""
    iv = interview(at(2026, 3, 24, 10, tz=BERLIN))
    calls = replace(S, check_in_channel="phone")
    checks = kinds(run([iv], now=at(2026, 3, 20), settings=calls), "check_in")
    assert checks and all(
        (c.start.astimezone(BERLIN).hour, c.start.astimezone(BERLIN).minute) == (10, 0)
        for c in checks
    )
    assert checks[0].timezone == "Europe/Berlin"


def test_at_most_two_inquiries_a_week_apart_then_move_on():
    """Seeds 000/001/003: once a week at most, two in all, then let go."""
    items = run([interview(TUE)], now=at(2026, 3, 3, 8))
    checks = kinds(items, "check_in")
    assert len(checks) == S.max_inquiries == 2
    assert checks[1].start - checks[0].start >= timedelta(days=7)
    move_on = kinds(items, "move_on")
    assert len(move_on) == 1 and move_on[0].start >= checks[-1].start + timedelta(days=7)
    assert max(f.start for f in items) == move_on[0].start


def test_max_inquiries_is_a_setting():
    items = run([interview(TUE)], now=at(2026, 3, 3, 8), settings=replace(S, max_inquiries=3))
    assert len(kinds(items, "check_in")) == 3


def test_logged_contact_counts_and_pushes_next_check_in():
    contact = Contact("ACME", at(2026, 3, 9, 15), "phone")
    items = run([interview(TUE)], now=at(2026, 3, 3, 8), history=History(contacts=(contact,)))
    checks = kinds(items, "check_in")
    assert len(checks) == 1
    assert checks[0].start >= contact.at + timedelta(days=7)


def test_outcome_stops_everything_after_it():
    out = Outcome("Acme", "rejected", at(2026, 3, 4, 12))
    items = run([interview(TUE)], now=at(2026, 3, 3, 8), history=History(outcomes=(out,)))
    assert items and all(f.start < out.at for f in items)
    assert not kinds(items, "check_in") and not kinds(items, "move_on")


def test_heard_back_drops_pending_inquiries_and_a_later_round_starts_again():
    heard = Outcome("Acme", "heard-back", at(2026, 3, 5, 12))
    items = run([interview(TUE)], now=at(2026, 3, 3, 8), history=History(outcomes=(heard,)))
    assert not kinds(items, "check_in") and kinds(items, "thank_you_email")
    round2 = interview(at(2026, 3, 12, 14), uid="iv-2@example.com")
    items = run([interview(TUE), round2], now=at(2026, 3, 3, 8),
                history=History(outcomes=(heard,)))
    checks = kinds(items, "check_in")
    assert len(checks) == 2 and checks[0].interview_uid == "iv-2@example.com"


def test_two_rounds_one_application_inquiries_not_doubled():
    round2 = interview(at(2026, 3, 10, 14), uid="iv-2@example.com", company="ACME Inc.")
    items = run([interview(TUE), round2], now=at(2026, 3, 3, 8))
    assert len(kinds(items, "thank_you_email")) == 4  # each round thanks each person
    checks = kinds(items, "check_in")
    assert len(checks) == 2 and {c.interview_uid for c in checks} == {"iv-2@example.com"}
    assert checks[0].start.date() == date(2026, 3, 17)


def test_never_weekend_or_holiday():
    """Thanksgiving week: nothing lands on Thu 26, Sat 28 or Sun 29 Nov 2026."""
    ivs = [interview(at(2026, 11, d, 10), uid=f"iv-{d}@x", company=f"Co{d}") for d in (18, 20, 25)]
    items = run(ivs, now=at(2026, 11, 17))
    assert items
    for f in items:
        if f.kind == "prep":
            continue
        day = f.start.astimezone(ZoneInfo(f.timezone)).date()
        assert day.weekday() < 5 and day != date(2026, 11, 26), f


def test_nothing_in_the_past_and_overdue_check_in_moves_to_next_free_slot():
    now = at(2026, 3, 20, 12)  # the first check-in (Mar 10) was never done
    items = run([interview(TUE)], now=now)
    assert all(f.start >= now for f in items)
    first = kinds(items, "check_in")[0]
    assert first.start == at(2026, 3, 23, 10)  # today's window is over; Monday 10:00
    assert not kinds(items, "thank_you_email") and not kinds(items, "thank_you_note")


def test_prep_before_an_upcoming_interview_only():
    items = run([interview(TUE)], now=at(2026, 3, 3, 8))
    assert [f.start for f in kinds(items, "prep")] == [at(2026, 3, 3, 13)]
    assert kinds(run([interview(TUE)], now=at(2026, 3, 3, 13, 30)), "prep") == []


def test_identities_deterministic_and_not_the_interview_uid():
    a = run([interview(TUE)], now=at(2026, 3, 3, 8))
    b = run([interview(TUE)], now=at(2026, 3, 3, 8))
    assert [f.uid for f in a] == [f.uid for f in b]
    assert len({f.uid for f in a}) == len(a)
    assert all(f.uid != "iv-1@example.com" and f.uid.endswith("@followup-cal") for f in a)


def test_identity_stable_when_an_unrelated_interview_is_added():
    alone = {f.key: f.uid for f in run([interview(TUE)], now=at(2026, 3, 3, 8))}
    other = interview(at(2026, 3, 4, 9), uid="other@x", company="Globex")
    both = {f.key: f.uid for f in run([interview(TUE), other], now=at(2026, 3, 3, 8))}
    assert alone.items() <= both.items()


def test_moved_interview_keeps_identities_and_moves_follow_ups():
    before = run([interview(TUE)], now=at(2026, 3, 3, 8))
    after = run([interview(TUE + timedelta(days=1))], now=at(2026, 3, 3, 8))
    assert {f.uid for f in before} == {f.uid for f in after}
    b = {f.uid: f.start for f in before}
    assert any(b[f.uid] != f.start for f in after)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        plan([], History(), (), S, datetime(2026, 3, 3))


def test_organizer_only_call_thanks_the_organizer_and_checks_in_in_her_zone():
    """A recruiter's own call (no attendees): she gets the thank-you and the check-in."""
    from conftest import plan_json

    items = plan_json("event_organizer_only_phone_screen.ics", now="2026-03-05T08:00")
    thanks = [p for p in items if p["kind"] == "thank_you_email"]
    assert [t["recipient"]["email"] for t in thanks] == ["pepper.potts@starkindustries.com"]
    first = next(p for p in items if p["kind"] == "check_in")
    assert first["timezone"] == "America/Denver"
    assert first["start"] == "2026-03-23T12:00:00-04:00"  # 10:00 in Denver


def test_outcome_tag_with_a_date_takes_effect_then():
    """`#rejected 2026-03-12` in the notes: follow-ups until then stay, none after."""
    iv = interview(TUE, tags=(("rejected", "2026-03-12"),))
    items = run([iv], now=at(2026, 3, 3, 8))
    assert items and max(f.start for f in items) < at(2026, 3, 12, 9)
    assert [f.start for f in kinds(items, "check_in")] == [at(2026, 3, 10, 10)]


def test_contacted_tag_counts_as_an_inquiry_in_the_users_zone():
    iv = interview(at(2026, 3, 3, 10, tz=BERLIN), tags=(("contacted", "2026-03-09 phone"),))
    checks = kinds(run([iv], now=at(2026, 3, 3, 1)), "check_in")
    assert len(checks) == 1
    assert checks[0].start >= at(2026, 3, 16, 9)  # 7 days after 09:00 New York on the 9th


def test_malformed_tag_is_ignored():
    iv = interview(TUE, tags=(("contacted", "2026-13-45 phone"),))
    assert len(kinds(run([iv], now=at(2026, 3, 3, 8)), "check_in")) == 2


def test_a_follow_up_already_shown_is_not_moved_to_now_again():
    """Written at 16:00 and due: at 17:00 it is not planned again at 17:00."""
    first = run([interview(TUE)], now=at(2026, 3, 3, 8))
    shown = frozenset(f.uid for f in kinds(first, "thank_you_email"))
    later = run([interview(TUE)], now=at(2026, 3, 3, 17), history=History(shown=shown))
    assert kinds(later, "thank_you_email") == []
    unseen = run([interview(TUE)], now=at(2026, 3, 3, 17))
    assert {f.start for f in kinds(unseen, "thank_you_email")} == {at(2026, 3, 3, 17)}
