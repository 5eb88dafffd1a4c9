"""A streaming pre-filter for .ics text: hand icalendar only what can matter.

A real export holds ten years of calendar, but the plan needs only the
interviews, the series they belong to, and the busy times around the window.
`prefilter` scans the raw bytes once (one regular expression over the line
starts, no per-event backtracking) and returns a smaller calendar made of the
original lines of what it keeps, in their original order:

- every calendar-level line (PRODID, VERSION, METHOD, X-WR-TIMEZONE, X-WR-CALNAME...);
- every VTIMEZONE (icalendar caches them process-wide in file order, so all are
  kept, where they were) and every component it does not know;
- each VEVENT whose unfolded SUMMARY passes `keep_summary` and that may overlap
  [since, end] (interviews are looked for from the start of the interview
  window), and every VEVENT sharing a UID with one (series masters and
  RECURRENCE-ID overrides, in any order in the file), with the properties
  ics.to_events reads (READ_PROPS);
- each other VEVENT that may overlap [start, end] (busy times), each VEVENT it
  cannot judge (no or odd DTSTART, RDATE, COUNT: icalendar then reports what is
  wrong, as without the filter), and the VEVENTs sharing their UIDs, with only
  what a busy time is read from (BUSY_PROPS, an ATTENDEE that declined, and no
  line that only says the default: see _trim). Summaries, descriptions, attendees
  and alarms are most of what icalendar would spend its time on, and a busy time
  never reads them.

Overlap is judged from the raw DTSTART, DTEND/DURATION and RRULE UNTIL with a
two-day margin (zones are not resolved here).

An event holding a line icalendar cannot read, or with no UID (ics.prepare makes
one from its whole text), is kept as it is. VTODO, VJOURNAL, VFREEBUSY and the
VEVENTs outside the window are dropped. When the text does not have the shape
this scanner relies on (not starting with BEGIN:VCALENDAR, BEGIN/END lines with
parameters, folds or odd spacing, unbalanced components, content outside a
calendar), the text is returned unchanged and icalendar reads all of it.

One difference by design: a malformed value in a dropped property, VALARM or
VTODO no longer makes icalendar reject the event or the whole file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

ENABLED = True
"""`ics.read_events` uses the pre-filter unless this is False (tests compare both)."""

MARGIN = timedelta(days=2)
"""Times are compared without their zones: UTC offsets stay well within a day."""

DROP = frozenset({b"VTODO", b"VJOURNAL", b"VFREEBUSY"})

GONE, BUSY, WHOLE, DROPPED = 0, 1, 2, 3
"""A VEVENT's fate: dropped; kept as a busy time only (trimmed); kept whole. And a
component dropped whatever its UID (VTODO...)."""
NAMED = 4
"""Added to a VEVENT's fate when its summary names an interview."""

BUSY_PROPS = frozenset({
    "BEGIN", "END", "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
    "EXRULE", "RECURRENCE-ID", "SEQUENCE", "STATUS", "TRANSP", "DTSTAMP", "LAST-MODIFIED",
})
"""What a busy time is read from (detect.Detector.busy): the rest of a trimmed event
(summary, description, attendees, alarms) costs icalendar most of its time and is
never read. The summary is not: the filter has just found it names no interview.
SEQUENCE, DTSTAMP and LAST-MODIFIED tell its versions apart (versions.merge); the
stamps only where the file holds its UID twice (STAMPS)."""

STAMPS = frozenset({"DTSTAMP", "LAST-MODIFIED"})
"""Two lines icalendar spends a twentieth of the filtered parse on: a busy time keeps
them only when another VEVENT in the file has its UID. Across files, two versions of a
busy time with one SEQUENCE are then told apart by their content, not their stamps
(the order of the files still never matters); an interview keeps its stamps."""

READ_PROPS = BUSY_PROPS | {"SUMMARY", "DESCRIPTION", "ORGANIZER", "ATTENDEE"}
"""What ics.to_events reads of any event (an interview's people and notes too)."""

OURS = "X-FOLLOWUP-CAL"
"""Our own events' marker properties (ics.OUR_KIND): they are never busy times."""

_PROPS = "SUMMARY|UID|DTSTART|DTEND|DURATION|RRULE|RDATE|RECURRENCE-ID"
_WANTED = frozenset(["BEGIN", "END", *_PROPS.split("|")])


def _scanner(comp: str, name: str, flags: int) -> re.Pattern:
    """Tried at every line break; groups: 1-2 a BEGIN/END line, 3 a line icalendar may
    read differently: BEGIN/END with parameters, trailing text or a fold, a blank line
    before a continuation, or a line that is not NAME followed by ';' or ':'.
    Over bytes: the file is scanned before it is decoded.
    """
    return re.compile(
        (
            r"\n(?:"
            rf"(BEGIN|END):([{comp}]+)\r?(?=\n(?![ \t])|\Z)"
            rf"|((?:BEGIN|END)[;:]|\r?\n[ \t]|(?![{name}]+[;:]|[ \t]|\r?\n|\r?\Z))"
            r")"
        ).encode("ascii"),
        flags,
    )


def _properties(flags: int) -> re.Pattern:
    """The properties the judgement needs, with their continuation lines (findall)."""
    return re.compile(rf"\n({_PROPS})([;:][^\n]*(?:\n[ \t][^\n]*)*)".encode("ascii"), flags)


# Exports write names in capitals: scan for those (fast); a name in other case
# sends the scan round again with the case-insensitive scanner.
_SCAN_UPPER = _scanner("A-Z0-9-", "A-Z0-9-", 0)
_SCAN_ANY = _scanner("A-Za-z0-9-", r"\w.-", re.IGNORECASE)
_PROPS_UPPER = _properties(0)
_PROPS_ANY = _properties(re.IGNORECASE)
_FIRST = re.compile(rb"(?:\r?\n)*BEGIN:VCALENDAR\r?(?=\n(?![ \t])|\Z)", re.IGNORECASE)
_BLANK = re.compile(rb"[\r\n]*")
_LOGICAL = re.compile(rb"[^\n]*(?:\n[ \t][^\n]*)*")
_NAME_LINE = re.compile(rb"([\w.-]+)[;:]")
_LINE = re.compile(rb"[^\n]*(?:\n[ \t][^\n]*)*\n?")
_FOLD = re.compile(rb"\r?\n[ \t]")
_UNFOLD = re.compile(r"\r?\n[ \t]")
_UNESCAPE = re.compile(r"\\([\\,;:nN])")
_SPACES = re.compile(r"\s+")
_WHEN = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(\d{2})[Zz]?)?")
_DAY_VALUE = re.compile(rb"(?:(\d{8}[Tt]\d{6})[Zz]?|(\d{8}))\r*\Z")  # as _WHEN
_DURATION = re.compile(r"\+?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


class _Unsure(Exception):
    """The text has a shape the scanner does not rely on: use all of it."""


class _AnyCase(Exception):
    """A name the upper-case scanner would miss: scan again ignoring case."""


def prefilter(text, keep_summary: Callable[[str], bool], start: datetime, end: datetime,
              encoding: str = "utf-8", since: datetime | None = None, errors: str = "replace"):
    """The calendar with only what can matter for busy times in [start, end] and
    interviews in [since, end] (see module doc); `since` defaults to `start`.

    `text` may be `str`, or bytes (any bytes-like object) in `encoding`: a large
    file is then scanned without being decoded whole, and bytes come back; a
    summary that does not decode raises UnicodeDecodeError if `errors` is
    "strict". Nothing dropped: the input itself comes back.
    """
    if isinstance(text, str):
        data = text.encode("utf-8")
        out = prefilter(data, keep_summary, start, end, "utf-8", since)
        return text if out is data else out.decode("utf-8")
    f = _Filter(keep_summary, start, end, encoding, since, errors)
    try:
        try:
            return f.run(text, any_case=False)
        except _AnyCase:
            return f.run(text, any_case=True)
    except _Unsure:
        return text


def _latin(b) -> str:
    """Bytes as a str of the same length: every byte the parsing looks at is ASCII."""
    return str(b, "latin-1")


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _value(rest: str) -> str:
    """The value of a property line, given what follows its name."""
    if "\n" in rest:
        rest = _UNFOLD.sub("", rest)
    if rest.endswith("\r"):
        rest = rest[:-1]
    if rest[0] == ":":
        return rest[1:]
    i = 0
    while True:  # the first ':' outside a quoted parameter value
        colon, quote = rest.find(":", i), rest.find('"', i)
        if colon < 0:
            return ""
        if quote < 0 or colon < quote:
            return rest[colon + 1:]
        i = rest.find('"', quote + 1) + 1
        if i == 0:
            return ""


def _when(rest: str) -> tuple[datetime, bool] | None:
    """A DATE or DATE-TIME value as a naive datetime (zone ignored), is-date."""
    m = _WHEN.fullmatch(_value(rest))
    if not m:
        return None
    try:
        if m.group(4) is None:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))), True
        return datetime(*(int(g) for g in m.groups())), False
    except ValueError:
        return None


class _Filter:
    def __init__(self, keep_summary: Callable[[str], bool], start: datetime, end: datetime,
                 encoding: str = "utf-8", since: datetime | None = None,
                 errors: str = "replace"):
        self.keep_summary = keep_summary
        self.encoding = encoding
        self.errors = errors
        # from where an event may matter: a busy time (lo) or an interview (since)
        self.lo = _naive_utc(start) - MARGIN
        self.since = _naive_utc(since if since is not None else start) - MARGIN
        self.hi = _naive_utc(end) + MARGIN
        self.lo_day = f"{self.lo:%Y%m%d}".encode("ascii")
        self.since_day = f"{self.since:%Y%m%d}".encode("ascii")
        self.hi_day = f"{self.hi:%Y%m%d}".encode("ascii")
        self.seen: dict[bytes, bool] = {}
        # a pattern that takes an empty summary for an interview: keep summaries
        self.busy_props = BUSY_PROPS | ({"SUMMARY"} if keep_summary("") else set())
        self.lone_props = self.busy_props - STAMPS

    def run(self, text, any_case: bool):
        first = _FIRST.match(text)
        if not first:
            raise _Unsure
        scan = _SCAN_ANY if any_case else _SCAN_UPPER
        find_props = (_PROPS_ANY if any_case else _PROPS_UPPER).findall
        stack = [b"VCALENDAR"]
        depth = 1
        # in file order: (start, end, what, UIDs) of each VEVENT whose fate depends
        # on the others (what: GONE, BUSY or WHOLE, + NAMED) and each component
        # dropped whatever its UID (DROPPED); 80,000 of them in a large export
        comps: list[tuple[int, int, int, tuple[bytes, ...]]] = []
        whole_uids: set[bytes] = set()
        busy_uids: set[bytes] = set()
        all_uids: list[bytes] = []  # every VEVENT's, for the UIDs held twice (below)
        comp = b""  # the depth-2 component being read
        comp_start = 0
        holes: list[int] = []  # where the VEVENT's own components (alarms) begin and end
        odd = False  # it holds a line icalendar may not read
        closed = 0  # where the last VCALENDAR ended
        n = len(text)
        judge = self._judge
        for m in scan.finditer(text, first.end()):
            if m.lastindex == 3:
                odd = self._odd(text, m, depth, any_case) or odd
                continue
            be, name = m.group(1, 2)
            if any_case:
                be, name = be.upper(), name.upper()
            if be == b"BEGIN":
                if depth == 0:
                    if name != b"VCALENDAR" or not _BLANK.fullmatch(text, closed, m.start() + 1):
                        raise _Unsure
                elif depth == 1:
                    comp, comp_start, odd = name, m.start() + 1, False
                    holes = []
                elif depth == 2:
                    holes.append(m.start() + 1)
                stack.append(name)
                depth += 1
                continue
            if depth == 0 or stack[-1] != name:
                raise _Unsure
            stack.pop()
            depth -= 1
            if depth == 2:
                holes.append(m.end())
            elif depth == 1:
                line_end = min(m.end() + 1, n)
                if comp == b"VEVENT":
                    if holes:
                        bounds = [comp_start, *holes, line_end]
                        props = []
                        for i in range(0, len(bounds), 2):
                            props += find_props(text, bounds[i], bounds[i + 1])
                    else:
                        props = find_props(text, comp_start, line_end)
                    fate, named, uids = judge(props, any_case)
                    all_uids += uids
                    # kept as it is: icalendar must see the odd line; a missing UID
                    # is made from the whole event's text (ics.prepare)
                    if odd or (not uids and fate != GONE):
                        whole_uids.update(uids)
                        continue
                    if fate == WHOLE:
                        whole_uids.update(uids)
                    elif fate == BUSY:
                        busy_uids.update(uids)
                    comps.append((comp_start, line_end, fate + NAMED * named, tuple(uids)))
                elif comp in DROP and not odd:
                    comps.append((comp_start, line_end, DROPPED, ()))
            elif depth == 0:
                closed = min(m.end() + 1, n)
        if depth or not _BLANK.fullmatch(text, closed):
            raise _Unsure
        if not comps:
            return text
        # UIDs of more than one VEVENT (versions, a series), counted in one pass
        twice = {uid for uid, count in Counter(all_uids).items() if count > 1}
        # what stays between two cuts goes out as one piece: dropped neighbours
        # (most of a large export) cost nothing
        pieces, pos = [], 0
        for s, e, what, uids in comps:
            fate, named = what % NAMED, what >= NAMED
            if fate == DROPPED:
                trimmed = None
            elif fate == WHOLE or not whole_uids.isdisjoint(uids):
                trimmed = _trim(text, s, e, READ_PROPS, busy_only=False)
            elif fate == BUSY or not busy_uids.isdisjoint(uids):
                # an interview's own lines even so: its series is read as a busy time
                trimmed = (_trim(text, s, e, READ_PROPS, busy_only=False) if named
                           else _trim(text, s, e, self.busy_props, busy_only=True)
                           if not twice.isdisjoint(uids)
                           else _trim(text, s, e, self.lone_props, busy_only=True, lone=True))
            else:
                trimmed = None
            if s > pos:
                pieces.append(text[pos:s])
            if trimmed:
                pieces.append(trimmed)
            pos = e
        pieces.append(text[pos:])
        return b"".join(pieces)

    @staticmethod
    def _odd(text, m: re.Match, depth: int, any_case: bool) -> bool:
        """Whether a line icalendar may not read keeps its component; or give up."""
        if not any_case:
            named = _NAME_LINE.match(text, m.end())
            if m.group(3) or not named or _latin(named.group(1)).upper() in _WANTED:
                raise _AnyCase
            return False  # "X-Lower_case.name:" reads fine
        if m.group(3) or depth < 1:
            raise _Unsure  # BEGIN/END with parameters, a blank line before a fold, no calendar
        line = _latin(_LOGICAL.match(text, m.end()).group())
        head = re.split(r'[:;"]', _UNFOLD.sub("", line), maxsplit=1)[0]
        if re.sub(r"[ \t\r]+", "", head).upper() in ("BEGIN", "END"):
            raise _Unsure  # "BEGIN :VEVENT", a name folded across lines...
        return True

    def _summary_kept(self, rest: bytes) -> bool:
        hit = self.seen.get(rest)
        if hit is None:
            raw = _value(_latin(rest)).encode("latin-1").decode(self.encoding, self.errors)
            text = _UNESCAPE.sub(_unescape, raw)
            text = _SPACES.sub(" ", text).strip()
            hit = bool(self.keep_summary(text) or (text != raw and self.keep_summary(raw)))
            self.seen[rest] = hit
        return hit

    def _judge(self, props: list[tuple[bytes, bytes]],
               any_case: bool) -> tuple[int, bool, list[bytes]]:
        """What this VEVENT is kept as for its own sake (WHOLE, BUSY or GONE), whether
        its summary names an interview, and its UIDs.

        Runs once per event of the file, so it reads the raw bytes; only the rare
        shapes (DURATION, multi-day series) go the slow way through `str`.
        """
        keep = slow = named = False
        start = end = rule = None
        starts = ends = rules = 0
        uids = []
        seen = self.seen
        for name, rest in props:
            if any_case:
                name = name.upper()
            if name == b"DTSTART":
                start, starts = rest, starts + 1
            elif name == b"DTEND":
                end, ends = rest, ends + 1
            elif name == b"UID":
                if rest[:1] == b":" and b"\\" not in rest and b"\n" not in rest:
                    uids.append(rest[1:].strip())  # the usual shape, inline: 20,000 times
                else:
                    uids.append(_uid(rest))
            elif name == b"SUMMARY":
                if not named:
                    hit = seen.get(rest)
                    named = self._summary_kept(rest) if hit is None else hit
            elif name == b"RRULE":
                rule, rules = rest, rules + 1
            elif name == b"RECURRENCE-ID":
                keep = keep or b"THISANDFUTURE" in rest.upper()
            elif name == b"RDATE":  # extra dates, even before DTSTART: not judged here
                keep = True
            else:  # DURATION
                slow = True
        kept = WHOLE if named else BUSY
        if keep or starts != 1 or ends > 1 or rules > 1:
            return kept, named, uids
        first = _day(start)
        if first is None:
            return kept, named, uids
        if first[:8] > self.hi_day:
            return GONE, named, uids  # a series never starts before its DTSTART
        lo, lo_day = (self.since, self.since_day) if named else (self.lo, self.lo_day)
        last = _day(end) if end is not None else None
        if slow or last is None or (len(first) == 8) != (len(last) == 8) or last < first:
            return (kept if self._slow(props, lo) else GONE), named, uids
        if rule is None:
            return (kept if last[:8] >= lo_day else GONE), named, uids
        until = _until(_latin(rule))
        if until is None:
            return kept, named, uids
        if last[:8] != first[:8]:  # occurrences longer than a day
            return (kept if self._slow(props, lo) else GONE), named, uids
        return (kept if max(until.encode("ascii"), first)[:8] >= lo_day else GONE), named, uids

    @staticmethod
    def _slow(props: list[tuple[bytes, bytes]], lo: datetime) -> bool:
        """The general case: DURATION, no DTEND, multi-day series."""
        values: dict[str, list[str]] = {}
        for name, rest in props:
            values.setdefault(_latin(name).upper(), []).append(_latin(rest))
        return _overlaps(values, lo)


def _overlaps(values: dict[str, list[str]], lo: datetime) -> bool:
    """Whether the event may reach `lo`; an impossible value (a DURATION of 10^18
    weeks, a date past year 9999) is kept for ics.prepare to skip with a warning."""
    try:
        return _reaches(values, lo)
    except (OverflowError, ValueError):
        return True


def _reaches(values: dict[str, list[str]], lo: datetime) -> bool:
    first = _when(values["DTSTART"][0])
    if first is None:
        return True
    begin, is_date = first
    length = _length(values, begin, is_date)
    if length is None:
        return True
    if "RRULE" not in values:
        return begin + length >= lo
    until = _until(values["RRULE"][0])
    if until is None:
        return True
    last = _when(":" + until)
    if last is None:
        return True
    return max(last[0], begin) + length >= lo


def _trim(text, start: int, end: int, names: frozenset[str], busy_only: bool,
          lone: bool = False) -> bytes:
    """The VEVENT in text[start:end] with only the properties in `names`.

    Whole logical lines are kept or dropped, folds and line endings as they were;
    nested components (alarms) go. For a busy time only, an ATTENDEE stays only if
    it declined (it may be the user's own), and a lone STATUS:CONFIRMED or, at a
    time of day, TRANSP:OPAQUE goes: each says what its absence says to
    ics.to_events (recurring-ical-events reads neither). So does a lone SEQUENCE:0
    when `lone` (no other VEVENT in the file has the UID): recurring-ical-events
    tells a SEQUENCE:0 from none only between the components of one UID, and
    ics._versions reads both as 0. The event holds no line icalendar cannot read
    (those are kept as they are).
    """
    kept: list[tuple[str, bytes]] = []
    nested = 0
    for m in _LINE.finditer(text, start, end):
        line = m.group()
        if not line:
            break
        name = _NAME_LINE.match(line)
        name = _latin(name.group(1)).upper() if name else ""
        if name == "BEGIN" and m.start() > start:
            nested += 1
        if nested:
            if name == "END":
                nested -= 1
            continue
        if name == "ATTENDEE":
            if not busy_only or b"DECLINED" in _FOLD.sub(b"", line).upper():
                kept.append((name, line))
        elif name in names or name.startswith(OURS):
            kept.append((name, line))
    if busy_only:
        values = {}
        for name, line in kept:
            values.setdefault(name, []).append(_FOLD.sub(b"", line).rstrip(b"\r\n").upper())
        timed = [b"T" in v[v.rfind(b":"):] for v in values.get("DTSTART", ())] == [True]
        defaults = ({b"STATUS:CONFIRMED"} | ({b"TRANSP:OPAQUE"} if timed else set())
                    | ({b"SEQUENCE:0"} if lone else set()))
        kept = [(name, line) for name, line in kept
                if not (len(values[name]) == 1 and values[name][0] in defaults)]
    return b"".join(line for _, line in kept)


def _unescape(m: re.Match) -> str:
    return "\n" if m.group(1) in "nN" else m.group(1)


def _day(rest: bytes) -> bytes | None:
    """A raw DATE or DATE-TIME value, b"20260320" or b"20260320T090000" (zone dropped)."""
    if b"\n" in rest:
        rest = _FOLD.sub(b"", rest)
    m = _DAY_VALUE.match(rest, rest.rfind(b":") + 1)  # such values hold no ':'
    return (m.group(1) or m.group(2)).upper() if m else None


def _length(values: dict[str, list[str]], begin: datetime, is_date: bool) -> timedelta | None:
    ends, durations = values.get("DTEND", ()), values.get("DURATION", ())
    if len(ends) + len(durations) > 1:
        return None
    if ends:
        stop = _when(ends[0])
        if stop is None or stop[1] != is_date or stop[0] < begin:
            return None  # icalendar skips it with a warning: keep that
        return stop[0] - begin
    if durations:
        m = _DURATION.fullmatch(_value(durations[0]).strip())
        if not m:
            return None
        w, d, h, mi, s = (int(g or 0) for g in m.groups())
        return timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)
    return timedelta(days=1) if is_date else timedelta(0)


def _until(rest: str) -> str | None:
    """The UNTIL of an RRULE as a raw value; None when unbounded (or COUNT) or unclear."""
    parts = {}
    for part in _value(rest).upper().split(";"):
        key, _, val = part.partition("=")
        parts[key.strip()] = val.strip()
    until = parts.get("UNTIL")
    if until is None or "COUNT" in parts or not _WHEN.fullmatch(until):
        return None
    return until.rstrip("Z") if "T" in until else until + "T235959"


def _uid(rest: bytes) -> bytes:
    """The UID's value, unescaped and unfolded (bytes: only compared with each other)."""
    if rest[:1] == b":" and b"\\" not in rest and b"\n" not in rest:
        return rest[1:].strip()
    return _UNESCAPE.sub(_unescape, _value(_latin(rest))).strip().encode("latin-1")
