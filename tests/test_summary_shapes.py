"""Company and role from the summary shapes people and recruiters write."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from followup_cal.config import Settings
from followup_cal.detect import Detector, company_and_role, company_key
from followup_cal.model import Attendee, CalendarEvent, Person

DETECTOR = Detector.build(Settings(), ["me@gmail.com"])
T = datetime(2026, 3, 3, 15, tzinfo=timezone.utc)


def event(summary: str, organizer: str | None = None, attendees=()) -> CalendarEvent:
    return CalendarEvent(
        uid="x", recurrence_id=None, summary=summary, description="", start=T, end=T,
        tzid=None, organizer=Person(None, organizer) if organizer else None,
        attendees=tuple(Attendee(Person(n, e)) for n, e in attendees),
    )


@pytest.mark.parametrize(
    ("summary", "company", "role"),
    [
        ("Interview with Acme", "Acme", None),
        ("Interview with Acme Corp (Product Designer)", "Acme Corp", "Product Designer"),
        ("Acme – Designer interview", "Acme", "Designer"),
        ("Phone screen: Acme (Analyst)", "Acme", "Analyst"),
        ("Onsite – Hooli – Staff Engineer", "Hooli", "Staff Engineer"),
        ("Technical screen - Globex", "Globex", None),
        ("Hiring manager interview - Vandelay Industries", "Vandelay Industries", None),
        ("Designer interview at Acme", "Acme", "Designer"),
        ("Northwind Health – Senior Product Designer panel interview", "Northwind Health",
         "Senior Product Designer"),
        ("Final round | Initech | Senior Analyst", "Initech", "Senior Analyst"),
        ("Interview with Pied Piper for the Backend Engineer role", "Pied Piper",
         "Backend Engineer"),
    ],
)
def test_shapes(summary, company, role):
    assert company_and_role(summary, event(summary), DETECTOR) == (company, role)


def test_person_after_with_falls_back_to_the_organizers_domain():
    ev = event("Interview with Jane Roe", "recruiting@acmerobotics.com",
               [("Jane Roe", "jane@acmerobotics.com")])
    assert company_and_role(ev.summary, ev, DETECTOR)[0] == "Acmerobotics"


def test_free_mail_domains_are_not_companies():
    ev = event("Phone interview", "someone@gmail.com", [("Bob", "bob@globex.com")])
    assert company_and_role(ev.summary, ev, DETECTOR)[0] == "Globex"


@pytest.mark.parametrize("a,b", [("Acme Corp", "ACME"), ("Acme, Inc.", "acme"),
                                 ("Globex LLC", "Globex")])
def test_company_key_joins_spellings(a, b):
    assert company_key(a) == company_key(b)


STRIPE = (("Jane Doe", "jane@stripe.com"), ("Sam Carter", "me@gmail.com"))


@pytest.mark.parametrize(
    ("summary", "company", "role"),
    [
        ("Zoom: Interview - Software Engineer @ Stripe", "Stripe", "Software Engineer"),
        ("Interview: Jane Doe <> Sam Carter (Stripe)", "Stripe", None),
        ("[Stripe] Technical Interview", "Stripe", None),
        ("Sam Carter and Jane Doe: Stripe interview", "Stripe", None),
        ("Interview for Software Engineer at Stripe", "Stripe", "Software Engineer"),
        ("Virtual Onsite (Stripe) - Day 1", "Stripe", None),
        ("Phone Screen w/ Stripe", "Stripe", None),
        ("Coding interview (Stripe, SWE II)", "Stripe", "SWE II"),
        ("Interview with Jane Doe", "Stripe", None),
    ],
)
def test_the_attendees_domain_names_the_company(summary, company, role):
    ev = event(summary, "recruiting@stripe.com", STRIPE)
    assert company_and_role(summary, ev, DETECTOR) == (company, role)


def test_a_scheduling_tools_address_is_not_the_company():
    ev = event("Phone interview", "no-reply@greenhouse.io", [("Bob", "bob@globex.com")])
    assert company_and_role(ev.summary, ev, DETECTOR)[0] == "Globex"
