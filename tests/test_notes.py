"""What the notes mean (issue 10): one reader, table-driven, over phrasings as
recruiters write them and the boilerplate meeting tools add (seeds 000, 001, 003, 004).

Every case is read as if noted at an interview on Tue 2026-03-03, 14:00 New York.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from followup_cal.config import Settings
from followup_cal.notes import read

NY = ZoneInfo("America/New_York")
TUE = datetime(2026, 3, 3, 14, tzinfo=NY)


@dataclass(frozen=True)
class R:
    """The expected reading: decision/instruction day, explicit, channel, back, avoid, prefer."""

    on: date | None = None
    explicit: bool = False
    channel: str | None = None
    back: date | None = None
    avoid: tuple[str, ...] = ()
    prefer: str | None = None


def d(month: int, day: int) -> date:
    return date(2026, month, day)


ZOOM = (
    "Rita Ray is inviting you to a scheduled Zoom meeting.\n"
    "Topic: Interview - Sam Carter\n"
    "Time: Mar 5, 2026 10:00 AM Eastern Time (US and Canada)\n"
    "Join Zoom Meeting\nhttps://us02web.zoom.us/j/81234567890?pwd=aBcD1234\n"
    "Meeting ID: 812 3456 7890\nPasscode: 120426\n---\nOne tap mobile\n"
    "+16465588656,,81234567890#,,,,*120426# US (New York)\n"
    "Dial by your location\n        +1 646 558 8656 US (New York)\n"
    "Meeting ID: 812 3456 7890\nFind your local number: https://us02web.zoom.us/u/kdE4\n"
)
TEAMS = (
    "________________________________________________________________________________\n"
    "Microsoft Teams meeting\nJoin on your computer, mobile app or room device\n"
    "Click here to join the meeting<https://teams.microsoft.com/l/meetup-join/19%3a>\n"
    "Meeting ID: 245 678 901 234\nPasscode: aB3cD4\nDownload Teams | Join on the web\n"
    "Or call in (audio only)\n+1 323-555-0166,,123456789#   United States, Los Angeles\n"
    "Phone Conference ID: 123 456 789#\nFind a local number | Reset PIN\n"
    "Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options\n"
    "________________________________________________________________________________\n"
)
MEET = (
    "\n-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-\n"
    "Join with Google Meet: https://meet.google.com/abc-defg-hij\n"
    "Or dial: (US) +1 347-555-0123 PIN: 123 456 789#\n"
    "More phone numbers: https://tel.meet/abc-defg-hij?pin=1234567890\n"
    "Learn more about Meet at: https://support.google.com/a/users/answer/9282720\n"
    "Please do not edit this section.\n"
    "-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-\n"
)
CALENDLY = (
    "Event Name: 30 Minute Phone Screen\n\n"
    "Event Date/Time: 10:00am - Thursday, March 5, 2026 (Eastern Time)\n\n"
    "Location: This is a Zoom web conference.\n\n"
    "Invitee: Sam Carter\nInvitee Email: sam.carter@gmail.com\n\n"
    "Need to make changes to this event?\n"
    "Cancel: https://calendly.com/cancellations/AB12-CD34\n"
    "Reschedule: https://calendly.com/reschedulings/AB12-CD34\n\nPowered by Calendly.com\n"
)
GREENHOUSE = (
    "Hi Sam,\n\nThanks for your interest in Acme! Please confirm your availability by "
    "Thursday.\nThe hiring team will make a decision by March 20.\n\n"
    "Interview Kit: https://app.greenhouse.io/guides/123456/people/7890\n"
)

EN = ("en",)
CASES = [
    # -- decision dates, in English --------------------------------------------------
    (EN, "Rita said they expect a decision by March 13.", R(d(3, 13))),
    (EN, "We will make a decision by August 1st", R(d(8, 1))),
    (EN, "You should hear by Friday", R(d(3, 6))),
    (EN, "They will decide next week.", R(d(3, 13))),  # by its Friday
    (EN, "We'll call you by Friday.", R(d(3, 6))),  # their plan, not an instruction
    (EN, "Expect to hear back within two weeks.", R(d(3, 17))),
    (EN, "A take-home due Friday … we'll decide by Mar 20", R(d(3, 20))),
    (EN, "Take-home assignment is due Friday; we'll decide by March 20.", R(d(3, 20))),
    (EN, "Please submit the case study by 3/9. Decision by 3/18.", R(d(3, 18))),
    (EN, "By March 20 we will decide, after your take-home (due Friday).", R(d(3, 20))),
    (EN, "We'll let you know by the 15th.", R(d(3, 15))),
    (EN, "Decision by the 3rd", R(d(4, 3))),  # the next 3rd after the interview
    (EN, "Timeline: 2-3 weeks.", R(d(3, 24))),  # a range: its later bound
    (EN, "Expect to hear in 2 to 3 weeks", R(d(3, 24))),
    (EN, "They'll get back to me in two to three weeks", R(d(3, 24))),
    (EN, "We'll have feedback in 3-5 business days", R(d(3, 10))),
    (EN, "Decision end of next week.", R(d(3, 13))),
    (EN, "We should have an answer EOD Wednesday", R(d(3, 4))),
    (EN, "Next steps: the hiring manager will decide early next week.", R(d(3, 10))),
    (EN, "Offers go out by end of month.", R(d(3, 31))),
    (EN, "Decision next month.", R(d(4, 30))),
    (EN, "You'll hear from us by Tuesday, March 10", R(d(3, 10))),
    (EN, "We expect to wrap up interviews by 4/15 and decide shortly after.", R(d(4, 15))),
    (EN, "Final decision on 2026-03-20", R(d(3, 20))),
    (EN, "We aim to make a decision in about a week.", R(d(3, 10))),
    (EN, "We'll get back to you by next Friday.", R(d(3, 13))),  # the Friday of next week
    (EN, "Hiring team meets Thursday to decide.", R(d(3, 5))),
    (EN, "Decision by the end of this week.", R(d(3, 6))),
    (EN, "Should hear back by 3/13 at the latest, maybe earlier", R(d(3, 13))),
    (EN, "Decision between March 10-12", R(d(3, 12))),
    (EN, "Decision in the next week or two.", R(d(3, 17))),
    (EN, "We expect to decide by mid-April.", R(d(4, 20))),
    (EN, "Offers go out early April", R(d(4, 10))),
    (EN, "We may decide soon; no date yet.", R()),  # "may" is no month here
    (EN, "I'm out until March 20th, decision by end of March.", R(d(3, 31), back=d(3, 21))),
    # -- instructions to the candidate ------------------------------------------------
    (EN, "Michael said: email me in one week.", R(d(3, 10), True, "email")),
    (EN, "OK to call if I don't hear by Friday morning.", R(d(3, 6), True, "phone")),
    (EN, "Feel free to reach out on the 12th.", R(d(3, 12), True)),
    (EN, "Follow up with me by 3/20.", R(d(3, 20), True)),
    (EN, "Decision by March 13. Call me on the 16th if you have not heard.",
     R(d(3, 16), True, "phone", prefer="phone")),
    (EN, "Ping me next week if you haven't heard anything.", R(d(3, 9), True)),
    # -- nothing to read ----------------------------------------------------------------
    (EN, "Nothing said about timing.", R()),
    (EN, "Decision was due by March 1.", R()),  # before the interview: stale
    (EN, "30 minute phone screen with Nora Blake. She will call my cell.", R()),
    (EN, "Great chat about the 2 teams; 45 minutes.", R()),
    (EN, "Bring 3 copies of your resume. Parking on 5th Ave.", R()),
    # -- absences: no inquiry before they are back ------------------------------------
    (EN, "I'm out of office until March 16.", R(back=d(3, 17))),
    (EN, "OOO next week, back on the 16th.", R(back=d(3, 16))),
    (EN, "Rita is on vacation next week.", R(back=d(3, 14))),
    (EN, "I'll be back on March 23.", R(back=d(3, 23))),
    (EN, "She's traveling until 3/20.", R(back=d(3, 21))),
    (EN, "Out of office 3/9–3/13.", R(back=d(3, 14))),
    (EN, "I'm away from March 9 to March 13; decision by March 20.",
     R(d(3, 20), back=d(3, 14))),
    (EN, "I'm out of office until Dec 7", R(back=d(12, 8))),
    (EN, "I'm OOO the week of March 16.", R(back=d(3, 21))),  # back after that week
    # -- channels -----------------------------------------------------------------------
    (EN, "Please don't call; email only.", R(avoid=("mail", "phone"), prefer="email")),
    (EN, "No calls please, she prefers email.", R(avoid=("mail", "phone"), prefer="email")),
    (EN, "Call me if you have any questions.", R(prefer="phone")),
    (EN, "Please do not call the office.", R(avoid=("phone",))),
    # -- meeting boilerplate: its dates, IDs and numbers are not the employer's -----
    (EN, ZOOM, R()),
    (EN, "We'll decide by March 13.\n\n" + ZOOM, R(d(3, 13))),
    (EN, TEAMS, R()),
    (EN, "Decision within 2 weeks.\n" + TEAMS, R(d(3, 17))),
    (EN, "Decision within 2 weeks." + MEET, R(d(3, 17))),
    (EN, CALENDLY, R()),
    (EN, GREENHOUSE, R(d(3, 20))),  # "confirm your availability by Thursday" is Sam's
    (EN, "Please reply to confirm by 3/5. You'll hear back from us the following week.",
     R(d(3, 13))),
    (EN, "Use meeting ID 812 3456 7890; decision by March 13.", R(d(3, 13))),
    # Google keeps notes typed in its web page as HTML
    (EN, "<b>Rita</b>: take-home due Friday<br>We&#39;ll decide by <i>March 20</i>.<br><br>"
         '<a href="https://meet.google.com/abc-defg-hij">Join</a>', R(d(3, 20))),
    # -- German -----------------------------------------------------------------------
    (("en", "de"), "Wir melden uns bis Freitag.", R(d(3, 6))),
    (("en", "de"), "Entscheidung bis zum 15.", R(d(3, 15))),
    (("en", "de"), "Rückmeldung in 2-3 Wochen.", R(d(3, 24))),
    (("en", "de"), "Die Entscheidung fällt nächste Woche.", R(d(3, 13))),
    (("en", "de"), "Bis 20. März entscheiden wir.", R(d(3, 20))),
    (("en", "de"), "Ich bin bis 16.03. im Urlaub.", R(back=d(3, 17))),
    (("en", "de"), "Entscheidung Mitte April.", R(d(4, 20))),
    (("en", "de"), "Ich bin ab dem 16.03. wieder im Büro.", R(back=d(3, 16))),
    (("en", "de"), "Sie hören bis Ende nächster Woche von uns.", R(d(3, 13))),
    (("en", "de"), "Rufen Sie mich gerne nächste Woche an.",
     R(d(3, 9), True, "phone", prefer="phone")),
    (("en", "de"), "Bitte rufen Sie mich nicht an.", R(avoid=("phone",))),
    (("en", "de"), "Bitte nicht anrufen, nur per E-Mail.",
     R(avoid=("mail", "phone"), prefer="email")),
    (("en", "de"), "Aufgabe bis Freitag abgeben, Entscheidung bis 20.03.", R(d(3, 20))),
    # -- French -----------------------------------------------------------------------
    (("en", "fr"), "Nous reviendrons vers vous d'ici le 15.", R(d(3, 15))),
    (("en", "fr"), "Décision la semaine prochaine.", R(d(3, 13))),
    (("en", "fr"), "Retour sous 2 à 3 semaines.", R(d(3, 24))),
    (("en", "fr"), "Je suis absente jusqu'au 16 mars.", R(back=d(3, 17))),
    (("en", "fr"), "Exercice à rendre vendredi, décision le 20 mars.", R(d(3, 20))),
    (("en", "fr"), "Merci de ne pas m'appeler.", R(avoid=("phone",))),
    (("en", "fr"), "Décision fin avril.", R(d(4, 30))),
    (("en", "fr"), "Je serai de retour le 16 mars.", R(back=d(3, 16))),
    (("en", "fr"), "Nous vous donnerons une réponse d'ici vendredi.", R(d(3, 6))),
    # -- Spanish ----------------------------------------------------------------------
    (("en", "es"), "Te diremos algo la próxima semana.", R(d(3, 13))),
    (("en", "es"), "Decisión antes del 15.", R(d(3, 15))),
    (("en", "es"), "Estoy de vacaciones hasta el 16 de marzo.", R(back=d(3, 17))),
    (("en", "es"), "Le daremos una respuesta antes del viernes.", R(d(3, 6))),
    (("en", "es"), "Entregar la prueba técnica el viernes; decidiremos el 20 de marzo.",
     R(d(3, 20))),
    # -- Dutch and Italian --------------------------------------------------------------
    (("en", "nl"), "We laten je volgende week weten wat de beslissing is.", R(d(3, 13))),
    (("en", "nl"), "Beslissing binnen 2-3 weken.", R(d(3, 24))),
    (("en", "nl"), "Ik ben op vakantie tot 16 maart.", R(back=d(3, 17))),
    (("en", "it"), "Ti faremo sapere entro il 15.", R(d(3, 15))),
    (("en", "it"), "Sono in ferie fino al 16 marzo.", R(back=d(3, 17))),
    (("en", "it"), "Decisione la prossima settimana.", R(d(3, 13))),
]


def _reading(languages, notes):
    got = read(notes, TUE, Settings(timezone="America/New_York", languages=languages))
    i = got.instruction
    return R(i.on if i else None, i.explicit if i else False, i.channel if i else None,
             got.back_on, got.avoid, got.prefer)


@pytest.mark.parametrize(("languages", "notes", "expected"), CASES,
                         ids=[f"{i:02d}-{c[1][:40]}" for i, c in enumerate(CASES)])
def test_notes_reading(languages, notes, expected):
    assert _reading(languages, notes) == expected


def test_at_least_sixty_phrasings():
    assert len(CASES) >= 60


def test_german_words_need_german_configured():
    """`languages` drives the reading: German notes say nothing to an English reader."""
    assert _reading(EN, "Entscheidung bis zum 15.") == R()
    assert _reading(("en", "de"), "Entscheidung bis zum 15.") == R(d(3, 15))
