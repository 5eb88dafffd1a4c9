"""Read .ics exports into CalendarEvents, and write follow-ups as .ics.

Reading is lenient per event (one broken event is skipped with a warning) and
strict per file (a file that is not a calendar is an input error). Writing is
atomic: an existing output is replaced whole or not at all.
"""

from __future__ import annotations

import codecs
import contextlib
import glob
import hashlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..config import Settings
from ..detect import Detector, Window
from ..errors import InputError
from ..model import Attendee, CalendarEvent, FollowUp, Person, SourceData
from ..versions import OLDEST
from . import prefilter as prefiltering

OUR_UID = "@followup-cal"
OUR_KIND = "X-FOLLOWUP-CAL-KIND"
CALNAME = "Interview follow-ups"
PRODID = "-//followup-cal//Interview follow-ups//EN"
EMAIL = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Reading:
    """Warnings and the calendar-level facts gathered while reading."""

    warnings: list[str] = field(default_factory=list)
    calnames: set[str] = field(default_factory=set)


# -- decoding -------------------------------------------------------------------------

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
CHUNK = 1 << 20


def encoding_of(data: bytes) -> str:
    """UTF-16 with BOM, UTF-8 (with or without BOM), else cp1252.

    icalendar would replace undecodable bytes silently; a cp1252 export must
    keep its accented names. UTF-8 is checked in chunks, so a large file is
    not held twice to find out.
    """
    if data.startswith(UTF16_BOMS):
        return "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    checker = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for i in range(0, len(data), CHUNK):
            checker.decode(view[i:i + CHUNK])
        checker.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode(data: bytes) -> str:
    encoding = encoding_of(data)
    return data.decode(encoding, errors="replace" if encoding == "cp1252" else "strict")


def read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{path}: is a directory, not an .ics file")
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_text(path: str) -> str:
    return decode(read_bytes(path))


def filtered_text(data: bytes, keep: Callable[[str], bool], start: datetime,
                  end: datetime, since: datetime | None = None) -> str:
    """The pre-filtered calendar, decoded.

    The scan runs over the raw bytes, so a large export is never held decoded
    (Python would keep a text with one non-Latin-1 character at 2-4 bytes per
    character); only what is kept, and the summaries, are decoded. Without a BOM,
    that is UTF-8 if all of it reads as UTF-8, else cp1252 (checking the whole
    file first, as `decode` does, costs 30 ms per 10 MB).
    """
    if data.startswith(UTF16_BOMS):
        return prefiltering.prefilter(data.decode("utf-16"), keep, start, end, since=since)
    bom = data.startswith(codecs.BOM_UTF8)
    skip = len(codecs.BOM_UTF8) if bom else 0
    with memoryview(data) as view:
        try:
            return _filtered(view[skip:], "utf-8", "replace" if bom else "strict", keep,
                             start, end, since)
        except UnicodeDecodeError:  # not UTF-8 after all: an old Windows export
            return _filtered(view[skip:], "cp1252", "replace", keep, start, end, since)


def _filtered(body: memoryview, encoding: str, errors: str, keep: Callable[[str], bool],
              start: datetime, end: datetime, since: datetime | None) -> str:
    kept = prefiltering.prefilter(body, keep, start, end, encoding, since, errors)
    try:
        return str(kept, encoding, errors)
    finally:
        if isinstance(kept, memoryview):
            kept.release()


def parse_calendars(text: str, name: str):
    """The VCALENDARs in `text`; the slot where a faster pre-filter goes."""
    import icalendar

    if "BEGIN:VCALENDAR" not in text[:65536].upper():
        raise InputError(f"{name}: not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        cals = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError...
        raise InputError(f"{name}: not a readable calendar ({_short(exc)})") from None
    cals = [c for c in cals if c.name == "VCALENDAR"]
    if not cals:
        raise InputError(f"{name}: no VCALENDAR in the file")
    return cals


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


# -- zones --------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _is_iana(name: str | None) -> bool:
    """A zone the tz database knows by this name (not a file path, not an alias file).

    Asked of the zone itself: listing the database (available_timezones) reads
    every file in it, 30 ms a run.
    """
    if not name or name in ("posixrules", "localtime", "Factory") or name.startswith(
            ("posix/", "right/")):
        return False
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


# Tried first when a custom zone has to be matched by its offsets: zones that
# share rules (New York and Grand Turk in 2026) should come out as the big one.
COMMON_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Toronto",
    "America/Mexico_City", "America/Sao_Paulo", "Europe/London", "Europe/Dublin",
    "Europe/Lisbon", "Europe/Berlin", "Europe/Paris", "Europe/Helsinki", "Europe/Istanbul",
    "Europe/Moscow", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai",
    "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
)


def _match_zone(tzinfo, year: int, preferred: str) -> str | None:
    """An IANA zone with the same offsets all year (custom Outlook zone names)."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    probes = [datetime(year, m, d, 12) for m in range(1, 13) for d in (1, 15)]
    want = [tzinfo.utcoffset(p) for p in probes]
    for name in (preferred, *COMMON_ZONES, *sorted(set(WINDOWS_TO_OLSON.values()))):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if [zone.utcoffset(p) for p in probes] == want:
            return name
    return None


def zone_name(value, preferred: str, tzid: str | None = None) -> str | None:
    """The IANA name of an aware value's zone; None for UTC, floating or dates.

    A Windows name in the TZID ("Eastern Standard Time") maps to its zone
    directly, whatever VTIMEZONE the file carries for it.
    """
    from icalendar.timezone.tzid import tzids_from_tzinfo
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    mapped = WINDOWS_TO_OLSON.get((tzid or "").strip('"'))
    if _is_iana(mapped):
        return mapped
    for name in tzids_from_tzinfo(value.tzinfo):
        if name == "UTC":
            return None
        if _is_iana(name):
            return name
    return _match_zone(value.tzinfo, value.year, preferred)


# -- components ---------------------------------------------------------------------

def _text(component, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return str(value)


def person(addr) -> Person | None:
    if addr is None:
        return None
    params = getattr(addr, "params", {}) or {}
    email = params.get("EMAIL") or str(addr)
    email = re.sub(r"^mailto:", "", email.strip().strip('"'), flags=re.I)
    if not EMAIL.match(email):
        email = None
    name = (params.get("CN") or "").strip().strip('"') or None
    if email is None and name is None:
        return None
    return Person(name=name, email=email.lower() if email else None)


def attendees(component) -> tuple[Attendee, ...]:
    raw = component.get("ATTENDEE")
    if raw is None:
        return ()
    out = []
    for addr in raw if isinstance(raw, list) else [raw]:
        p = person(addr)
        if p is None:
            continue
        params = addr.params
        out.append(Attendee(
            person=p,
            cutype=str(params.get("CUTYPE", "INDIVIDUAL")).upper(),
            partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
            role=str(params.get("ROLE", "REQ-PARTICIPANT")).upper(),
        ))
    return tuple(out)


def _broken(component) -> str | None:
    """Why this VEVENT cannot be used, or None."""
    bad = {name for name, _ in getattr(component, "errors", ())}
    for key in ("DTSTART", "DTEND", "DURATION", "RRULE", "RECURRENCE-ID"):
        if key in bad:
            return f"bad {key}"
    if "DTSTART" not in component:
        return "no DTSTART"
    try:
        start, end = component.start, component.end
        if isinstance(start, datetime) != isinstance(end, datetime):
            return "DTSTART and DTEND of different types"
        if end < start:
            return "ends before it starts"
    except Exception as exc:  # icalendar's InvalidCalendar, TypeError on mixed values
        return _short(exc)
    return None


def _mend(component) -> None:
    """Shapes other calendars read and icalendar refuses: DTEND beside DURATION (DTEND
    is kept), DTSTART or DTEND twice (the first is kept)."""
    for key in ("DTSTART", "DTEND"):
        if isinstance(component.get(key), list):
            first = component[key][0]
            del component[key]
            component[key] = first
    if "DTEND" in component and "DURATION" in component:
        del component["DURATION"]


def _end_in_start_zone(component) -> None:
    """A floating DTEND beside a zoned DTSTART is read in DTSTART's zone (as
    icalendar's own `end` does not: it cannot compare the two)."""
    if {name for name, _ in getattr(component, "errors", ())} & {"DTSTART", "DTEND"}:
        return  # _broken says why
    start, end = component.get("DTSTART"), component.get("DTEND")
    first, last = getattr(start, "dt", None), getattr(end, "dt", None)
    if (isinstance(first, datetime) and isinstance(last, datetime)
            and first.tzinfo is not None and last.tzinfo is None):
        params = dict(end.params)
        params.pop("TZID", None)
        del component["DTEND"]
        component.add("DTEND", last.replace(tzinfo=first.tzinfo), parameters=params)


def _localise(component, tz: ZoneInfo, warn: Callable[[str], None]) -> None:
    """Unknown TZIDs and floating times are read in the user's zone.

    icalendar turns an unknown TZID into a floating time without a word; a
    floating interview would otherwise shift by the machine's offset.
    """
    for key in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = component.get(key)
        if prop is None or not hasattr(prop, "dt"):
            continue
        value = prop.dt
        if not isinstance(value, datetime) or value.tzinfo is not None:
            continue
        tzid = prop.params.get("TZID")
        if tzid and key == "DTSTART":
            warn(f"event {_text(component, 'UID') or '?'}: unknown time zone {tzid!r},"
                 f" read in {tz.key}")
        del component[key]
        component.add(key, value.replace(tzinfo=tz))


def _uid(component) -> str:
    return _text(component, "UID").strip()


def prepare(cal, settings: Settings, reading: Reading, source: str):
    """Drop broken events (with a warning), fix zones; return (calendar, zones)."""
    import x_wr_timezone

    name = _text(cal, "X-WR-CALNAME").strip()
    if EMAIL.match(name):  # Google names an exported calendar after its owner
        reading.calnames.add(name.lower())
    owner = person(cal.get("X-OWNER"))  # Outlook: X-OWNER;CN="Sam":mailto:sam@…
    if owner and owner.email:
        reading.calnames.add(owner.email)
    if "X-WR-TIMEZONE" in cal:
        # Google writes UTC and names the zone once: the event's "own" zone is
        # then none (the candidate's), so record raw zones before converting.
        zones = _raw_zones(cal, settings)
        try:
            cal = x_wr_timezone.to_standard(cal)
        except Exception as exc:
            reading.warnings.append(f"{source}: X-WR-TIMEZONE ignored ({_short(exc)})")
    else:
        zones = None
    tz = ZoneInfo(settings.timezone)
    keep = []
    for component in cal.subcomponents:
        if component.name == "VEVENT":
            try:
                _mend(component)
                _end_in_start_zone(component)
                why = _broken(component)
                if not why:
                    if not _uid(component):
                        digest = hashlib.sha256(component.to_ical()).hexdigest()[:16]
                        component.add("UID", f"nouid-{digest}")
                    _localise(component, tz, reading.warnings.append)
            except Exception as exc:  # a value icalendar read but Python cannot hold
                why = _short(exc)
            if why:
                uid = _uid(component) or "(no UID)"
                reading.warnings.append(f"{source}: skipped event {uid}: {why}")
                continue
        keep.append(component)
    cal.subcomponents[:] = keep
    if zones is None:
        zones = _raw_zones(cal, settings)
    return cal, zones


def _rid_key(component) -> str | None:
    rid = component.get("RECURRENCE-ID")
    if rid is None:
        return None
    value = rid.dt
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.isoformat()


def _raw_zones(cal, settings: Settings) -> dict:
    zones = {}
    for component in cal.walk("VEVENT"):
        prop = component.get("DTSTART")
        try:
            value = prop.dt
        except Exception:  # none, or broken: the event is dropped with a warning later
            continue
        zones[(_uid(component), _rid_key(component))] = zone_name(
            value, settings.timezone, prop.params.get("TZID"))
    return zones


def _recurring_uids(cal) -> set[str]:
    return {
        _uid(c) for c in cal.walk("VEVENT")
        if "RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c
    }


def occurrences(cal, window: Window, reading: Reading, source: str,
                interviewish: Callable[[str], bool]) -> Iterator:
    """Occurrences that can matter: a series with an interview in it from the start of
    the interview window, any other only from where busy times start to matter."""
    import icalendar

    groups = _by_uid(cal)
    zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    early, late = icalendar.Calendar(), icalendar.Calendar()
    early.subcomponents.extend(zones)
    late.subcomponents.extend(zones)
    for comps in groups.values():
        since = window.start if any(interviewish(_summary(c)) for c in comps) else (
            window.busy_start)
        if _rapid(comps):
            yield from _coalesced(comps, max(since, window.busy_start), window.busy_end,
                                  reading, source)
            continue
        if len(comps) == 1 and not any(key in comps[0] for key in SERIES):
            # one plain event is its own occurrence: no copy through the expander
            if _may_overlap(comps[0], since, window.busy_end):
                yield comps[0]
            continue
        (early if since == window.start else late).subcomponents.extend(comps)
    yield from _expand(early, zones, window.start, window.busy_end, reading, source)
    yield from _expand(late, zones, window.busy_start, window.busy_end, reading, source)


SERIES = ("RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID")

RAPID = {"SECONDLY": timedelta(seconds=1), "MINUTELY": timedelta(minutes=1),
         "HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}
"""Series repeating more than once a day are busy time only, read as blocks
(`_coalesced`): expanded one by one, a FREQ=MINUTELY series from 2007 costs minutes,
a daily one at 24 times of day from 1997 ten seconds. A DAILY or WEEKLY rule is one
when its BYHOUR/BYMINUTE/BYSECOND give more than one time of day."""
RAPID_LIMIT = 20_000
"""Occurrences of a rapid series with BY-rules read one by one, at most."""
COPIED = ("UID", "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "STATUS", "TRANSP", "ATTENDEE")


def _rapid(comps: list) -> bool:
    """One series repeating more than once a day, at times of day."""
    masters = [c for c in comps if "RECURRENCE-ID" not in c]
    if len(masters) != 1 or not isinstance(masters[0].get("RRULE"), dict):
        return False
    rule = masters[0]["RRULE"]
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    if freq in ("DAILY", "WEEKLY"):
        times = 1
        for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            times *= len(rule.get(key) or [0])
        if times < 2:
            return False
    try:
        return freq in RAPID and isinstance(masters[0].start, datetime)
    except Exception:  # icalendar cannot tell its start: the expander reports it
        return False


def _coalesced(comps: list, since: datetime, end: datetime, reading: Reading,
               source: str) -> Iterator:
    """The busy blocks of a rapid series in [since, end], one event per block, with
    no summary or notes (it is never an interview); its overrides as they are.

    The rule starts again at the last step before `since` (the same occurrences from
    there on, as every BY-rule keeps to the step's grid), so its age costs nothing.
    Without BY-rules or EXDATEs, occurrences as long as the step are one block,
    computed, not counted; otherwise at most RAPID_LIMIT are read one by one.
    """
    import icalendar

    master = next(c for c in comps if "RECURRENCE-ID" not in c)
    uid = _uid(master)
    for c in comps:
        if c is not master and _may_overlap(c, since, end):
            yield c
    try:
        blocks, complete = _blocks(master, since, end)
    except Exception as exc:  # dateutil or icalendar refusing this rule
        reading.warnings.append(f"{source}: skipped event {uid}: {_short(exc)}")
        return
    if not complete:
        reading.warnings.append(f"{source}: event {uid} repeats more than {RAPID_LIMIT}"
                                " times in the window: read only as far as that")
    for first, last in blocks:
        block = icalendar.Event()
        for key in COPIED:
            if key in master:
                block[key] = master[key]
        block.add("DTSTART", first)
        block.add("DTEND", last)
        block.add("RECURRENCE-ID", first)
        yield block


def _blocks(master, since: datetime, end: datetime) -> tuple[list[tuple], bool]:
    """[start, end) of each run of overlapping occurrences, and whether that is all of
    them (not cut at RAPID_LIMIT)."""
    from dateutil.rrule import rrulestr

    first, length = master.start, master.end - master.start
    zone = first.tzinfo
    rule = master["RRULE"]
    step = RAPID[str(rule["FREQ"][0]).upper()] * int((rule.get("INTERVAL") or [1])[0])
    if length <= timedelta(0) or step <= timedelta(0):
        return [], True  # never busy (Detector.busy)
    by = any(str(k).upper().startswith("BY") for k in rule)
    count = int(rule["COUNT"][0]) if "COUNT" in rule else None
    wall = first.replace(tzinfo=None)  # dateutil steps in wall-clock time
    lag = since.astimezone(zone).replace(tzinfo=None) - length - wall if zone else (
        since.replace(tzinfo=None) - length - wall)
    skip = lag // step if lag > timedelta(0) and (count is None or not by) else 0
    if count is not None:
        count -= skip
        if count <= 0:
            return [], True
    begin = (wall + skip * step).replace(tzinfo=zone)
    exdates = _exdates(master)
    stop = end if zone else end.replace(tzinfo=None)
    if not by and not exdates and length >= step:
        last = stop
        until = rule.get("UNTIL")
        if until:
            value = until[0]
            if not isinstance(value, datetime):
                value = datetime.combine(value, datetime.max.time())
            last = min(last, (value if value.tzinfo else value.replace(tzinfo=zone)) + length
                       if zone else value.replace(tzinfo=None) + length)
        if count is not None:
            last = min(last, begin + (count - 1) * step + length)
        return ([(begin, last)] if last > begin else []), True
    text = rule.to_ical().decode()
    if count is not None:
        text = re.sub(r"COUNT=\d+", f"COUNT={count}", text)
    blocks: list[list[datetime]] = []
    complete = True
    for n, t in enumerate(rrulestr(text, dtstart=begin, cache=False)):
        if t > stop:
            break
        if n >= RAPID_LIMIT:
            complete = False
            break
        if t in exdates:
            continue
        if blocks and t <= blocks[-1][1]:
            blocks[-1][1] = max(blocks[-1][1], t + length)
        else:
            blocks.append([t, t + length])
    return [(a, b) for a, b in blocks], complete


def _exdates(component) -> set:
    found = set()
    raw = component.get("EXDATE")
    for prop in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        for value in getattr(prop, "dts", ()):
            found.add(value.dt)
    return found


def _may_overlap(component, start: datetime, end: datetime) -> bool:
    """Whether a plain event may touch [start, end]; a day's slack either side, since
    all-day dates have no zone. What it lets through is judged again by `collect`."""
    first, last = component.start, component.end
    if not isinstance(first, datetime):
        return start.date() - timedelta(days=1) <= last and first <= end.date() + timedelta(days=1)
    return start - timedelta(days=1) <= last and first <= end + timedelta(days=1)


def _expand(cal, zones: list, start: datetime, end: datetime, reading: Reading,
            source: str) -> Iterator:
    import recurring_ical_events

    if len(cal.subcomponents) == len(zones):
        return
    try:
        yield from recurring_ical_events.of(cal, skip_bad_series=True).between(start, end)
        return
    except Exception as exc:
        reading.warnings.append(f"{source}: recurrence expansion failed ({_short(exc)});"
                                " reading events one series at a time")
    import icalendar

    for uid, comps in _by_uid(cal).items():
        one = icalendar.Calendar()
        one.subcomponents.extend([*zones, *comps])
        try:
            yield from recurring_ical_events.of(one, skip_bad_series=True).between(start, end)
        except Exception as exc:
            reading.warnings.append(f"{source}: skipped event {uid}: {_short(exc)}")


def _by_uid(cal) -> dict[str, list]:
    """The calendar's VEVENTs by UID: a series' master and its overrides together."""
    groups: dict[str, list] = {}
    for c in cal.subcomponents:
        if c.name == "VEVENT":
            groups.setdefault(_uid(c), []).append(c)
    return groups


def _summary(component) -> str:
    return re.sub(r"\s+", " ", _text(component, "SUMMARY")).strip()


def to_events(cal, zones: dict, window: Window, reading: Reading, source: str,
              interviewish: Callable[[str], bool]) -> Iterator[CalendarEvent]:
    recurring = _recurring_uids(cal)
    versions = _versions(cal)
    method = _text(cal, "METHOD").strip().upper()
    for occ in occurrences(cal, window, reading, source, interviewish):
        uid = _uid(occ)
        try:
            start, end = occ.start, occ.end
        except Exception as exc:
            reading.warnings.append(f"{source}: skipped event {uid}: {_short(exc)}")
            continue
        rid = _rid_key(occ) if uid in recurring else None
        version = versions.get((uid, rid)) or versions.get((uid, None)) or (0, None)
        tzid = zones.get((uid, rid), zones.get((uid, None)))
        yield CalendarEvent(
            uid=uid,
            recurrence_id=rid,
            summary=_summary(occ),
            description=_text(occ, "DESCRIPTION"),
            start=start,
            end=end,
            tzid=tzid,
            status=_text(occ, "STATUS").upper() or "CONFIRMED",
            transparent=_text(occ, "TRANSP").upper() == "TRANSPARENT"
            or (not isinstance(start, datetime) and _text(occ, "TRANSP").upper() != "OPAQUE"),
            organizer=person(occ.get("ORGANIZER")),
            attendees=attendees(occ),
            ours=uid.endswith(OUR_UID) or OUR_KIND in occ,
            source=source,
            sequence=version[0],
            stamp=version[1],
            method=method,
            override=rid is not None and (uid, rid) in versions,
        )


def _versions(cal) -> dict[tuple[str, str | None], tuple[int, datetime | None]]:
    """(SEQUENCE, stamp) by (UID, RECURRENCE-ID) of the components as written: an
    occurrence the expander makes carries its whole series' highest SEQUENCE instead.
    Two masters of one UID in one calendar: the newer."""
    found: dict[tuple[str, str | None], tuple] = {}
    for c in cal.subcomponents:
        if c.name == "VEVENT":
            key = (_uid(c), _rid_key(c))
            version = (_int(c.get("SEQUENCE")), _stamp(c))
            old = found.get(key)
            if old is None or (old[0], old[1] or OLDEST) < (version[0], version[1] or OLDEST):
                found[key] = version
    return found


def _int(value) -> int:
    try:
        return max(0, int(value)) if value is not None else 0
    except (TypeError, ValueError, OverflowError):
        return 0


def _stamp(component) -> datetime | None:
    """When this version was written: the later of DTSTAMP and LAST-MODIFIED."""
    found = []
    for key in ("DTSTAMP", "LAST-MODIFIED"):
        try:
            value = component.get(key).dt
        except Exception:  # absent, or a value icalendar could not read: no stamp
            continue
        if isinstance(value, datetime):
            found.append(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return max(found, default=None)


def read_events(paths: Iterable[str], settings: Settings, now: datetime,
                reading: Reading, prefilter: bool | None = None) -> list[CalendarEvent]:
    """Occurrences in the window around `now` (see `read_window`)."""
    return read_window(paths, settings, Window.around(now, settings), reading, prefilter)


def read_window(paths: Iterable[str], settings: Settings, window: Window, reading: Reading,
                prefilter: bool | None = None) -> list[CalendarEvent]:
    """Occurrences in `window`; `prefilter` (default: prefilter.ENABLED) first
    cuts the text down to what can matter, so a ten-year export parses fast."""
    keep = Detector.build(settings, ()).is_interview_summary
    events: list[CalendarEvent] = []
    for path in paths:
        if prefiltering.ENABLED if prefilter is None else prefilter:
            # busy times only matter from now on: slots are never in the past;
            # interviews from the start of the interview window. The bytes are
            # passed straight in, so that filtered_text holds the only reference
            # and can drop them before scanning.
            text = filtered_text(read_bytes(path), keep, window.busy_start, window.busy_end,
                                 since=window.start)
        else:
            text = decode(read_bytes(path))
        cals = parse_calendars(text, path)
        del text  # the whole file: free it before the calendars are expanded
        for cal in cals:
            cal, zones = prepare(cal, settings, reading, path)
            events.extend(to_events(cal, zones, window, reading, path, keep))
    return events


@dataclass(frozen=True)
class IcsFiles:
    """Calendar files (.ics exports, `-` for stdin) as one Source.

    All the files are one source, so that the calendar names they carry (a
    Google export's X-WR-CALNAME: the user's address) count for every file.
    """

    paths: tuple[str, ...] | list[str]
    prefilter: bool | None = None  # None: prefilter.ENABLED

    @property
    def name(self) -> str:
        return "ics:" + ",".join(self.paths)

    def read(self, window: Window, settings: Settings):
        from ..model import Reading as Found

        reading = Reading()
        events = read_window(self.paths, settings, window, reading, self.prefilter)
        return Found(tuple(events), frozenset(reading.calnames), tuple(reading.warnings))


def read_sources(paths: Iterable[str], settings: Settings, now: datetime) -> SourceData:
    """Interviews in the window and the busy times around them, from .ics files (the
    pipeline's collect over one IcsFiles source; tests read fixtures with it)."""
    from ..pipeline import collect

    return collect([IcsFiles(tuple(paths))], settings, now)


# -- writing ------------------------------------------------------------------------

def _utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc)


def to_ical(followups: Iterable[FollowUp], settings: Settings, now: datetime) -> bytes:
    """RFC 5545, METHOD:PUBLISH, no ATTENDEE (an import would send invitations)."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar.new(prodid=PRODID, method="PUBLISH", calscale="GREGORIAN")
    del cal["UID"]  # a random one each run: same input must give the same bytes
    cal.add("X-WR-CALNAME", CALNAME)
    stamp = _utc(now).replace(microsecond=0)
    for f in followups:
        ev = Event.new(uid=f.uid, start=_utc(f.start), end=_utc(f.end), summary=f.summary,
                       stamp=stamp)
        ev.add("DESCRIPTION", f.description)
        ev.add("SEQUENCE", 0)
        ev.add("CATEGORIES", ["Interview follow-up", f.kind.replace("_", " ")])
        ev.add("RELATED-TO", f.interview_uid)
        ev.add("TRANSP", "OPAQUE" if f.busy else "TRANSPARENT")
        ev.add("CLASS", "PRIVATE")
        ev.add(OUR_KIND, f.kind)
        if f.recipient and f.recipient.email:
            ev.add("URL", f"mailto:{f.recipient.email}", parameters={"VALUE": "URI"})
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", f.summary)
        alarm.add("TRIGGER", timedelta(minutes=-settings.reminder_minutes))
        ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()


STALE_TEMP_SECONDS = 3600  # older temp siblings are from killed runs, not running ones


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Temp files that runs killed mid-write (SIGKILL) left behind."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for old in folder.glob(f".{glob.escape(name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()


def write_atomic(path: str, data: bytes) -> None:
    """Temporary file in the same folder, then rename: never half-written."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{path}: is a directory")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    _remove_stale_temps(folder, target.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
