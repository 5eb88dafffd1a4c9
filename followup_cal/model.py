"""The data that flows from sources through the planner to sinks.

Everything is frozen: the planner must be able to trust that nothing it was
given changes under it, and equal inputs must give equal plans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .words import CHANNELS, KINDS, OUTCOMES  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from .config import Settings

CORP_SUFFIX = re.compile(
    r"[,.]?\s+(inc|corp|corporation|co|llc|ltd|gmbh|ag|sa|plc|limited|company)\.?$", re.I
)


def company_key(name: str) -> str:
    """Two spellings of one employer are one application ("Acme Corp" = "ACME"): the
    domain's naming rule, used by the parser, the planner and the ledger alike."""
    key = CORP_SUFFIX.sub("", name.strip()).casefold()
    return re.sub(r"[^\w]+", " ", key).strip()


@dataclass(frozen=True)
class Person:
    name: str | None
    email: str | None

    @property
    def label(self) -> str:
        return self.name or self.email or "the interviewer"

    def key(self) -> str:
        """What makes two people the same recipient (address first: names vary)."""
        return (self.email or self.name or "").strip().lower()


@dataclass(frozen=True)
class Instruction:
    """What the employer said about following up, read from the notes.

    `explicit` is True for an instruction to contact them ("email me in one
    week"): that channel, that day, nothing before it. Otherwise `on` is the
    date they expect to decide, and the check-in goes after it.
    """

    on: date
    explicit: bool
    channel: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Interview:
    uid: str
    recurrence_id: str | None
    summary: str
    company: str
    role: str | None
    start: datetime
    end: datetime
    employer_tz: str
    interviewers: tuple[Person, ...]
    recruiter: Person | None
    instruction: Instruction | None = None
    tags: tuple[tuple[str, str], ...] = ()
    source: str = ""
    # issue 14: who may write back for the employer (mail replies end the inquiries)
    organizer: Person | None = None
    employer_domains: tuple[str, ...] = ()  # the people's own domains, no free mail/tools
    # issue 10: whose conversation ("candidacy", or "informational": thank-yous only),
    # and what the notes say about reaching them: away until `back_on`, channels to
    # avoid ("please don't call"), the channel they asked for ("call me")
    conversation: str = "candidacy"
    back_on: date | None = None
    avoid_channels: tuple[str, ...] = ()
    prefer_channel: str | None = None

    @property
    def identity(self) -> str:
        """Stable across runs: one occurrence of one calendar event."""
        return f"{self.uid}#{self.recurrence_id}" if self.recurrence_id else self.uid


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Contact:
    """An inquiry the user made outside the plan (`contacted`, or a tag)."""

    company: str
    at: datetime
    via: str


@dataclass(frozen=True)
class Outcome:
    company: str
    kind: str
    at: datetime


@dataclass(frozen=True)
class History:
    """What already happened, as far as the planner needs to know."""

    contacts: tuple[Contact, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    # uids of follow-ups already written to a calendar whose time has come: the
    # user has seen them, so they are not moved to "now" again on the next run
    shown: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FollowUp:
    uid: str
    key: str  # the identity the uid is a hash of: (interview, kind, recipient, ordinal)
    kind: str
    channel: str | None
    company: str
    role: str | None
    interview_uid: str
    interview_identity: str
    recipient: Person | None
    start: datetime
    end: datetime
    timezone: str
    summary: str
    description: str
    busy: bool = False

    def as_json(self, user_tz) -> dict:
        return {
            "uid": self.uid,
            "kind": self.kind,
            "channel": self.channel,
            "company": self.company,
            "role": self.role,
            "interview_uid": self.interview_uid,
            "recipient": (
                {"name": self.recipient.name, "email": self.recipient.email}
                if self.recipient
                else None
            ),
            "start": self.start.astimezone(user_tz).isoformat(),
            "end": self.end.astimezone(user_tz).isoformat(),
            "timezone": self.timezone,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class SourceData:
    """What a source hands to the planner."""

    interviews: tuple[Interview, ...]
    busy: tuple[Busy, ...]
    me: frozenset[str]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attendee:
    person: Person
    cutype: str = "INDIVIDUAL"  # ROOM and RESOURCE are not interviewers
    partstat: str = "NEEDS-ACTION"
    role: str = "REQ-PARTICIPANT"
    is_self: bool = False  # Google marks the user's own entry


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence of a calendar event, whatever calendar it came from.

    Sources (.ics, Google) produce these; the event parser only reads them, so
    the rules of what counts as an interview exist once.
    """

    uid: str
    recurrence_id: str | None
    summary: str
    description: str
    start: datetime | date
    end: datetime | date
    tzid: str | None  # the IANA zone the event was written in, None for UTC/floating
    status: str = "CONFIRMED"
    transparent: bool = False
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    ours: bool = False  # one of our own follow-ups
    source: str = ""
    # issue 10, which version is true (versions.merge): the version's SEQUENCE, its
    # latest DTSTAMP/LAST-MODIFIED, its calendar's METHOD, and whether it is an
    # override (its own RECURRENCE-ID) rather than what its series says
    sequence: int = 0
    stamp: datetime | None = None
    method: str = ""
    override: bool = False

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


@dataclass(frozen=True)
class Window:
    """Interviews are looked for in [start, end]; busy times in [busy_start, busy_end].

    Call slots are never in the past, so busy times before now are not needed.
    """

    start: datetime
    end: datetime
    busy_start: datetime
    busy_end: datetime

    @classmethod
    def around(cls, now: datetime, settings: Settings) -> Window:
        end = now + timedelta(days=settings.lookahead_days)
        # check-ins land up to weeks after the last interview: know those days too
        margin = settings.check_in_days + settings.max_inquiries * settings.inquiry_gap_days
        margin += settings.move_on_days + settings.slot_search_days
        return cls(now - timedelta(days=settings.lookback_days), end,
                   now - timedelta(days=1), end + timedelta(days=margin))


@dataclass(frozen=True)
class Reading:
    """What a source read: its events, untouched by any policy (calendars.base.Source)."""

    events: tuple[CalendarEvent, ...]
    me: frozenset[str] = frozenset()  # addresses the service knows are the user's
    warnings: tuple[str, ...] = ()
