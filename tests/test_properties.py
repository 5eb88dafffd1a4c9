"""Planner invariants over random interviews, contacts and outcomes (DESIGN.md guards)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup_cal.config import Settings
from followup_cal.detect import company_key
from followup_cal.model import Busy, Contact, History, Instruction, Interview, Outcome, Person
from followup_cal.rules import plan
from followup_cal.slots import Calendar

S = Settings(timezone="America/New_York")
ZONES = ["America/New_York", "America/Los_Angeles", "Europe/Berlin", "Asia/Tokyo"]
COMPANIES = ["Acme", "Globex", "Initech", "Hooli"]
PEOPLE = [Person(f"P{i}", f"p{i}@example.com") for i in range(4)]
BASE = datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC"))


@st.composite
def interviews(draw, n: int):
    out = []
    for i in range(n):
        zone = draw(st.sampled_from(ZONES))
        start = BASE + timedelta(minutes=draw(st.integers(0, 120 * 24 * 4)) * 15)
        start = start.astimezone(ZoneInfo(zone))
        instruction = None
        if draw(st.booleans()):
            instruction = Instruction(
                on=start.date() + timedelta(days=draw(st.integers(0, 30))),
                explicit=draw(st.booleans()),
                channel=draw(st.sampled_from([None, "email", "phone", "mail"])),
            )
        out.append(Interview(
            uid=f"iv-{i}@example.com", recurrence_id=None, summary="Interview",
            company=draw(st.sampled_from(COMPANIES)), role=None, start=start,
            end=start + timedelta(minutes=draw(st.sampled_from([30, 60, 90]))),
            employer_tz=zone,
            interviewers=tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True))),
            recruiter=draw(st.sampled_from([None, *PEOPLE])), instruction=instruction,
        ))
    return out


def moments():
    return st.integers(0, 150 * 24).map(lambda h: BASE + timedelta(hours=h))


@st.composite
def scenarios(draw):
    ivs = draw(interviews(draw(st.integers(1, 6))))
    contacts = tuple(draw(st.lists(st.builds(
        Contact, company=st.sampled_from(COMPANIES), at=moments(),
        via=st.sampled_from(["email", "phone", "mail"])), max_size=3)))
    outcomes = tuple(draw(st.lists(st.builds(
        Outcome, company=st.sampled_from(COMPANIES), at=moments(),
        kind=st.sampled_from(["offer", "rejected", "withdrawn", "heard-back"])), max_size=2)))
    busy = tuple(
        Busy(t, t + timedelta(minutes=draw(st.sampled_from([30, 60, 120]))))
        for t in draw(st.lists(moments(), max_size=8))
    )
    now = draw(moments())
    return ivs, History(contacts, outcomes), busy, now


FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(scenarios())
def test_invariants(scenario):
    ivs, history, busy, now = scenario
    items = plan(ivs, history, busy, S, now)
    cal = Calendar(S, busy)
    assert len({f.uid for f in items}) == len(items)
    ends = {iv.uid: iv.end for iv in ivs}
    for f in items:
        assert f.start >= now, "nothing in the past"
        mine = f.start.astimezone(S.tz)
        if f.channel != "phone" and f.kind != "prep":
            # the candidate's own tasks: in their waking hours (issue 11)
            assert cal.awake(f.start), f
        if f.kind == "thank_you_email":
            # weekends and holidays too, never past 24 h (seeds 000, 002, 004)
            assert f.start - ends[f.interview_uid] <= timedelta(
                hours=S.thank_you_email_deadline_hours)
        elif f.kind != "prep" and f.channel != "phone":
            assert cal.is_business_day(mine.date()), f
        if f.channel == "phone":
            local = f.start.astimezone(ZoneInfo(f.timezone))
            assert cal.is_business_day(local.date()), f
            local = f.start.astimezone(ZoneInfo(f.timezone)).time()
            assert S.call_window_start <= local and f.end.astimezone(
                ZoneInfo(f.timezone)).time() <= S.call_window_end
            assert cal.is_free(f.start, f.end)
    for company in COMPANIES:
        key = company_key(company)
        final = [o.at for o in history.outcomes
                 if company_key(o.company) == key and o.kind != "heard-back"]
        mine = [f for f in items if company_key(f.company) == key]
        if final:
            assert all(f.start < min(final) for f in mine), "nothing after an outcome"
        heard = max((o.at for o in history.outcomes
                     if company_key(o.company) == key and o.kind == "heard-back"), default=None)
        made = sorted(c.at for c in history.contacts if company_key(c.company) == key
                      and (heard is None or c.at > heard))
        asked = sorted(made + [f.start for f in mine if f.kind == "check_in"])
        planned = [f for f in mine if f.kind == "check_in"]
        assert len(made) + len(planned) <= max(S.max_inquiries, len(made))
        for a, b in zip(asked, asked[1:], strict=False):
            if b in {f.start for f in planned}:
                assert b - a >= timedelta(days=S.inquiry_gap_days), "one inquiry a week"
        assert len([f for f in mine if f.kind == "move_on"]) <= 1


@FAST
@given(scenarios(), interviews(1))
def test_identities_stable_when_unrelated_interview_added(scenario, extra):
    ivs, history, busy, now = scenario
    other = extra[0]
    unrelated = Interview(**{**other.__dict__, "uid": "unrelated@x", "company": "Zeta Unrelated"})
    before = {f.key: f.uid for f in plan(ivs, history, busy, S, now)}
    after = {f.key: f.uid for f in plan([*ivs, unrelated], history, busy, S, now)
             if f.company != "Zeta Unrelated"}
    assert before == after


def test_call_window_respected_for_all_zones_over_a_year():
    """Every business day of 2026, in every zone: the slot is 10:00 local."""
    cal = Calendar(S, ())
    for zone in ZONES:
        day = date(2026, 1, 1)
        while day.year == 2026:
            t = cal.mid_morning(day, zone, BASE - timedelta(days=400), 15)
            local = t.astimezone(ZoneInfo(zone))
            assert local.time() == time(10, 0) and cal.is_business_day(local.date())
            day += timedelta(days=9)
