"""The event parser: a calendar event in, an Interview (or nothing) out.

It reads `CalendarEvent`s, which every source produces, so what counts as an
interview, who the interviewers are and what the employer said about
following up is decided here once (DESIGN.md "Recognising an interview").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from . import vocab
from .config import Settings
from .model import (  # noqa: F401  (CORP_SUFFIX, company_key, Window: re-exported)
    CORP_SUFFIX,
    Attendee,
    Busy,
    CalendarEvent,
    Contact,
    History,
    Interview,
    Outcome,
    Person,
    SourceData,
    Window,
    company_key,
)
from .versions import merge
from .vocab import Vocabulary

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
TAG = re.compile(r"^\s*#(offer|rejected|withdrawn|heard-back|contacted)\b(.*)$", re.I | re.M)

@dataclass(frozen=True)
class Detector:
    """Compiled patterns, the languages' words and the user's addresses: built once per run."""

    settings: Settings
    me: frozenset[str]
    include: tuple[re.Pattern, ...]
    exclude: tuple[re.Pattern, ...]
    include_any: tuple[re.Pattern, ...]  # the same, joined where that means the same
    exclude_any: tuple[re.Pattern, ...]
    words: Vocabulary
    # whose conversation (issue 10): the languages' words and the settings' patterns
    who: dict[str, re.Pattern | None]

    @classmethod
    def build(cls, settings: Settings, me: Iterable[str]) -> Detector:
        words = vocab.load(tuple(settings.languages))
        # the setting's patterns, then the configured languages' own words (issue 10)
        include = _merged(settings.interview_patterns, words.patterns("summary.interview"))
        exclude = _merged(settings.exclude_patterns, words.patterns("summary.exclude"))
        return cls(
            settings=settings,
            me=frozenset(a.lower() for a in me),
            include=tuple(re.compile(p, re.I) for p in include),
            exclude=tuple(re.compile(p, re.I) for p in exclude),
            include_any=_any_of(include),
            exclude_any=_any_of(exclude),
            words=words,
            who={key: _one_of(words.patterns(f"summary.{key}"),
                              getattr(settings, f"{key}_patterns"))
                 for key in ("interviewer", "interviewer_notes", "candidate", "media",
                             "informational", "recruiter")},
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
        """The interview this event is, or None (all-day, cancelled, declined, not one,
        not the user's own candidacy)."""
        if event.ours or event.all_day or event.status.upper() == "CANCELLED":
            return None
        if not self.is_interview_summary(event.summary) or self.declined(event):
            return None
        company, role = company_and_role(event.summary, event, self)
        kind = self.conversation(event, company, role)
        if kind is None:
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
        tzid = self.settings.company_timezone(company) or event.tzid or self.settings.timezone
        start_local = event.start.astimezone(ZoneInfo(tzid))
        from . import notes  # imported for an interview only: a busy-only calendar skips it

        said = notes.read(event.description, start_local, self.settings)
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
            instruction=said.instruction,
            tags=read_tags(event.description),
            source=event.source,
            organizer=organizer,  # issue 14
            employer_domains=tuple(_employer_domains(event, self)),
            conversation=kind,
            back_on=said.back_on,
            avoid_channels=said.avoid,
            prefer_channel=said.prefer,
        )

    def conversation(self, event: CalendarEvent, company: str, role: str | None) -> str | None:
        """Whose conversation this is (DESIGN.md "Whose conversation is it?").

        None when it is not the user's candidacy: the user interviews someone (a
        word that says so, notes only an interviewer gets such as an interview kit
        or a scorecard, or they organised it and it names a candidate), a
        debrief, a media interview. "informational" for an informational
        interview (thank-yous only), unless it is with a recruiter; else
        "candidacy". Each signal is a list of words per language (lang/*.toml).
        """
        from .notes import MAX_NOTES

        who = self.who
        summary = event.summary
        if _hit(who["interviewer"], summary) or _hit(
                who["interviewer_notes"], (event.description or "")[:MAX_NOTES]):
            return None
        if self.is_me(event.organizer) and (
                _hit(who["candidate"], summary) or self._names_a_guest(event)):
            return None
        rest = summary  # a company or a role may hold a media word ("Vox Media")
        for part in (company, role):
            if part:
                rest = re.sub(re.escape(part), " ", rest, flags=re.I)
        if _hit(who["media"], rest):
            return None
        if _hit(who["informational"], rest) and not _hit(who["recruiter"], summary):
            return "informational"
        return "candidacy"

    def _names_a_guest(self, event: CalendarEvent) -> bool:
        """The user, at work, organised it and its summary names a guest with a
        personal address: they are interviewing that person."""
        org = (event.organizer.email or "").lower() if event.organizer else ""
        if not org or org.rsplit("@", 1)[-1] in FREE_MAIL:
            return False
        text = event.summary.casefold()
        for a in event.attendees:
            email = (a.person.email or "").lower()
            name = (a.person.name or "").strip().casefold()
            if (name and len(name) > 2 and not self.is_me(a) and name in text
                    and email.rsplit("@", 1)[-1] in FREE_MAIL):
                return True
        return False

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


def _hit(pattern: re.Pattern | None, text: str) -> bool:
    return bool(pattern and pattern.search(text))


def _one_of(*lists: Iterable[str]) -> re.Pattern | None:
    patterns = _merged(*lists)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None


def _merged(*lists: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for items in lists:
        out += [p for p in items if p not in out]
    return tuple(out)


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


@dataclass(frozen=True)
class Shapes:
    """The summary's shapes in the configured languages (lang/*.toml, [summary])."""

    noise: re.Pattern  # meeting words (Zoom, Day 1, coding…): never a company or role
    filler: re.Pattern  # joining words
    connector: re.Pattern  # "Interview with/avec/bei … Acme"; group 1: the company
    role_word: re.Pattern  # a part of the summary is a role only when it holds one
    role_suffix: re.Pattern  # or, in parentheses, a job title's ending ("Importer")
    roles: tuple[re.Pattern, ...]  # "for the X role"; group `role`


@lru_cache(maxsize=16)
def shapes(languages: tuple[str, ...]) -> Shapes:
    w = vocab.load(languages)
    noise = "|".join(w.patterns("summary.noise")) or "(?!)"
    joins = [*w.patterns("summary.filler"), *w.patterns("summary.connectors"),
             *w.patterns("summary.for_words"), "via", "re"]
    filler = "|".join(_word(x) for x in sorted(set(joins), key=len, reverse=True))
    conn = "|".join(_word(x) for x in w.patterns("summary.connectors")) or "(?!)"
    fors = "|".join(_word(x) for x in w.patterns("summary.for_words")) or "(?!)"
    return Shapes(
        noise=re.compile(rf"\b(?:{noise})\b", re.I),
        filler=re.compile(rf"(?:{filler}|@|<>|&|\[|\])", re.I),
        connector=re.compile(rf"(?:{conn})\s*(.+?)\s*(?:$|\s[-–—|/]\s|[–—|:,]|{fors})", re.I),
        role_word=vocab.role_word(languages),
        role_suffix=re.compile("|".join(w.patterns("summary.role_suffix")) or "(?!)", re.I),
        roles=w.each("summary.role"),
    )


def _word(text: str) -> str:
    """A word of the vocabulary as a pattern: whole where it begins or ends with a letter."""
    e = re.escape(text)
    return (r"\b" if text[:1].isalnum() else "") + e + (r"\b" if text[-1:].isalnum() else "")


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
                joined += _plain(words[j].group())
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


def _plain(word: str) -> str:
    """A word as a domain spells it: "Lumière" -> "lumiere"."""
    decomposed = unicodedata.normalize("NFKD", word)
    return re.sub(r"\W", "", "".join(c for c in decomposed if not unicodedata.combining(c))).lower()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" -–—:|/,.;()[]<>@")


def _is_name(text: str, names: set[str]) -> bool:
    return text.casefold() in names or "<>" in text


def _structural_company(text: str, names: set[str], detector: Detector) -> str | None:
    """The company by the summary's shape alone: "[Acme] …", "… with/at/@ Acme",
    the first part that is no interview word, else "(Acme)"."""
    sh = shapes(tuple(detector.settings.languages))
    m = re.match(r"\s*\[([^\]]+)\]", text)
    if m and not sh.noise.fullmatch(m.group(1).strip()):
        return m.group(1).strip()
    bare = re.sub(r"\([^()]*\)", " ", text)
    for m in sh.connector.finditer(bare):
        found = _clean(m.group(1))
        if found and not _is_name(found, names) and _clean(sh.noise.sub(" ", found)):
            return found
    for part in SEPARATORS.split(bare):
        part = _clean(part)
        if (part and not any(x.search(part) for x in detector.include)
                and not _is_name(part, names) and _clean(sh.noise.sub(" ", part))
                and not sh.connector.search(part)):
            return part
    paren = re.search(r"\(([^(),]+)\)", text)
    if paren and not sh.noise.fullmatch(paren.group(1).strip()):
        return paren.group(1).strip()
    return None


MAX_SUMMARY = 500  # characters of a summary read for its shape (a hostile one can be megabytes)


def company_and_role(
    summary: str, event: CalendarEvent, detector: Detector
) -> tuple[str, str | None]:
    """Company and role from the usual summary shapes.

    The company is, in order: the words of the summary that its attendees'
    e-mail domain spells, "[Acme] …", "… with/at/@ Acme", the first part of
    "Acme – Designer interview" that is no interview word, else the domain.
    The role is "for the X role", else the parentheses or what is left over
    when that holds a job title's word; else none, never a fragment.
    """
    sh = shapes(tuple(detector.settings.languages))
    text = re.sub(r"\s+", " ", summary[:MAX_SUMMARY]).strip()
    names = {(a.person.name or "").casefold() for a in event.attendees if a.person.name}
    names |= {(event.organizer.name or "").casefold()} if event.organizer else set()
    names.discard("")
    role = None
    for pattern in sh.roles:
        m = pattern.search(text)
        if m and _clean(m.group("role")):
            role = _clean(m.group("role"))
            text = (text[: m.start()] + " " + text[m.end():]).strip()
            break

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
        if (inside and company.casefold() not in inside.casefold()
                and not _is_name(inside.strip(), names)
                and (sh.role_word.search(inside)
                     or sh.role_suffix.search(_clean(sh.noise.sub(" ", inside))))):
            role = inside.strip()
    if role is None:
        rest = text.replace(company, " ") if company in text else text
        for name in sorted(names, key=len, reverse=True):
            rest = re.sub(re.escape(name), " ", rest, flags=re.I)
        for p in detector.include:
            rest = p.sub(" ", rest)
        rest = sh.filler.sub(" ", sh.noise.sub(" ", rest))
        chunks = [_clean(c) for c in re.split(r"\s[-–—|/]\s|[–—|:,()]", rest)]
        chunks = [c for c in chunks if re.search(r"[^\W\d_]{2}", c)]
        role = chunks[0] if chunks and sh.role_word.search(chunks[0]) else None
    return company, role


def read_tags(notes: str) -> tuple[tuple[str, str], ...]:
    return tuple((m.group(1).lower(), m.group(2).strip()) for m in TAG.finditer(notes or ""))


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


# -- tags in an interview's notes, as the commands would record them -------------------


def tag_history(interviews: Iterable[Interview], settings: Settings) -> History:
    """`#rejected`-style lines in an interview's notes act like the commands.

    `#contacted 2026-03-09 [10:30] [phone]` logs an inquiry; an outcome tag
    takes effect at its date if it has one (`#rejected 2026-03-12`), else at
    the end of that interview. Times are the user's, as with `--at`.
    """
    contacts, outcomes = [], []
    for iv in interviews:
        for tag, rest in iv.tags:
            at, via = _tag_when(rest, settings)
            if tag == "contacted":
                if at is not None:
                    contacts.append(Contact(iv.company, at, via or settings.check_in_channel))
            else:
                outcomes.append(Outcome(iv.company, tag, at or iv.end))
    return History(tuple(contacts), tuple(outcomes))


TAG_ARGS = re.compile(r"\s*(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}))?\s*(email|phone|mail)?", re.I)


def _tag_when(rest: str, settings: Settings) -> tuple[datetime | None, str | None]:
    m = TAG_ARGS.match(rest)
    if not m:
        return None, None
    try:
        day = datetime.fromisoformat(m.group(1)).date()
        clock = (datetime.strptime(m.group(2), "%H:%M").time() if m.group(2)
                 else settings.workday_start)
    except ValueError:
        return None, None
    via = m.group(3).lower() if m.group(3) else None
    return datetime.combine(day, clock, ZoneInfo(settings.timezone)), via
