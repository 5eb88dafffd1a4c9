"""The language files (issue 10): each one complete, readable, and only read when used."""

from __future__ import annotations

import re
import sys
from importlib import resources

import pytest

from followup_cal import vocab
from followup_cal.config import Settings
from followup_cal.detect import Detector, company_and_role
from followup_cal.model import Attendee, CalendarEvent, Person

SHIPPED = ("de", "en", "es", "fr", "it", "nl")


def test_the_package_ships_these_languages():
    assert set(SHIPPED) <= set(vocab.available())


@pytest.mark.parametrize("code", SHIPPED)
def test_every_file_is_complete_and_compiles(code):
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    text = resources.files("followup_cal").joinpath("lang", f"{code}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    for key in (*vocab.PATTERN_KEYS, *vocab.WORD_KEYS):
        section, name = key.split(".")
        assert name in data[section], f"{code}: {key} missing"
        if key in vocab.PATTERN_KEYS:
            for pattern in data[section][name]:
                re.compile(pattern)
    assert len(data["dates"]["weekdays"]) == 7 and len(data["dates"]["months"]) == 12
    assert data["dates"]["slash_order"] in ("md", "dm")


def test_a_language_without_a_file_only_reaches_dateparser():
    words = vocab.load(("en", "ja"))
    assert words.patterns("summary.interview") == vocab.load(("en",)).patterns(
        "summary.interview")


ME = "sam.carter@gmail.com"


@pytest.mark.parametrize(
    ("languages", "summary", "organizer", "company", "role"),
    [
        (("en", "fr"), "Entretien avec Atelier Lumière", "rh@atelier-lumiere.fr",
         "Atelier Lumière", None),
        (("en", "fr"), "Entretien chez Dassault Systèmes pour le poste de Chef de projet",
         "jobs@3ds.com", "Dassault Systèmes", "Chef de projet"),
        (("en", "de"), "Vorstellungsgespräch bei Nordlicht Energie GmbH",
         "personal@nordlicht-energie.de", "Nordlicht Energie GmbH", None),
        (("en", "de"), "Bewerbungsgespräch mit Müller & Söhne AG als Projektleiter",
         "hr@mueller-soehne.de", "Müller & Söhne AG", "Projektleiter"),
        (("en", "es"), "Entrevista con Hidroeléctrica Ibérica para el puesto de Ingeniera",
         "rrhh@hidroiberica.es", "Hidroeléctrica Ibérica", "Ingeniera"),
        (("en", "nl"), "Sollicitatiegesprek met Van Dijk Logistiek", "hr@vandijk.nl",
         "Van Dijk Logistiek", None),
        (("en", "it"), "Colloquio con Ferrovie Nord per il ruolo di Ingegnere",
         "hr@ferrovienord.it", "Ferrovie Nord", "Ingegnere"),
        # English, and a summary whose leftover is no job title: no role, never a fragment
        (("en",), "Interview with Acme - round 2 next steps", "rita@acme.com", "Acme", None),
        (("en",), "Acme interview: Jane Doe <> Sam", "rita@acme.com", "Acme", None),
        # parentheses: a job title's word or ending is a role; a place or a status is not
        (("en",), "Interview with Acme (Importer)", "rita@acme.com", "Acme", "Importer"),
        (("en",), "Interview with Acme (London)", "rita@acme.com", "Acme", None),
        (("en",), "Interview with Acme (virtual)", "rita@acme.com", "Acme", None),
        (("en",), "Interview with Acme (rescheduled)", "rita@acme.com", "Acme", None),
    ],
)
def test_company_whole_and_role_never_a_fragment(languages, summary, organizer, company, role):
    from datetime import datetime, timezone

    at = datetime(2026, 3, 17, 14, tzinfo=timezone.utc)
    ev = CalendarEvent(uid="x", recurrence_id=None, summary=summary, description="",
                       start=at, end=at, tzid=None, organizer=Person(None, organizer),
                       attendees=(Attendee(Person("Jane Doe", "jane@x.com")),
                                  Attendee(Person("Sam", ME))))
    detector = Detector.build(Settings(languages=languages), [ME])
    assert detector.is_interview_summary(summary)
    assert company_and_role(summary, ev, detector) == (company, role)


@pytest.mark.parametrize(("summary", "organizer", "mine"), [
    ("Interview with candidate Jane Doe", "no-reply@greenhouse.io", False),
    ("Interviewing candidates – Backend Engineer", "talent@brightloop.io", False),
    ("Podcast interview: The Design Hour", "maya@designhour.fm", False),
    ("Interview debrief – Jane Doe", "rita@acme.com", False),
    ("Interview: Jane Doe (candidate)", ME, False),
    ("Phone screen – Omar Haddad – candidate", ME, False),  # Sam organised it
    ("Final interview – candidate presentation", "rita@acme.com", True),  # Acme organised it
    ("Interview with Acme", ME, True),  # Sam's own entry
])
def test_whose_conversation(summary, organizer, mine):
    from datetime import datetime, timezone

    at = datetime(2026, 3, 17, 14, tzinfo=timezone.utc)
    ev = CalendarEvent(uid="x", recurrence_id=None, summary=summary, description="",
                       start=at, end=at, tzid=None, organizer=Person(None, organizer))
    detector = Detector.build(Settings(), [ME])
    assert (detector.interview(ev) is not None) is mine

