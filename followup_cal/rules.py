"""The planner: interviews and what already happened in, follow-ups out.

Pure: no clock, no files, no network. Every number comes from `Settings`;
every rule cites the seed it comes from (shared/seeds/).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import texts
from .config import Settings
from .detect import tag_history  # tags in the notes are read where the notes are
from .model import Busy, Contact, FollowUp, History, Interview, Outcome, Person, company_key
from .slots import UTC, Calendar, HolidaySource, local_day

FINAL = ("offer", "rejected", "withdrawn")
UID_DOMAIN = "followup-cal"


def follow_up_key(iv: Interview, kind: str, recipient: Person | None, ordinal: int = 0) -> str:
    who = recipient.key() if recipient else ""
    return "\x1f".join((iv.identity, kind, who, str(ordinal)))


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def uid_for(key: str) -> str:
    """Deterministic, never the interview's own UID (re-import updates, not duplicates)."""
    return f"{key_digest(key).hex()[:32]}@{UID_DOMAIN}"


def _ceil_minute(t: datetime) -> datetime:
    floor = t.replace(second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(minutes=1)


class _Planner:
    def __init__(self, settings: Settings, busy: Sequence[Busy], now: datetime,
                 holidays: HolidaySource | None = None):
        self.s = settings
        self.now = _ceil_minute(now.astimezone(UTC))
        self.user_zone = settings.timezone
        self.cal = Calendar(settings, busy, holidays)

    def make(self, iv: Interview, kind: str, channel: str | None, who: Person | None,
             start: datetime, minutes: int, zone: str, ordinal: int = 0,
             arrive: datetime | None = None, previous: datetime | None = None) -> FollowUp:
        """`arrive`: when an e-mail is to land or a call to happen, if not at `start`."""
        key = follow_up_key(iv, kind, who, ordinal)
        start = start.astimezone(UTC)  # an instant: a local time in a repeated hour never
        # equals one in another zone (PEP 495); sinks convert to the zone they need
        slot = texts.Slot(arrive or start, zone, self.user_zone, previous)
        return FollowUp(
            uid=uid_for(key), key=key, kind=kind, channel=channel, company=iv.company,
            role=texts.role(iv), interview_uid=iv.uid, interview_identity=iv.identity,
            recipient=who, start=start, end=start + timedelta(minutes=minutes),
            timezone=zone, summary=texts.summary(kind, channel, iv, who, slot),
            description=texts.description(kind, channel, iv, who, ordinal, slot),
            busy=channel == "phone",
        )

    def place(self, start: datetime, deadline: datetime, business: bool) -> datetime | None:
        """`start`, or the first moment after it that is not past, in the candidate's
        waking hours and (if `business`) on a business day.

        None when that is later than `deadline`: a thank-you three days late is
        worse than none (DESIGN.md guards).
        """
        t = max(start, self.now)
        # each turn reaches a business day or a waking hour: two turns a day at most
        for _ in range(2 * self.s.slot_search_days):
            day = local_day(t, self.user_zone)
            if business and not self.cal.is_business_day(day):
                t = max(t, self.cal.at(self.cal.next_business_day(day), self.s.workday_start,
                                       self.user_zone))
            elif not self.cal.awake(t):
                t = self.cal.next_awake(t)
            else:
                break
        return t if t <= deadline else None

    def same_evening(self, t: datetime, after: datetime) -> datetime:
        """A task due after the candidate's bedtime moves back to their last waking
        moment that evening, if that is still after `after` (the interview's end)."""
        if self.cal.awake(t):
            return t
        evening = self.cal.last_awake(t, days=1)
        return evening if evening is not None and evening >= max(after, self.now) else t

    # -- per interview: prep, thank-you email, thank-you note ---------------------

    def prep(self, iv: Interview) -> list[FollowUp]:
        """Before an upcoming interview: ask about timing, cards, resume (000-004).

        Exactly `prep_minutes_before` before the start in real time. When the
        candidate is asleep then but awake for the interview, it moves into their
        waking hours: that morning if it is still before the start, else the
        evening before. An interview outside their waking hours keeps it exact.
        """
        begins = iv.start.astimezone(UTC)
        start = begins - timedelta(minutes=self.s.prep_minutes_before)
        if not self.cal.awake(start) and self.cal.awake(begins):
            morning = self.cal.waking(local_day(begins, self.user_zone))[0]
            evening = self.cal.last_awake(start)
            start = morning if start < morning < begins else evening or start
        if start < self.now:
            return []
        minutes = min(self.s.prep_minutes, self.s.prep_minutes_before) or self.s.prep_minutes
        minutes = min(minutes, max(1, int((begins - start).total_seconds() // 60)))
        return [self.make(iv, "prep", None, None, start, minutes, self.user_zone)]

    def recipients(self, iv: Interview) -> tuple[Person | None, ...]:
        # A panel gets one each; with nobody known, one reminder still helps (002).
        return iv.interviewers or (None,)

    def thank_you_emails(self, iv: Interview) -> list[FollowUp]:
        """Same day, about an hour after the end, never past 24 h (000, 002, 004).

        Weekends and holidays too: the interviewer worked that day (DESIGN.md "Time").
        Inside the candidate's waking hours: the same evening when the hour after
        falls past their bedtime, else their next morning.
        """
        s = self.s
        end = iv.end.astimezone(UTC)
        start = self.same_evening(end + timedelta(minutes=s.thank_you_email_delay_minutes), end)
        deadline = end + timedelta(hours=s.thank_you_email_deadline_hours)
        at = self.place(start, deadline, business=False)
        if at is None:
            return []
        return [self.make(iv, "thank_you_email", "email", who, at, s.task_minutes,
                          self.user_zone) for who in self.recipients(iv)]

    def thank_you_notes(self, iv: Interview) -> list[FollowUp]:
        """Mailed the next business morning; within 48 h, on a business day (001, 002)."""
        s, zone = self.s, self.user_zone
        end = iv.end.astimezone(UTC)
        deadline = end + timedelta(hours=s.thank_you_note_deadline_hours)
        start = self.cal.at(self.cal.business_day_after(local_day(end, zone)),
                            s.thank_you_note_time, zone)
        if start > deadline:  # e.g. a Friday interview: mail it the same evening
            start = self.same_evening(end + timedelta(minutes=s.thank_you_note_delay_minutes),
                                      end)
        at = self.place(start, deadline, business=True)
        if at is None:
            return []
        return [self.make(iv, "thank_you_note", "mail", who, at, s.task_minutes, zone)
                for who in self.recipients(iv)]

    # -- per application: inquiries and the stop ------------------------------------

    def reminder(self, arrive: datetime, not_before: datetime) -> datetime | None:
        """When the candidate writes an e-mail meant to arrive at `arrive`.

        At `arrive` itself when they are awake then on a business day of theirs;
        else their last waking moment on a business day before it: the e-mail is
        scheduled to send (DESIGN.md "Time"). None when that is before `not_before`.
        """
        at = self.cal.last_awake(arrive, business=True)
        return at if at is not None and at >= not_before else None

    def inquiries(self, ivs: list[Interview], made: list[Contact]) -> list[FollowUp]:
        """Check-ins after the latest round, spaced and capped, then move on.

        First: the employer's instruction exactly (001); else the business day
        after their decision date (000, 004); else a week later (001, 003).
        Then at most one inquiry per `inquiry_gap_days`, `max_inquiries` in all
        (000, 001, 003), and a `move_on` after the last one (001).
        """
        s = self.s
        anchor = ivs[-1]
        zone = anchor.employer_tz
        tz = ZoneInfo(zone)
        instruction = next(
            (iv.instruction for iv in reversed(ivs)
             if iv.instruction and iv.instruction.on >= anchor.start.astimezone(tz).date()),
            None,
        )
        channel = _reachable(ivs, None, s.check_in_channel)
        if instruction and instruction.explicit:
            day = self.cal.next_business_day(instruction.on)
            channel = _reachable(ivs, instruction.channel, channel)
        elif instruction:
            day = self.cal.business_day_after(instruction.on)
        else:
            end_day = anchor.end.astimezone(tz).date()
            day = self.cal.next_business_day(end_day + timedelta(days=s.check_in_days))
        back = max((iv.back_on for iv in ivs if iv.back_on), default=None)
        if back is not None:  # away ("out of office until Dec 7"): not before they are back
            day = max(day, self.cal.next_business_day(back))
        gap = timedelta(days=s.inquiry_gap_days)
        times = sorted(c.at.astimezone(UTC) for c in made)
        last = times[-1] if times else None
        count = len(times)
        out: list[FollowUp] = []
        recruiter = anchor.recruiter
        previous = last
        tries = 0
        while count < s.max_inquiries and tries < s.slot_search_days:
            not_before = max(self.now, anchor.end.astimezone(UTC),
                             last + gap if last else self.now)
            start_day = max(day, local_day(not_before, zone))
            minutes = s.call_minutes if channel == "phone" else s.task_minutes
            arrive = self.cal.mid_morning(start_day, zone, not_before, minutes)
            if arrive is None:
                return out
            at = arrive if channel == "phone" else self.reminder(arrive, not_before)
            if at is None:  # too late to write it before then: the next business day
                tries += 1
                day = self.cal.business_day_after(local_day(arrive, zone))
                continue
            count += 1
            out.append(self.make(anchor, "check_in", channel, recruiter, at, minutes, zone,
                                 ordinal=count, arrive=arrive, previous=previous))
            last = previous = arrive
            day = local_day(arrive + gap, zone)
            # further inquiries: e-mail, less intrusive (001), unless they said otherwise
            channel = _reachable(ivs, None, s.check_in_channel)
        if last is not None:
            after = max(last + timedelta(days=s.move_on_days), self.now)
            day = self.cal.next_business_day(local_day(after, self.user_zone))
            at = self.cal.at(day, s.workday_start, self.user_zone)
            if at < after:
                at = self.cal.at(self.cal.business_day_after(day), s.workday_start,
                                 self.user_zone)
            at = self.place(at, at + timedelta(days=s.slot_search_days), business=True)
            if at is not None:
                out.append(self.make(anchor, "move_on", None, None, at, s.task_minutes,
                                     self.user_zone))
        return out


def _reachable(ivs: list[Interview], asked: str | None, default: str) -> str:
    """The channel for an inquiry: the one asked for, else the one the notes prefer
    ("call me"), else `default`; never one they asked not to be reached by
    ("please don't call", "email only": issue 10)."""
    avoid = {c for iv in ivs for c in iv.avoid_channels}
    prefer = next((iv.prefer_channel for iv in reversed(ivs) if iv.prefer_channel), None)
    for channel in (asked, prefer, default, "email"):
        if channel and channel not in avoid:
            return channel
    return "email"


def plan(
    interviews: Iterable[Interview],
    history: History,
    busy: Sequence[Busy],
    settings: Settings,
    now: datetime,
    *,
    holidays: HolidaySource | None = None,
) -> list[FollowUp]:
    """Every follow-up still to do, in time order.

    `holidays` gives the public-holiday dates (default: the `holidays` package);
    callers pass a cached one so the planner itself never reads files.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    interviews = list(interviews)
    tags = tag_history(interviews, settings)
    contacts = (*history.contacts, *tags.contacts)
    outcomes = (*history.outcomes, *tags.outcomes)
    p = _Planner(settings, busy, now, holidays)

    apps: dict[str, list[Interview]] = defaultdict(list)
    for iv in interviews:
        apps[company_key(iv.company)].append(iv)

    out: list[FollowUp] = []
    for key, ivs in apps.items():
        ivs.sort(key=lambda iv: (iv.start, iv.identity))
        mine = [o for o in outcomes if company_key(o.company) == key]
        stop = _stop(mine)
        for iv in ivs:
            items = [*p.prep(iv), *p.thank_you_emails(iv), *p.thank_you_notes(iv)]
            out.extend(f for f in items if stop is None or f.start < stop)
        anchor = ivs[-1]
        heard = [o.at for o in mine if o.kind == "heard-back" and o.at >= anchor.start]
        if heard:
            continue  # they got back in touch: pending inquiries dropped
        since = max((o.at for o in mine if o.kind == "heard-back"), default=None)
        made = [c for c in contacts if company_key(c.company) == key
                and (since is None or c.at > since)]
        # an informational interview has no candidacy to ask about (issue 10)
        candidacy = [iv for iv in ivs if iv.conversation == "candidacy"]
        if candidacy:
            out.extend(f for f in p.inquiries(candidacy, made) if stop is None or f.start < stop)

    seen: set[str] = set()
    unique = []
    for f in sorted(out, key=lambda f: (f.start, f.company, f.kind,
                                        f.recipient.label if f.recipient else "", f.uid)):
        if f.uid not in seen and f.start >= now and f.uid not in history.shown:
            seen.add(f.uid)
            unique.append(f)
    return unique


def _stop(outcomes: list[Outcome]) -> datetime | None:
    """Nothing after an offer, a rejection or a withdrawal (DESIGN.md guards)."""
    return min((o.at for o in outcomes if o.kind in FINAL), default=None)
