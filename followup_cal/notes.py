"""What an interview's notes say about following up: one reader (issue 10).

From the notes, relative to the interview's date and in the configured
languages (DESIGN.md "Recognising an interview"):

- the employer's **decision date** ("we'll decide by Dec 4", "decision by the
  15th", "2-3 weeks": the later bound), told apart from the candidate's own
  deadlines ("take-home due Friday");
- an **instruction** ("email me in one week", "OK to call if I don't hear by
  Friday"): that day, nothing before it (seed 001);
- an **absence** ("out of office until Dec 7", "back on Monday", "on vacation
  next week"): no inquiry before they are back (seed 001: never look pushy);
- a **channel** wish ("please don't call", "email only", "call me").

Every date phrase of a sentence is found first, with its span; each is then
claimed by the nearest cue word (decision, deadline, away, back), preferring
one before it. Meeting boilerplate (Zoom, Teams, Meet, Calendly, dial-ins) is
dropped first, so its IDs, numbers and times are never read as dates.
dateparser is the fallback for a cue sentence none of the shapes here fits.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from .config import Settings
from .model import Instruction
from .vocab import Vocabulary, load

# Lines of meeting invitations: never the employer's words.
BOILERPLATE = re.compile(
    r"^\W*(?:meeting (?:id|number|link|options)|passcode|password|pin\b|(?:phone )?conference "
    r"id|join\b|dial|one tap|tel:|find your local|or call in|call in|access code|webinar id|"
    r"(?:topic|time|when|where|location|date|duration|reschedule|cancel)\s*:|"
    r"event (?:name|date|type)|date/time|invitee|powered by|need to make changes|"
    r"microsoft teams|click here|learn more|"
    r"reset pin|download teams|for organi[sz]ers|https?://|www\.|more phone numbers|"
    r"invitation from google|you are receiving|forwarding this|view all guest|reply for|"
    r"interview kit|calendar:|organi[sz]er:|guests?:|attendees?:|"
    r"teilnehmen|besprechungs-?id|kenncode|rejoindre|code secal|unirse|"
    r"[-_=~:*]{6,}|\+?\(?\d[\d\s().,#*-]{6,})",
    re.I,
)
URL = re.compile(r"\b(?:https?://|www\.)\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.I)
DIGITS = re.compile(r"\+?\(?\d[\d().,#*-]*(?:\s\d[\d().,#*-]*){2,}|\d{6,}")
SENTENCE = r"(?<=[!?;…])\s+|(?<=[^\d\s][.])\s+|\s+[-–—]{1,2}\s+(?=[A-Z])|\.{3}\s*"
TAG_LINE = re.compile(r"^\s*#")
MAX_NOTES = 20_000  # characters read: what recruiters write is at the top, never megabytes


@dataclass(frozen=True)
class NotesReading:
    """What the notes say; each part None or empty when they say nothing of it."""

    instruction: Instruction | None = None
    back_on: date | None = None  # away before this day: no inquiry before it
    avoid: tuple[str, ...] = ()  # channels they asked not to be reached by
    prefer: str | None = None  # the channel they asked for


@dataclass(frozen=True)
class Mention:
    """A date phrase in a sentence: where it is and the days it spans."""

    start: int
    end: int
    first: date
    last: date


def read(notes: str, start_local: datetime, settings: Settings) -> NotesReading:
    """The reading of an interview's notes (see the module's docstring)."""
    if not notes or not notes.strip():
        return NotesReading()
    g = grammar(tuple(settings.languages))
    base = start_local.date()
    explicit: list[Instruction] = []
    decisions: list[tuple[date, str]] = []
    backs: list[date] = []
    sentences = list(_sentences(notes, g))
    for sentence in sentences:
        found = mentions(sentence, base, g)
        cues = _cues(sentence, g)
        claimed = [(m, _claim(m, cues)) for m in found]
        for m, cue in claimed:
            if cue == "away":
                backs.append(m.last + timedelta(days=1))
            elif cue == "back":
                backs.append(m.first)
        is_explicit = bool(g.instruction and g.instruction.search(sentence)) and not (
            g.their_action and g.their_action.search(sentence))
        free = [m for m, cue in claimed if cue in (None, "decision")]
        if is_explicit:
            if not free and not found:
                free = _fallback(sentence, start_local, settings, g)
            days = [m.first for m in free if m.first >= base]
            if days:
                explicit.append(Instruction(on=days[0], explicit=True,
                                            channel=_channel(sentence, g), text=sentence))
            continue
        said = [m for m, cue in claimed if cue == "decision"]
        if not found and any(c[2] == "decision" for c in cues):
            said = _fallback(sentence, start_local, settings, g)
        decisions += [(m.last, sentence) for m in said if m.last >= base]
    instruction = explicit[0] if explicit else None
    if instruction is None and decisions:
        on, text = max(decisions, key=lambda d: d[0])  # the later bound: never pushy
        instruction = Instruction(on=on, explicit=False, text=text)
    avoid, prefer = _channels(sentences, g)
    back_on = max((b for b in backs if b > base), default=None)
    return NotesReading(instruction, back_on, avoid, prefer)


HTML_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li|/h\d|/tr)\s*>", re.I)
HTML_TAG = re.compile(r"</?[a-z][^<>]{0,500}>", re.I)


def _plain(notes: str) -> str:
    """Google Calendar keeps notes written in its web page as HTML: their text."""
    if "<" not in notes or not HTML_TAG.search(notes):
        return notes
    import html

    return html.unescape(HTML_TAG.sub(" ", HTML_BREAK.sub("\n", notes)))


def _sentences(notes: str, g: Grammar):
    for line in _plain(notes[:MAX_NOTES]).splitlines():
        if TAG_LINE.match(line) or BOILERPLATE.match(line):
            continue
        line = DIGITS.sub(" ", URL.sub(" ", line))
        for s in g.sentence.split(line):
            if s and s.strip(" .-–—"):
                yield s.strip()


# -- the grammar of date phrases, built once per set of languages ---------------------

@dataclass(frozen=True)
class Grammar:
    vocab: Vocabulary
    shapes: tuple[tuple[str, re.Pattern], ...]  # (kind, pattern), tried in turn
    business_units: re.Pattern | None
    day_units: re.Pattern | None
    week_units: re.Pattern | None
    month_units: re.Pattern | None
    cues: tuple[tuple[str, re.Pattern], ...]
    instruction: re.Pattern | None
    their_action: re.Pattern | None
    no_phone: re.Pattern | None
    email_only: re.Pattern | None
    call_me: re.Pattern | None
    phone_words: re.Pattern | None
    email_words: re.Pattern | None
    datey: re.Pattern
    precise: re.Pattern  # a day number or a weekday
    week_of: re.Pattern | None  # ends just before a date: "the week of"
    sentence: re.Pattern  # where sentences end ("by March 13. Call me": two)


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)"


def _join(patterns) -> str:
    return "|".join(f"(?:{p})" for p in patterns) or "(?!)"


@lru_cache(maxsize=16)
def grammar(languages: tuple[str, ...]) -> Grammar:
    v = load(languages)
    months = rf"\b(?:{_alt(v.months)})\b\.?"
    weekdays = rf"\b(?:{_alt(v.weekdays)})\b"
    num = rf"(?:\d{{1,2}}|\b(?:{_alt(v.numbers)})\b)"
    units = _join([p for k in ("business_day", "day", "week", "month")
                   for p in v.patterns(f"dates.units_{k}")])
    join = _join(v.patterns("dates.range_joiners"))
    ordinal = r"(?:st|nd|rd|th|er|e|\.|º)?"
    no_month_after = rf"(?!{ordinal}\s*(?:of\s+|de\s+|du\s+)?{months})"
    shapes: list[tuple[str, str]] = []
    for kind in ("end_of_next_week", "early_next_week", "next_week", "this_week",
                 "end_of_month", "next_month", "tomorrow", "today"):
        if v.patterns(f"dates.{kind}"):
            shapes.append((kind, _join(v.patterns(f"dates.{kind}"))))
    shapes += [
        ("range", rf"(?P<n1>{num})\s*(?:{join})\s*(?P<n2>{num})\s+(?P<unit>{units})\b"),
        ("relative", rf"(?P<n>{num})\s+(?P<unit>{units})\b"),
        # "a week or two", "next week or two": the later bound
        ("range_after", rf"(?:(?P<n1>{num})\s+|\b(?:next|the next)\s+)?(?P<unit>{units})\s+"
                        rf"(?:{join})\s+(?P<n2>{num})\b(?!\s*(?:{units}))"),
        ("month_part", rf"(?:(?P<early>{_join(v.patterns('dates.month_early'))})|"
                       rf"(?P<mid>{_join(v.patterns('dates.month_mid'))})|"
                       rf"(?:{_join(v.patterns('dates.month_late'))}))\s*(?:of\s+|de\s+|d.)?"
                       rf"(?P<m>{months})(?!\s*\d)(?:\s+(?P<y>\d{{4}}))?"),
        ("month_day", rf"(?P<m>{months})\s*(?P<d>\d{{1,2}}){ordinal}(?:\s*(?:{join})\s*"
                      rf"(?P<e>\d{{1,2}}){ordinal})?(?:,?\s+(?P<y>\d{{4}}))?(?![\d:])"),
        ("day_month", rf"(?<![\d.])(?P<d>\d{{1,2}}){ordinal}(?:\s*(?:{join})\s*(?P<e>\d{{1,2}})"
                      rf"{ordinal})?\s*(?:of\s+|de\s+)?(?P<m>{months})"
                      rf"(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?"),
        ("iso", r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
        ("dotted", r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2}(?!\d))?"),
        ("slash", r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/])"),
        ("weekday", rf"(?:(?P<next>{_join(v.patterns('dates.next_prefix'))})\s+)?"
                    rf"(?P<wd>{weekdays})"),
    ]
    shapes += [("day_of_month", f"(?:{p}){no_month_after}")
               for p in v.patterns("dates.day_of_month")]
    cues = tuple((kind, r) for kind in ("decision", "deadline", "away", "back")
                 if (r := v.regex(f"notes.{kind}")) is not None)
    return Grammar(
        vocab=v,
        shapes=tuple((k, re.compile(p, re.I)) for k, p in shapes),
        business_units=v.regex("dates.units_business_day"),
        day_units=v.regex("dates.units_day"), week_units=v.regex("dates.units_week"),
        month_units=v.regex("dates.units_month"), cues=cues,
        instruction=v.regex("notes.instruction"), their_action=v.regex("notes.their_action"),
        no_phone=v.regex("notes.no_phone"), email_only=v.regex("notes.email_only"),
        call_me=v.regex("notes.call_me"), phone_words=v.regex("notes.phone_words"),
        email_words=v.regex("notes.email_words"),
        week_of=(re.compile(rf"(?:{_join(v.patterns('dates.week_of'))})\s*$", re.I)
                 if v.patterns("dates.week_of") else None),
        # after "13." too, unless a month follows (German "4. Dezember")
        sentence=re.compile(rf"{SENTENCE}|(?<=\d[.])\s+(?=[A-ZÄÖÜÉ])(?!(?i:{months}))"),
        precise=re.compile(rf"\d|{weekdays}", re.I),
        datey=re.compile(rf"\d{{1,2}}[/.-]\d{{1,2}}|\d(?:st|nd|rd|th)\b|{months}|{weekdays}", re.I),
    )


def mentions(sentence: str, base: date, g: Grammar) -> list[Mention]:
    """The date phrases of a sentence, longest first where two overlap, in order."""
    found: list[Mention] = []
    for kind, pattern in g.shapes:
        for m in pattern.finditer(sentence):
            days = _days(kind, m, base, g)
            if days is not None:
                found.append(Mention(m.start(), m.end(), *days))
    found.sort(key=lambda m: (m.start - m.end, m.start))
    kept: list[Mention] = []
    for m in found:
        if all(m.end <= k.start or m.start >= k.end for k in kept):
            kept.append(m)
    if g.week_of is not None:  # "the week of Dec 7": that whole week
        kept = [_whole_week(m) if g.week_of.search(sentence[:m.start]) else m for m in kept]
    return sorted(kept, key=lambda m: m.start)


def _whole_week(m: Mention) -> Mention:
    monday = m.first - timedelta(days=m.first.weekday())
    return Mention(m.start, m.end, monday, monday + timedelta(days=4))


def _monday_after(base: date) -> date:
    return base + timedelta(days=7 - base.weekday())


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(base: date, n: int) -> date:
    month = base.month - 1 + n
    year, month = base.year + month // 12, month % 12 + 1
    return date(year, month, min(base.day, calendar.monthrange(year, month)[1]))


def _number(text: str, g: Grammar) -> int | None:
    text = text.lower().strip()
    return int(text) if text.isdigit() else g.vocab.numbers.get(text)


def _days(kind: str, m: re.Match, base: date, g: Grammar) -> tuple[date, date] | None:
    """The first and last day a date phrase means, from the interview's day."""
    try:
        return _days_unchecked(kind, m, base, g)
    except (ValueError, OverflowError):
        return None


def _days_unchecked(kind, m, base, g):
    monday = _monday_after(base)
    if kind == "end_of_next_week":
        return monday + timedelta(days=4), monday + timedelta(days=4)
    if kind == "early_next_week":
        return monday, monday + timedelta(days=1)
    if kind == "next_week":
        return monday, monday + timedelta(days=4)
    if kind == "this_week":
        return base, base + timedelta(days=max(0, 4 - base.weekday()))
    if kind == "end_of_month":
        end = _month_end(base.year, base.month)
        return end, end
    if kind == "next_month":
        first = _month_end(base.year, base.month) + timedelta(days=1)
        return first, _month_end(first.year, first.month)
    if kind == "tomorrow":
        return base + timedelta(days=1), base + timedelta(days=1)
    if kind == "today":
        return base, base
    if kind in ("range", "relative", "range_after"):
        unit = m.group("unit")
        names = ("n",) if kind == "relative" else ("n1", "n2")
        counts = [_number(m.group(n) or "1", g) for n in names]
        if None in counts or max(counts) > 60:
            return None
        days = [_after(base, n, unit, g) for n in counts]
        if None in days:
            return None
        return min(days), max(days)
    if kind in ("month_day", "day_month"):
        month = g.vocab.months.get(m.group("m").lower().rstrip("."))
        if month is None:
            return None
        year = int(m.group("y")) if m.group("y") else None
        first = _future(base, month, int(m.group("d")), year)
        last = _future(base, month, int(m.group("e")), year) if m.group("e") else first
        if first is None or last is None:
            return None
        return first, max(first, last)
    if kind == "month_part":
        month = g.vocab.months.get(m.group("m").lower().rstrip("."))
        if month is None:
            return None
        year = int(m.group("y")) if m.group("y") else None
        last = calendar.monthrange(year or base.year, month)[1]
        day = 10 if m.group("early") else 20 if m.group("mid") else last
        found = _future(base, month, day, year)
        return (found, found) if found else None
    if kind == "iso":
        day = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        return day, day
    if kind in ("dotted", "slash"):
        if kind == "dotted" or g.vocab.slash_order == "dm":
            d, mo = (m.group("d"), m.group("m")) if kind == "dotted" else m.group("a", "b")
        else:
            mo, d = m.group("a", "b")
        y = m.group("y")
        year = (int(y) + 2000 if len(y) == 2 else int(y)) if y else None
        day = _future(base, int(mo), int(d), year)
        return (day, day) if day else None
    if kind == "weekday":
        index = g.vocab.weekdays.get(m.group("wd").lower())
        if index is None:
            return None
        if m.group("next"):  # "next Friday": the Friday of next week
            day = monday + timedelta(days=index)
        else:  # "by Friday" on a Friday is next week's
            day = base + timedelta(days=(index - base.weekday()) % 7 or 7)
        return day, day
    if kind == "day_of_month":
        day = _next_day_of_month(base, int(m.group("d")))
        return (day, day) if day else None
    return None


def _after(base: date, n: int, unit: str, g: Grammar) -> date | None:
    if g.business_units and g.business_units.fullmatch(unit):
        day = base
        while n > 0:  # weekends only: holidays are the planner's business
            day += timedelta(days=1)
            n -= day.weekday() < 5
        return day
    if g.day_units and g.day_units.fullmatch(unit):
        return base + timedelta(days=n)
    if g.week_units and g.week_units.fullmatch(unit):
        return base + timedelta(weeks=n)
    if g.month_units and g.month_units.fullmatch(unit):
        return _add_months(base, n)
    return None


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


def _next_day_of_month(base: date, day: int) -> date | None:
    """"By the 15th": the next 15th after the interview's day."""
    year, month = base.year, base.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate > base:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


# -- whose date a phrase is --------------------------------------------------------------

def _cues(sentence: str, g: Grammar) -> list[tuple[int, int, str]]:
    """Cue words with their spans; where two overlap, the longer ("get back" is no
    "back on")."""
    found = [(m.start(), m.end(), kind) for kind, r in g.cues for m in r.finditer(sentence)]
    found.sort(key=lambda c: (c[0] - c[1], c[0]))
    kept: list[tuple[int, int, str]] = []
    for c in found:
        if all(c[1] <= k[0] or c[0] >= k[1] for k in kept):
            kept.append(c)
    return kept


BEHIND = 12  # a cue after the date counts as this much farther than one before it


def _claim(m: Mention, cues: list[tuple[int, int, str]]) -> str | None:
    """The kind of the nearest cue, one before the date preferred."""
    best, kind = None, None
    for start, end, what in cues:
        if end <= m.start:
            distance = m.start - end
        elif start >= m.end:
            distance = start - m.end + BEHIND
        else:
            distance = 0
        if best is None or distance < best:
            best, kind = distance, what
    return kind


def _channel(sentence: str, g: Grammar) -> str | None:
    if g.phone_words and g.phone_words.search(sentence):
        return "phone"
    if g.email_words and g.email_words.search(sentence):
        return "email"
    return None


def _channels(sentences: list[str], g: Grammar) -> tuple[tuple[str, ...], str | None]:
    """("please don't call", "email only", "call me"): channels to avoid, one to use."""
    avoid: set[str] = set()
    prefer = None
    for s in sentences:
        if g.email_only and g.email_only.search(s):
            avoid |= {"phone", "mail"}
            prefer = "email"
        elif g.no_phone and g.no_phone.search(s):
            avoid.add("phone")
        elif g.call_me and g.call_me.search(s) and prefer is None:
            prefer = "phone"
    if prefer in avoid:
        prefer = None
    return tuple(sorted(avoid)), prefer


DATEPARSER_CODES = {"en", "de", "fr", "es", "nl", "it", "pt", "sv", "da", "nb", "fi", "pl"}


def _fallback(sentence: str, start_local: datetime, settings: Settings,
              g: Grammar) -> list[Mention]:
    """dateparser, for a cue sentence no shape here fits (loaded only then: ~0.6 s)."""
    if not g.datey.search(sentence):
        return []
    from dateparser.search import search_dates

    try:
        hits = search_dates(
            sentence,
            languages=list(settings.languages),
            settings={
                "RELATIVE_BASE": start_local.replace(tzinfo=None),
                "PREFER_DATES_FROM": "future",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
    except (ValueError, OverflowError):
        return []
    out = []
    for text, when in hits or ():
        # a month alone is no date ("we may decide" is not May): a day or weekday is
        if g.datey.search(text) and g.precise.search(text) and not text.strip().isdigit():
            at = sentence.find(text)
            out.append(Mention(max(at, 0), max(at, 0) + len(text), when.date(), when.date()))
    return out
