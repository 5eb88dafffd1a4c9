"""A streaming pre-filter for .ics text: hand icalendar only what can matter.

A real export holds ten years of calendar, but the plan needs only the
interviews, the series they belong to, and the busy times around the window.
`prefilter` scans the raw text once (one regular expression over the line
starts, no per-event backtracking) and returns a smaller calendar made of the
original lines of what it keeps, in their original order:

- every calendar-level line (PRODID, VERSION, METHOD, X-WR-TIMEZONE, X-WR-CALNAME...);
- every VTIMEZONE (icalendar caches them process-wide in file order, so all are
  kept, where they were) and every component it does not know;
- each VEVENT whose unfolded SUMMARY passes `keep_summary`;
- each VEVENT that may overlap [start, end], judged from its raw DTSTART,
  DTEND/DURATION and RRULE UNTIL with a two-day margin (zones are not resolved
  here), and each VEVENT it cannot judge (no or odd DTSTART, RDATE, COUNT, odd
  lines: icalendar then reports what is wrong, as without the filter);
- every VEVENT sharing a UID with a kept one (series masters and RECURRENCE-ID
  overrides, in any order in the file).

VTODO, VJOURNAL, VFREEBUSY and the VEVENTs outside the window are dropped. A
component holding a line icalendar cannot read is kept whole, so its error is
raised or recorded as before. When the text does not have the shape this
scanner relies on (not starting with BEGIN:VCALENDAR, BEGIN/END lines with
parameters, folds or odd spacing, unbalanced components, content outside a
calendar), the text is returned unchanged and icalendar reads all of it.

One difference by design: a malformed property value inside a dropped VALARM or
VTODO no longer makes icalendar reject the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

ENABLED = True
"""`ics.read_events` uses the pre-filter unless this is False (tests compare both)."""

MARGIN = timedelta(days=2)
"""Times are compared without their zones: UTC offsets stay well within a day."""

DROP = frozenset({"VTODO", "VJOURNAL", "VFREEBUSY"})

_PROPS = "SUMMARY|UID|DTSTART|DTEND|DURATION|RRULE|RDATE|RECURRENCE-ID"
_WANTED = frozenset(["BEGIN", "END", *_PROPS.split("|")])


def _scanner(comp: str, name: str, flags: int) -> re.Pattern:
    """Tried at every line break; groups: 1-2 a BEGIN/END line, 3-4 a property the
    judgement needs (with its continuation lines), 5 a line icalendar may read
    differently: BEGIN/END with parameters, trailing text or a fold, a blank line
    before a continuation, or a line that is not NAME followed by ';' or ':'.
    Over bytes: the file is scanned before it is decoded.
    """
    return re.compile(
        (
            r"\n(?:"
            rf"(BEGIN|END):([{comp}]+)\r?(?=\n(?![ \t])|\Z)"
            rf"|({_PROPS})([;:][^\n]*(?:\n[ \t][^\n]*)*)"
            rf"|((?:BEGIN|END)[;:]|\r?\n[ \t]|(?![{name}]+[;:]|[ \t]|\r?\n|\r?\Z))"
            r")"
        ).encode("ascii"),
        flags,
    )


# Exports write names in capitals: scan for those (fast); a name in other case
# sends the scan round again with the case-insensitive scanner.
_SCAN_UPPER = _scanner("A-Z0-9-", "A-Z0-9-", 0)
_SCAN_ANY = _scanner("A-Za-z0-9-", r"\w.-", re.IGNORECASE)
_FIRST = re.compile(rb"(?:\r?\n)*BEGIN:VCALENDAR\r?(?=\n(?![ \t])|\Z)", re.IGNORECASE)
_BLANK = re.compile(rb"[\r\n]*")
_LOGICAL = re.compile(rb"[^\n]*(?:\n[ \t][^\n]*)*")
_NAME_LINE = re.compile(rb"([\w.-]+)[;:]")
_UNFOLD = re.compile(r"\r?\n[ \t]")
_UNESCAPE = re.compile(r"\\([\\,;:nN])")
_SPACES = re.compile(r"\s+")
_WHEN = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(\d{2})[Zz]?)?")
_DURATION = re.compile(r"\+?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


class _Unsure(Exception):
    """The text has a shape the scanner does not rely on: use all of it."""


class _AnyCase(Exception):
    """A name the upper-case scanner would miss: scan again ignoring case."""


def prefilter(text, keep_summary: Callable[[str], bool], start: datetime, end: datetime,
              encoding: str = "utf-8"):
    """The calendar with only what can matter for [start, end] (see module doc).

    `text` may be `str`, or bytes (any bytes-like object) in `encoding`: a large
    file is then scanned without being decoded whole, and bytes come back.
    Nothing dropped: the input itself comes back.
    """
    if isinstance(text, str):
        data = text.encode("utf-8")
        out = prefilter(data, keep_summary, start, end, "utf-8")
        return text if out is data else out.decode("utf-8")
    f = _Filter(keep_summary, start, end, encoding)
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
                 encoding: str = "utf-8"):
        self.keep_summary = keep_summary
        self.encoding = encoding
        self.lo = _naive_utc(start) - MARGIN
        self.hi = _naive_utc(end) + MARGIN
        self.lo_day = f"{self.lo:%Y%m%d}"
        self.hi_day = f"{self.hi:%Y%m%d}"
        self.seen: dict[str, bool] = {}

    def run(self, text, any_case: bool):
        first = _FIRST.match(text)
        if not first:
            raise _Unsure
        scan = _SCAN_ANY if any_case else _SCAN_UPPER
        stack = ["VCALENDAR"]
        depth = 1
        drops: list[tuple[int, int]] = []  # components dropped whatever their UID
        maybe: list[tuple[int, int, list[str]]] = []  # VEVENTs dropped unless UID kept
        keep_uids: set[str] = set()
        comp = ""  # the depth-2 component being read
        comp_start = 0
        props: list[tuple[str, str]] | None = None  # the VEVENT being read
        odd = False  # it holds a line icalendar may not read
        closed = 0  # where the last VCALENDAR ended
        n = len(text)
        judge = self._judge
        for m in scan.finditer(text, first.end()):
            kind = m.lastindex
            if kind == 4:  # a property the judgement needs
                if props is not None and depth == 2:
                    name3, rest = _latin(m.group(3)), _latin(m.group(4))
                    props.append((name3.upper() if any_case else name3, rest))
                continue
            if kind == 5:
                odd = self._odd(text, m, depth, any_case) or odd
                continue
            be, name = _latin(m.group(1)), _latin(m.group(2))
            if any_case:
                be, name = be.upper(), name.upper()
            line_start = m.start() + 1
            if be == "BEGIN":
                if depth == 0:
                    if name != "VCALENDAR" or not _BLANK.fullmatch(text, closed, line_start):
                        raise _Unsure
                elif depth == 1:
                    comp, comp_start, odd = name, line_start, False
                    if name == "VEVENT":
                        props = []
                stack.append(name)
                depth += 1
                continue
            if depth == 0 or stack[-1] != name:
                raise _Unsure
            stack.pop()
            depth -= 1
            if depth == 1:
                line_end = min(m.end() + 1, n)
                if props is not None:
                    keep, uids = judge(props)
                    if keep or odd:
                        keep_uids.update(uids)
                    else:
                        maybe.append((comp_start, line_end, uids))
                    props = None
                elif comp in DROP and not odd:
                    drops.append((comp_start, line_end))
            elif depth == 0:
                closed = min(m.end() + 1, n)
        if depth or not _BLANK.fullmatch(text, closed):
            raise _Unsure
        for s, e, uids in maybe:
            if keep_uids.isdisjoint(uids):
                drops.append((s, e))
        if not drops:
            return text
        drops.sort()
        pieces, pos = [], 0
        for s, e in drops:
            pieces.append(text[pos:s])
            pos = e
        pieces.append(text[pos:])
        return b"".join(pieces)

    @staticmethod
    def _odd(text, m: re.Match, depth: int, any_case: bool) -> bool:
        """Whether a line icalendar may not read keeps its component; or give up."""
        if not any_case:
            named = _NAME_LINE.match(text, m.end())
            if m.group(5) or not named or _latin(named.group(1)).upper() in _WANTED:
                raise _AnyCase
            return False  # "X-Lower_case.name:" reads fine
        if m.group(5) or depth < 1:
            raise _Unsure  # BEGIN/END with parameters, a blank line before a fold, no calendar
        line = _latin(_LOGICAL.match(text, m.end()).group())
        head = re.split(r'[:;"]', _UNFOLD.sub("", line), maxsplit=1)[0]
        if re.sub(r"[ \t\r]+", "", head).upper() in ("BEGIN", "END"):
            raise _Unsure  # "BEGIN :VEVENT", a name folded across lines...
        return True

    def _summary_kept(self, rest: str) -> bool:
        hit = self.seen.get(rest)
        if hit is None:
            raw = _value(rest).encode("latin-1").decode(self.encoding, errors="replace")
            text = _UNESCAPE.sub(_unescape, raw)
            text = _SPACES.sub(" ", text).strip()
            hit = bool(self.keep_summary(text) or (text != raw and self.keep_summary(raw)))
            self.seen[rest] = hit
        return hit

    def _judge(self, props: list[tuple[str, str]]) -> tuple[bool, list[str]]:
        """Whether this VEVENT must be kept for its own sake, and its UIDs."""
        keep = slow = False
        start = end = rule = None
        starts = ends = rules = 0
        uids = []
        for name, rest in props:
            if name == "DTSTART":
                start, starts = rest, starts + 1
            elif name == "DTEND":
                end, ends = rest, ends + 1
            elif name == "UID":
                uids.append(_uid(rest))
            elif name == "SUMMARY":
                keep = keep or self._summary_kept(rest)
            elif name == "RRULE":
                rule, rules = rest, rules + 1
            elif name == "RECURRENCE-ID":
                keep = keep or "THISANDFUTURE" in rest.upper()
            elif name == "RDATE":  # extra dates, even before DTSTART: not judged here
                keep = True
            else:  # DURATION
                slow = True
        if keep or starts != 1 or ends > 1 or rules > 1:
            return True, uids
        first = _day(start)
        if first is None:
            return True, uids
        if first[:8] > self.hi_day:
            return False, uids  # a series never starts before its DTSTART
        last = _day(end) if end is not None else None
        if slow or last is None or (len(first) == 8) != (len(last) == 8) or last < first:
            return self._slow(props), uids
        if rule is None:
            return last[:8] >= self.lo_day, uids
        until = _until(rule)
        if until is None:
            return True, uids
        if last[:8] != first[:8]:
            return self._slow(props), uids  # occurrences longer than a day
        return max(until, first)[:8] >= self.lo_day, uids

    def _slow(self, props: list[tuple[str, str]]) -> bool:
        """The general case: DURATION, no DTEND, multi-day series."""
        values: dict[str, list[str]] = {}
        for name, rest in props:
            values.setdefault(name, []).append(rest)
        first = _when(values["DTSTART"][0])
        if first is None:
            return True
        begin, is_date = first
        length = _length(values, begin, is_date)
        if length is None:
            return True
        if "RRULE" not in values:
            return begin + length >= self.lo
        until = _until(values["RRULE"][0])
        if until is None:
            return True
        last = _when(":" + until)
        if last is None:
            return True
        return max(last[0], begin) + length >= self.lo


def _unescape(m: re.Match) -> str:
    return "\n" if m.group(1) in "nN" else m.group(1)


def _day(rest: str) -> str | None:
    """A raw DATE or DATE-TIME value, "20260320" or "20260320T090000" (zone dropped)."""
    if "\n" in rest:
        rest = _UNFOLD.sub("", rest)
    value = rest[rest.rfind(":") + 1:].rstrip("\r")  # such values hold no ':'
    if not _WHEN.fullmatch(value):
        return None
    return value[:15].upper()


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


def _uid(rest: str) -> str:
    if rest[0] == ":" and "\\" not in rest and "\n" not in rest:
        return rest[1:].strip()
    return _UNESCAPE.sub(_unescape, _value(rest)).strip()
