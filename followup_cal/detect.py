"""The event parser: a calendar event in, an Interview (or nothing) out.

It reads `CalendarEvent`s, which every source produces, so what counts as an
interview, who the interviewers are and what the employer said about
following up is decided here once (DESIGN.md "Recognising an interview").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .config import Settings
from .model import Attendee, Busy, CalendarEvent, Instruction, Interview, Person, SourceData
from .versions import merge

FREE_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
        "proton.me", "protonmail.com", "gmx.com", "gmx.de", "web.de", "fastmail.com",
        "hey.com", "zoho.com", "mail.com", "yandex.com",
    }
)
# Scheduling tools send invitations for employers: their domain is not the company.
TOOL_MAIL = frozenset(
    {
        "greenhouse.io", "lever.co", "hire.lever.co", "calendly.com", "goodtime.io",
        "myworkday.com", "workday.com", "ashbyhq.com", "smartrecruiters.com", "icims.com",
        "zoom.us", "google.com", "microsoft.com", "teams.microsoft.com", "gem.com",
    }
)
NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|notifications?|calendar)", re.I)
NOT_PEOPLE = ("ROOM", "RESOURCE", "GROUP", "UNKNOWN")
ROOM_DOMAINS = ("resource.calendar.google.com", "group.calendar.google.com")
HR_HINT = re.compile(r"recruit|talent|\bhr\b|^hr[._-]|careers|jobs|hiring|people|staffing", re.I)
SEPARATORS = re.compile(r"\s+[-–—|/]\s+|\s*[–—|]\s*|:\s+")
CORP_SUFFIX = re.compile(
    r"[,.]?\s+(inc|corp|corporation|co|llc|ltd|gmbh|ag|sa|plc|limited|company)\.?$", re.I
)
TAG = re.compile(r"^\s*#(offer|rejected|withdrawn|heard-back|contacted)\b(.*)$", re.I | re.M)

# An instruction to the candidate ("email me in one week", "OK to call if you
# haven't heard by Friday"), as opposed to the employer's own plan ("she will
# call you by Friday", which is a decision date).
_VERB = r"(?:e-?mail|call|phone|ring|text|write|reach out|follow[- ]up|check[- ]in|contact)"
CONTACT_VERB = re.compile(_VERB, re.I)
INSTRUCTION = re.compile(
    rf"\b{_VERB}\s+(?:to\s+)?(?:me|us|him|her|them)\b"
    rf"|\b(?:ok|okay|fine|feel free|welcome|you can|you may|you should|please|go ahead|"
    rf"don'?t hesitate)\b[^.;]{{0,40}}?\b{_VERB}"
    rf"|\b{_VERB}\b[^.;]{{0,40}}\bif (?:you|i|we) (?:don'?t|do not|haven'?t|have not)\b"
    rf"|^\s*(?:please\s+)?{_VERB}\b",
    re.I,
)
THEIR_ACTION = re.compile(rf"\b(?:we|i|she|he|they|someone)(?:\s+will|\s+would|\s+shall|"
                          rf"\s+may|'ll)\s+"
                          rf"(?:\w+\s+)?{_VERB}", re.I)
# "decision by", "hear back", "let you know": when they expect to decide.
DECISION_WORD = re.compile(
    r"\b(decid\w*|decision|hear\w*|get back|respond|news|update|offer|next steps?|"
    r"timeline|let (?:you|me) know|next round|expect\w*)\b",
    re.I,
)
# dateparser finds dates in "30 minute call" and "We": keep real date phrases only
DATEISH = re.compile(
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|\b(?:mon|tue|tues|wed|thu|"
    r"thur|thurs|fri|sat|sun)\b|january|february|march|april|\bmay\b|june|july|august|"
    r"september|october|november|december|\b(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|"
    r"nov|dec)\b|tomorrow|\d{1,2}[/.-]\d{1,2}|\d{4}-\d{2}-\d{2}|\d(?:st|nd|rd|th)\b|"
    r"\bnext (?:week|month)\b|\bin (?:a|one|\d+) (?:week|month)s?\b",
    re.I,
)
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
IN_N = re.compile(r"\b(?:in|within|after)\s+(a|an|one|two|three|four|five|six|\d+)\s+"
                  r"(day|business day|week)s?\b", re.I)
NEXT_WEEK = re.compile(r"\bnext week\b", re.I)
DAY_OF_MONTH = re.compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b(?!\s+of\b)", re.I)
THIS_WEEK = re.compile(r"\b(?:end of (?:the|this) week|this week)\b", re.I)


@dataclass(frozen=True)
class Detector:
    """Compiled patterns and the user's addresses: built once per run."""

    settings: Settings
    me: frozenset[str]
    include: tuple[re.Pattern, ...]
    exclude: tuple[re.Pattern, ...]
    include_any: tuple[re.Pattern, ...]  # the same, joined where that means the same
    exclude_any: tuple[re.Pattern, ...]

    @classmethod
    def build(cls, settings: Settings, me: Iterable[str]) -> Detector:
        return cls(
            settings=settings,
            me=frozenset(a.lower() for a in me),
            include=tuple(re.compile(p, re.I) for p in settings.interview_patterns),
            exclude=tuple(re.compile(p, re.I) for p in settings.exclude_patterns),
            include_any=_any_of(settings.interview_patterns),
            exclude_any=_any_of(settings.exclude_patterns),
        )

    def is_interview_summary(self, summary: str) -> bool:
        return any(p.search(summary) for p in self.include_any) and not any(
            p.search(summary) for p in self.exclude_any
        )

    def is_me(self, attendee: Attendee | Person | None) -> bool:
        if attendee is None:
            return False
        if isinstance(attendee, Attendee):
            if attendee.is_self:
                return True
            attendee = attendee.person
        return bool(attendee.email) and attendee.email.lower() in self.me

    def declined(self, event: CalendarEvent) -> bool:
        return any(self.is_me(a) and a.partstat.upper() == "DECLINED" for a in event.attendees)

    def interview(self, event: CalendarEvent) -> Interview | None:
        """The interview this event is, or None (all-day, cancelled, declined, not one)."""
        if event.ours or event.all_day or event.status.upper() == "CANCELLED":
            return None
        if not self.is_interview_summary(event.summary) or self.declined(event):
            return None
        interviewers = tuple(
            a.person
            for a in event.attendees
            if is_person(a) and not self.is_me(a) and a.partstat.upper() != "DECLINED"
            and a.role.upper() != "NON-PARTICIPANT"
        )
        organizer = event.organizer if not self.is_me(event.organizer) else None
        if not interviewers and organizer:
            interviewers = (organizer,)  # a recruiter's own phone screen: they are it
        interviewers = _unique(interviewers)
        company, role = company_and_role(event.summary, event, self)
        tzid = self.settings.company_timezone(company) or event.tzid or self.settings.timezone
        start_local = event.start.astimezone(ZoneInfo(tzid))
        return Interview(
            uid=event.uid,
            recurrence_id=event.recurrence_id,
            summary=event.summary,
            company=company,
            role=role,
            start=event.start,
            end=max(event.end, event.start),
            employer_tz=tzid,
            interviewers=interviewers,
            recruiter=recruiter(organizer, interviewers),
            instruction=read_instruction(event.description, start_local, self.settings),
            tags=read_tags(event.description),
            source=event.source,
        )

    def busy(self, event: CalendarEvent, tz: ZoneInfo) -> Busy | None:
        """Opaque, confirmed time the candidate is taken (call slots avoid it)."""
        if event.ours or event.transparent or self.declined(event):
            return None
        if event.status.upper() in ("CANCELLED", "TENTATIVE"):
            return None
        if event.all_day:
            start = datetime.combine(event.start, datetime.min.time(), tz)
            end = datetime.combine(max(event.end, event.start + timedelta(days=1)),
                                   datetime.min.time(), tz)
            return Busy(start, end)
        if event.end <= event.start:
            return None
        return Busy(event.start, event.end)


def _any_of(patterns: Iterable[str]) -> tuple[re.Pattern, ...]:
    """The patterns as one alternation when that means the same (one search per
    summary, not one per pattern: every summary of a large export is tried)."""
    patterns = tuple(patterns)
    one_by_one = tuple(re.compile(p, re.I) for p in patterns)
    if len(patterns) < 2 or any(re.search(r"\\\d|\(\?P=|\(\?\(", p) for p in patterns):
        return one_by_one  # a back-reference would point at another pattern's group
    try:
        return (re.compile("|".join(f"(?:{p})" for p in patterns), re.I),)
    except re.error:  # e.g. a pattern with flags of its own: (?x)...
        return one_by_one


def is_person(a: Attendee) -> bool:
    if a.cutype.upper() in NOT_PEOPLE:
        return False
    email = (a.person.email or "").lower()
    return not email.endswith(ROOM_DOMAINS)


def _unique(people: Iterable[Person]) -> tuple[Person, ...]:
    seen, out = set(), []
    for p in people:
        if p.key() and p.key() not in seen:
            seen.add(p.key())
            out.append(p)
    return tuple(out)


def recruiter(organizer: Person | None, interviewers: tuple[Person, ...]) -> Person | None:
    """The HR contact gets the check-in (seed 000); else the organizer."""
    for p in (organizer, *interviewers):
        if p and (HR_HINT.search(p.email or "") or HR_HINT.search(p.name or "")):
            return p
    if organizer:
        return organizer
    return interviewers[0] if interviewers else None


def _employer_domains(event: CalendarEvent, detector: Detector) -> list[str]:
    """E-mail domains of the employer's people: not the candidate's, not free mail,
    rooms or the scheduling tool that sent the invitation."""
    domains: list[str] = []
    for p in [event.organizer] + [a.person for a in event.attendees if is_person(a)]:
        if p is None or detector.is_me(p) or not p.email or "@" not in p.email:
            continue
        local, domain = p.email.lower().rsplit("@", 1)
        if (domain in FREE_MAIL or domain in TOOL_MAIL or domain.endswith(ROOM_DOMAINS)
                or NO_REPLY.match(local)):
            continue
        if domain not in domains:
            domains.append(domain)
    return domains


def _domain_labels(event: CalendarEvent, detector: Detector) -> list[str]:
    """The employer's name as its e-mail domain spells it ("acmecorp" from acmecorp.com)."""
    labels: list[str] = []
    for domain in _employer_domains(event, detector):
        parts = domain.split(".")
        label = re.sub(r"[^a-z0-9]", "", parts[-2] if len(parts) >= 2 else parts[0])
        if label and label not in labels:
            labels.append(label)
    return labels


def domain_company(event: CalendarEvent, detector: Detector) -> str | None:
    for domain in _employer_domains(event, detector):
        parts = domain.split(".")
        name = parts[-2] if len(parts) >= 2 else parts[0]
        return name[:1].upper() + name[1:]
    return None


# Words that say how or which round, not who: never a company, never a role.
NOISE = re.compile(
    r"\b(?:zoom|teams|google meet|meet|webex|skype|virtual|video|remote|in[- ]person|"
    r"technical|tech|coding|behaviou?ral|system design|phone|onsite|on-site|final|first|"
    r"second|third|initial|intro(?:ductory)?|follow-up|panel|hr|recruiter|screen(?:ing)?|"
    r"chat|call|meeting|loop|round(?: \d+)?|day \d+|part \d+|\d+(?:st|nd|rd|th)?)\b",
    re.I,
)
FILLER = re.compile(r"(?:\b(?:with|at|for|the|and|w/|via|re)\b|@|<>|&|\[|\]|w/)", re.I)
CORP_WORD = re.compile(r"\s+(?:inc|corp|corporation|co|llc|ltd|gmbh|ag|plc|group)\b\.?", re.I)
WORD = re.compile(r"[^\W_][\w&'.-]*")


def _label_span(text: str, labels: list[str]) -> tuple[int, int] | None:
    """Where the summary names the company its addresses name ("Acme Corp" ~ acmecorp)."""
    words = list(WORD.finditer(text))
    best = None
    for label in labels:
        for i in range(len(words)):
            joined = ""
            for j in range(i, min(i + 4, len(words))):
                joined += re.sub(r"\W", "", words[j].group()).lower()
                if joined == label or (len(joined) >= 4 and label.startswith(joined)):
                    span = (words[i].start(), words[j].end())
                    if best is None or span[1] - span[0] > best[1] - best[0]:
                        best = span
                elif not label.startswith(joined):
                    break
        if best:
            m = CORP_WORD.match(text, best[1])
            return (best[0], m.end()) if m else best
    return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" -–—:|/,.;()[]<>@")


def _is_name(text: str, names: set[str]) -> bool:
    return text.casefold() in names or "<>" in text


def _structural_company(text: str, names: set[str], detector: Detector) -> str | None:
    """The company by the summary's shape alone: "[Acme] …", "… with/at/@ Acme",
    the first part that is no interview word, else "(Acme)"."""
    m = re.match(r"\s*\[([^\]]+)\]", text)
    if m and not NOISE.fullmatch(m.group(1).strip()):
        return m.group(1).strip()
    bare = re.sub(r"\([^()]*\)", " ", text)
    m = re.search(r"(?:\b(?:with|at)|@|\bw/)\s*(.+?)\s*(?:$|\s[-–—|/]\s|[–—|:,]|\bfor\b)",
                  bare, re.I)
    if m:
        found = _clean(m.group(1))
        if found and not _is_name(found, names) and not NOISE.fullmatch(found):
            return found
    for part in SEPARATORS.split(bare):
        part = _clean(part)
        if (part and not any(x.search(part) for x in detector.include)
                and not _is_name(part, names) and _clean(NOISE.sub(" ", part))):
            return part
    paren = re.search(r"\(([^(),]+)\)", text)
    if paren and not NOISE.fullmatch(paren.group(1).strip()):
        return paren.group(1).strip()
    return None


def company_and_role(
    summary: str, event: CalendarEvent, detector: Detector
) -> tuple[str, str | None]:
    """Company and role from the usual summary shapes.

    The company is, in order: the words of the summary that its attendees'
    e-mail domain spells, "[Acme] …", "… with/at/@ Acme", the first part of
    "Acme – Designer interview" that is no interview word, else the domain.
    The role is "for the X role", the parentheses, or what is left over.
    """
    text = re.sub(r"\s+", " ", summary).strip()
    names = {(a.person.name or "").casefold() for a in event.attendees if a.person.name}
    names |= {(event.organizer.name or "").casefold()} if event.organizer else set()
    names.discard("")
    role = None
    m = re.search(r"\bfor (?:the |a |an )?(.+?) (?:role|position|job|opening)\b", text, re.I)
    if m:
        role = m.group(1).strip()
        text = (text[: m.start()] + text[m.end():]).strip()

    span = _label_span(text, _domain_labels(event, detector))
    named = text[span[0]:span[1]] if span else None
    company = _structural_company(text, names, detector)
    if named and (company is None or named.casefold() not in company.casefold()):
        company = named  # the domain's spelling beats a guess that does not contain it
    if company is None or _is_name(company, names):
        company = domain_company(event, detector) or "Unknown employer"
    company = _clean(company)

    if role is None:
        paren = re.search(r"\(([^()]+)\)", text)
        inside = paren.group(1) if paren else ""
        if inside and company.casefold() not in inside.casefold() and not _is_name(
                inside.strip(), names):
            role = inside.strip()
    if role is None:
        rest = text.replace(company, " ") if company in text else text
        for name in sorted(names, key=len, reverse=True):
            rest = re.sub(re.escape(name), " ", rest, flags=re.I)
        for p in detector.include:
            rest = p.sub(" ", rest)
        rest = FILLER.sub(" ", NOISE.sub(" ", rest))
        chunks = [_clean(c) for c in re.split(r"\s[-–—|/]\s|[–—|:,()]", rest)]
        chunks = [c for c in chunks if re.search(r"[^\W\d_]{2}", c)]
        role = chunks[0] if chunks else None
    return company, role


def company_key(name: str) -> str:
    """Two spellings of one employer are one application ("Acme Corp" = "ACME")."""
    key = CORP_SUFFIX.sub("", name.strip()).casefold()
    return re.sub(r"[^\w]+", " ", key).strip()


def read_tags(notes: str) -> tuple[tuple[str, str], ...]:
    return tuple((m.group(1).lower(), m.group(2).strip()) for m in TAG.finditer(notes or ""))


def read_instruction(notes: str, start_local: datetime, settings: Settings) -> Instruction | None:
    """The employer's instruction, else their decision date, from the notes.

    An instruction ("email me in one week", "OK to call if I don't hear by
    Friday morning") is followed exactly (seed 001); a decision date gets a
    check-in after it (seeds 000, 003, 004).
    """
    if not notes:
        return None
    sentences = [
        s.strip()
        for line in notes.splitlines()
        if not line.lstrip().startswith("#")
        for s in re.split(r"(?<=[.!?;])\s+", line)
        if s.strip()
    ]
    found: list[Instruction] = []
    for sentence in sentences:
        explicit = bool(INSTRUCTION.search(sentence)) and not THEIR_ACTION.search(sentence)
        if not explicit and not DECISION_WORD.search(sentence) and not (
            CONTACT_VERB.search(sentence) and THEIR_ACTION.search(sentence)
        ):
            continue
        day = sentence_date(sentence, start_local, settings, explicit)
        if day is None or day < start_local.date():
            continue
        found.append(Instruction(on=day, explicit=explicit,
                                 channel=channel_of(sentence) if explicit else None,
                                 text=sentence))
    explicit = [i for i in found if i.explicit]
    return (explicit or found or [None])[0]


def channel_of(sentence: str) -> str | None:
    s = sentence.lower()
    if re.search(r"\b(call|phone|ring|text)\b", s):
        return "phone"
    if re.search(r"\b(e-?mail|write)\b", s):
        return "email"
    return None


MONTHS = (r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")


def _next_day_of_month(base: date, day: int) -> date | None:
    """"By the 12th": this month's 12th if still ahead, else next month's."""
    year, month = base.year, base.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate >= base:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
QUICK = re.compile(
    r"\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|"
    r"thu|thur|thurs|fri)\b"
    r"|\b(?P<m1>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+"
    r"(?P<d1>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>\d{4}))?"
    r"|\b(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(?P<m2>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b(?:,?\s+(?P<y2>\d{4}))?"
    r"|\b(?P<iso>\d{4}-\d{2}-\d{2})\b"
    r"|\b(?P<mm>\d{1,2})/(?P<dd>\d{1,2})(?:/(?P<yy>\d{2,4}))?\b"
    r"|\b(?P<tomorrow>tomorrow)\b",
    re.I,
)


STALE_DAYS = 90  # "by March 1" noted on March 3 is a stale date, not next year's


def _future(base: date, month: int, day: int, year: int | None) -> date | None:
    """A month and day on or after `base` (dates in notes point forward).

    A date a few weeks before the interview is kept as it is (and then
    ignored as stale) rather than pushed a year ahead, as dateparser would.
    """
    try:
        if year:
            return date(year, month, day)
        found = date(base.year, month, day)
        if found >= base or (base - found).days <= STALE_DAYS:
            return found
        return date(base.year + 1, month, day)
    except ValueError:
        return None


def _quick_date(sentence: str, base: date) -> date | None:
    """The date shapes notes use, without dateparser's start-up cost.

    Same answers as dateparser with PREFER_DATES_FROM=future: a weekday is
    the next one after the interview's day ("by Friday" on a Friday is next
    week's), a month and day without a year is the next one.
    """
    found = list(QUICK.finditer(sentence))
    if not found:
        return None
    # "by Tuesday, March 10": the calendar date is the more precise one
    m = next((f for f in found if not f.group("wd")), found[0])
    g = m.groupdict()
    if g["wd"]:
        ahead = (WEEKDAYS.index(g["wd"].lower()[:3]) - base.weekday()) % 7 or 7
        return base + timedelta(days=ahead)
    if g["m1"] or g["m2"]:
        month = MONTH_NAMES.index((g["m1"] or g["m2"]).lower()[:3]) + 1
        year = g["y1"] or g["y2"]
        return _future(base, month, int(g["d1"] or g["d2"]), int(year) if year else None)
    if g["iso"]:
        try:
            return date.fromisoformat(g["iso"])
        except ValueError:
            return None
    if g["mm"]:
        year = int(g["yy"]) if g["yy"] else None
        if year is not None and year < 100:
            year += 2000
        return _future(base, int(g["mm"]), int(g["dd"]), year)
    return base + timedelta(days=1)


def sentence_date(
    sentence: str, start_local: datetime, settings: Settings, explicit: bool
) -> date | None:
    base = start_local.date()
    m = IN_N.search(sentence)
    if m:
        n = NUMBER_WORDS.get(m.group(1).lower()) or int(m.group(1))
        unit = m.group(2).lower()
        return base + timedelta(days=n * 7 if unit == "week" else n)
    if NEXT_WEEK.search(sentence):
        monday = base + timedelta(days=7 - base.weekday())
        # "call me next week": from its Monday; "decision next week": by its Friday
        return monday if explicit else monday + timedelta(days=4)
    if THIS_WEEK.search(sentence):
        return base + timedelta(days=max(0, 4 - base.weekday()))
    m = DAY_OF_MONTH.search(sentence)
    if m and not re.search(MONTHS, sentence, re.I):
        return _next_day_of_month(base, int(m.group(1)))
    if tuple(settings.languages) == ("en",):
        quick = _quick_date(sentence, base)
        if quick is not None:
            return quick
    if not DATEISH.search(sentence):
        return None  # no hit could pass the check below: skip dateparser's start-up
    from dateparser.search import search_dates  # ~0.6 s to load: only when needed

    hits = search_dates(
        sentence,
        languages=list(settings.languages),
        settings={
            "RELATIVE_BASE": start_local.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    for text, when in hits or ():
        if DATEISH.search(text):
            return when.date()
    return None


def infer_me(events: Iterable[CalendarEvent], settings: Settings) -> frozenset[str]:
    """The candidate's address when nobody said it (--me, config, X-WR-CALNAME).

    Whoever is invited to every interview is the candidate; failing that, the
    one personal address among a company's attendees.
    """
    probe = Detector.build(settings, ())
    interviews = [e for e in events if not e.all_day and probe.is_interview_summary(e.summary)]
    if not interviews:
        return frozenset()
    counts: dict[str, int] = {}
    for e in interviews:
        for addr in {a.person.email for a in e.attendees if a.person.email and is_person(a)}:
            counts[addr] = counts.get(addr, 0) + 1
    if len(interviews) >= 2:
        everywhere = {a for a, n in counts.items() if n == len(interviews)}
        if len(everywhere) == 1:
            return frozenset(everywhere)
    found = set()
    for e in interviews:
        org = (e.organizer.email or "") if e.organizer else ""
        if not org or org.rsplit("@", 1)[-1] in FREE_MAIL:
            continue
        personal = {a.person.email for a in e.attendees if a.person.email and is_person(a)
                    and a.person.email.rsplit("@", 1)[-1] in FREE_MAIL}
        if len(personal) == 1:
            found |= personal
    return frozenset(found)


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


def collect(
    events: Iterable[CalendarEvent],
    settings: Settings,
    now: datetime,
    known_me: Iterable[str] = (),
    warnings: Iterable[str] = (),
) -> SourceData:
    """Interviews in the window and busy times, from any source's events.

    `known_me` adds addresses the source knows are the user's (a Google
    export's X-WR-CALNAME, the signed-in account).
    """
    events = merge(events)  # the newest version of each, whatever the input order
    warnings = list(warnings)
    window = Window.around(now, settings)
    me = set(settings.me) | {a.lower() for a in known_me}
    if not me:
        me = set(infer_me(events, settings))
        if me:
            warnings.append(f"assuming you are {', '.join(sorted(me))}; pass --me to say so")
    detector = Detector.build(settings, me)
    tz = ZoneInfo(settings.timezone)
    interviews: dict[str, Interview] = {}
    busy = []
    for ev in events:
        b = detector.busy(ev, tz)
        if b is not None:
            busy.append(b)
        if ev.all_day or not (window.start <= ev.start <= window.end):
            continue
        iv = detector.interview(ev)
        if iv is not None:
            interviews.setdefault(iv.identity, iv)
    ordered = sorted(interviews.values(), key=lambda iv: (iv.start, iv.identity))
    return SourceData(tuple(ordered), tuple(busy), frozenset(me), tuple(warnings))
