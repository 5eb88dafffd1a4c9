"""Google's event JSON both ways: a `CalendarEvent` from it, our follow-up as one.

Our events carry private extended properties that mark them as ours, with the
follow-up's identity hash, a hash of what was written and its interview's
mark; their ids are derived from the identity (with a generation once Google
keeps an old id reserved).
"""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...config import Settings
from ...ledger import content_hash
from ...model import Attendee, CalendarEvent, FollowUp, Person
from ...rules import UID_DOMAIN, key_digest

# extendedProperties.private keys: Google silently drops keys over 44 characters
MARKER_KEY = "followupCal"
MARKER_VALUE = "1"
KEY_PROP = "followupCalKey"  # sha256 of the follow-up's identity (FollowUp.key)
HASH_PROP = "followupCalHash"  # sync.content_hash of what we wrote
WHEN_PROP = "followupCalInterview"  # when its interview was, to see it move
REMINDER_PROP = "followupCalReminder"  # the reminder_minutes it was written with
assert all(len(k) <= 44 for k in (MARKER_KEY, KEY_PROP, HASH_PROP, WHEN_PROP, REMINDER_PROP))

# Google's event colours ("1".."11"): one per kind, so a glance tells them apart.
COLORS = {
    "prep": "5",  # banana
    "thank_you_email": "10",  # basil
    "thank_you_note": "2",  # sage
    "check_in": "9",  # blueberry
    "move_on": "8",  # graphite
}
RESPONSE = {"needsAction": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED",
            "tentative": "TENTATIVE"}
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Universal",
                       "Etc/Universal", "Zulu", "Etc/Zulu", "Etc/GMT+0", "Etc/GMT-0", "GMT0"})
# Google's event types: working locations and birthdays are never interviews nor busy
# time (read as nothing at all); out-of-office and focus time are busy, as Google shows
SKIPPED_TYPES = ("workingLocation", "birthday")
BUSY_TYPES = ("outOfOffice", "focusTime")
EMAIL = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
ID_LENGTH = 52  # event_id(): base32hex of 32 bytes; a generation is written after it


def event_id(key: str, generation: int = 0) -> str:
    """The Google event id of a follow-up: `[a-v0-9]{52}`, same key, same id.

    Google may keep a deleted event's id reserved for ever (insert: 409, get:
    404); generation N > 0 (recorded in the ledger) appends N, so such an id
    is passed over for the next one instead of jamming every run.
    """
    base = base64.b32hexencode(key_digest(key)).decode("ascii").lower().rstrip("=")
    return base + str(generation) if generation else base


def generation_of(gid: str) -> int:
    tail = gid[ID_LENGTH:]
    return int(tail) if tail.isdigit() else 0


def uid_for_digest(hex_digest: str) -> str:
    """The follow-up's uid (`rules.uid_for`) from the key digest our events carry."""
    return f"{hex_digest[:32]}@{UID_DOMAIN}"


# -- reading --------------------------------------------------------------------------------


def _zone(name: str | None) -> str | None:
    """An IANA zone name, None for UTC, missing or unknown."""
    if not name or name in UTC_NAMES:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def parse_when(node: dict | None, fallback_zone: str | None = None) -> datetime | date | None:
    if not isinstance(node, dict):
        return None
    if node.get("dateTime"):
        t = datetime.fromisoformat(node["dateTime"].replace("Z", "+00:00"))
        zone = _zone(node.get("timeZone")) or _zone(fallback_zone)
        if t.tzinfo is None:
            t = t.replace(tzinfo=ZoneInfo(zone) if zone else timezone.utc)
        elif zone:
            t = t.astimezone(ZoneInfo(zone))
        return t
    if node.get("date"):
        return date.fromisoformat(node["date"])
    return None


def _person(node: dict | None) -> Person | None:
    if not isinstance(node, dict):
        return None
    email = (node.get("email") or "").strip().lower()
    name = (node.get("displayName") or "").strip() or None
    if not EMAIL.match(email):
        email = ""
    if not email and not name:
        return None
    return Person(name=name, email=email or None)


def is_ours(item: dict) -> bool:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return private.get(MARKER_KEY) == MARKER_VALUE


def _recurrence_id(item: dict) -> str | None:
    """Same form as the .ics reader's, so both sources give the same identities."""
    if not item.get("recurringEventId"):
        return None
    original = parse_when(item.get("originalStartTime"))
    if isinstance(original, datetime):
        return original.astimezone(timezone.utc).isoformat()
    return original.isoformat() if original else None


def to_event(item: dict, source: str, calendar_zone: str | None = None,
             own: bool = True) -> CalendarEvent | None:
    """One Google event (an occurrence: singleEvents=true) as a CalendarEvent.

    `self: true` marks the entries of the listed calendar's owner: the user only
    on their own calendar (`own`); on one shared by someone else it is them, and
    their answers are not the user's.
    """
    if item.get("eventType") in SKIPPED_TYPES:
        return None
    start = parse_when(item.get("start"), calendar_zone)
    end = parse_when(item.get("end"), calendar_zone)
    if start is None:
        return None  # a cancelled occurrence carries no times
    if end is None or isinstance(end, datetime) != isinstance(start, datetime):
        end = start
    attendees = []
    for a in item.get("attendees") or ():
        p = _person(a)
        if p is None:
            continue
        attendees.append(Attendee(
            person=p,
            cutype="RESOURCE" if a.get("resource") else "INDIVIDUAL",
            partstat=RESPONSE.get(a.get("responseStatus"), "NEEDS-ACTION"),
            role="OPT-PARTICIPANT" if a.get("optional") else "REQ-PARTICIPANT",
            is_self=own and bool(a.get("self")),
        ))
    tzid = _zone((item.get("start") or {}).get("timeZone"))
    return CalendarEvent(
        uid=item.get("iCalUID") or item.get("id") or "",
        recurrence_id=_recurrence_id(item),
        summary=re.sub(r"\s+", " ", item.get("summary") or "").strip(),
        description=item.get("description") or "",
        start=start,
        end=end,
        tzid=tzid,
        status=(item.get("status") or "confirmed").upper(),
        transparent=item.get("transparency") == "transparent"
        and item.get("eventType") not in BUSY_TYPES,
        organizer=_person(item.get("organizer")),
        attendees=tuple(attendees),
        ours=is_ours(item),
        source=source,
        sequence=_sequence(item.get("sequence", 0)),
        stamp=_stamp(item.get("updated")),
    )


def _sequence(value) -> int:
    """Google's `sequence` (RFC 5545 SEQUENCE): which version is newer (versions.merge)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _stamp(value) -> datetime | None:
    """`updated` (RFC 3339) as an aware UTC time: the tie-break after SEQUENCE."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def self_addresses(item: dict) -> set[str]:
    """The user's own addresses: Google marks the user's entries `self: true`."""
    found = set()
    for node in (item.get("organizer"), item.get("creator"), *(item.get("attendees") or ())):
        if isinstance(node, dict) and node.get("self") and EMAIL.match(node.get("email") or ""):
            found.add(node["email"].lower())
    return found

def _rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def event_body(f: FollowUp, settings: Settings, mark: str = "") -> dict:
    """The whole event as we write it (insert, or patch over what is there)."""
    zone = ZoneInfo(f.timezone)
    minutes = reminder_minutes(settings)
    body = {
        "summary": f.summary,
        "description": f.description,
        "start": {"dateTime": f.start.astimezone(zone).isoformat(), "timeZone": f.timezone},
        "end": {"dateTime": f.end.astimezone(zone).isoformat(), "timeZone": f.timezone},
        "status": "confirmed",
        "transparency": "opaque" if f.busy else "transparent",  # only calls take time
        "colorId": COLORS.get(f.kind, "1"),
        "visibility": "private",
        "reminders": {"useDefault": False, "overrides": [
            {"method": "popup", "minutes": minutes}]},
    }
    # the hash is sync.content_hash, the one every sink stores: before issue 13 it was a
    # digest of this body with `mark`, so an event written then is patched once (same id)
    body["extendedProperties"] = {"private": {
        MARKER_KEY: MARKER_VALUE,
        KEY_PROP: key_digest(f.key).hex(),
        HASH_PROP: content_hash(f),
        WHEN_PROP: mark,
        REMINDER_PROP: str(minutes),
    }}
    return body


def reminder_minutes(settings: Settings) -> int:
    """The popup reminder our events get (Google allows 0 to four weeks)."""
    return max(0, min(int(settings.reminder_minutes), 40320))


def _private(item: dict) -> dict:
    return (item.get("extendedProperties") or {}).get("private") or {}
