"""Which messages count as the employer writing back (issue 14), decided once.

Sources (IMAP today, Gmail metadata later) hand over a message's header
fields; nothing here does I/O. A reply counts when its From address is one of
the application's people, or at the employer's own domain (or a subdomain of
it), never at free mail or a scheduling tool, it is dated after the latest
interview, and it is not automatic or bulk mail. A check-in is only for when
"you haven't heard anything" (seed 001, seed 004: "await their response").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..detect import FREE_MAIL, NO_REPLY, TOOL_MAIL
from ..model import Interview, Outcome, company_key

if TYPE_CHECKING:  # built only when a mailbox is read (mail.check)
    from .base import Application, Reply

FINAL = ("offer", "rejected", "withdrawn")
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response)\b|auto:|"
    r"out of (?:the )?office|abwesenheit|automatische antwort|r[ée]ponse automatique)",
    re.I)
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


def _excluded_domain(domain: str) -> bool:
    return domain in FREE_MAIL or domain in TOOL_MAIL


def applications(interviews: Iterable[Interview], outcomes: Iterable[Outcome],
                 now: datetime) -> tuple[Application, ...]:
    """The applications worth a search: latest interview over, no outcome, not
    heard back since it started (as the planner counts, rules.plan)."""
    from .base import Application

    groups: dict[str, list[Interview]] = {}
    for iv in interviews:
        groups.setdefault(company_key(iv.company), []).append(iv)
    outcomes = list(outcomes)
    apps = []
    for key, ivs in groups.items():
        latest = max(ivs, key=lambda iv: (iv.start, iv.identity))
        mine = [o for o in outcomes if company_key(o.company) == key]
        if latest.end > now or any(o.kind in FINAL for o in mine) or any(
                o.kind == "heard-back" and o.at >= latest.start for o in mine):
            continue
        people: set[str] = set()
        domains: list[str] = []
        for iv in ivs:
            for p in (*iv.interviewers, iv.recruiter, iv.organizer):
                address = (p.email or "").strip().lower() if p else ""
                if "@" in address and not _automatic_sender(address):
                    people.add(address)
            domains += [d for d in iv.employer_domains
                        if d and not _excluded_domain(d) and d not in domains]
        if people or domains:
            apps.append(Application(key, latest.company, frozenset(people), tuple(domains),
                                    latest.end))
    return tuple(apps)


def _automatic_sender(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    return bool(NO_REPLY.match(local)) or domain in TOOL_MAIL


def sender(value: str) -> str | None:
    """The one address of a From field, lower-case; None when there is none."""
    from email.utils import getaddresses  # only a mailbox being read needs email.*

    try:
        found = [a for _, a in getaddresses([value]) if a.count("@") == 1]
    except Exception:  # a malformed header never stops a run
        return None
    address = found[0].strip().lower() if found else ""
    if not address or any(c.isspace() for c in address):
        return None
    return address


def from_employer(address: str, app: Application) -> bool:
    """One of their people, or their own domain checked exactly on the address
    (IMAP's FROM search is a substring match: x@acme.com.evil.example is not Acme)."""
    if address in app.people:
        return True
    local, _, domain = address.rpartition("@")
    if _excluded_domain(domain) or NO_REPLY.match(local):
        return False
    return any(domain == d or domain.endswith("." + d) for d in app.domains)


def decoded(value: str) -> str:
    """An RFC 2047 header as text; as it came when it cannot be decoded."""
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return value


def is_automatic(headers: Mapping[str, str]) -> bool:
    """Auto-replies (RFC 3834), bulk and list mail: not the employer answering."""
    auto = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    if headers.get("precedence", "").strip().lower() in BULK_PRECEDENCE:
        return True
    if "list-id" in headers or "list-unsubscribe" in headers:
        return True
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers and headers[name].strip().lower() not in ("no", "false", "0"):
            return True
    return bool(AUTO_SUBJECT.match(decoded(headers.get("subject", ""))))


def sent_at(headers: Mapping[str, str], arrived: datetime | None) -> datetime | None:
    """The Date header; the server's arrival time when it is missing or unreadable."""
    from email.utils import parsedate_to_datetime

    try:
        at = parsedate_to_datetime(headers.get("date", "").strip())
    except Exception:
        at = None
    if at is None:
        return arrived
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def message_id(headers: Mapping[str, str]) -> str | None:
    found = MESSAGE_ID.search(headers.get("message-id", ""))
    return found.group(0) if found and found.group(0).isascii() else None


def judge(app: Application, headers: Mapping[str, str], arrived: datetime | None,
          now: datetime, account: str, fallback_id: str) -> Reply | None:
    """The Reply this message is for `app`, or None. `headers`: lower-case names."""
    from .base import Reply

    address = sender(headers.get("from", ""))
    if address is None or not from_employer(address, app) or is_automatic(headers):
        return None
    at = sent_at(headers, arrived)
    if at is None or not app.since < at <= now:
        return None
    mid = message_id(headers) or fallback_id
    return Reply(app.key, app.company, at, f"mail:{account}:{mid}")


def stopped_by_mail(interviews: Sequence[Interview], logged: Iterable, settings
                    ) -> tuple[str, ...]:
    """One line per application whose inquiries a reply found in a mailbox ended."""
    latest: dict[str, Interview] = {}
    for iv in interviews:
        key = company_key(iv.company)
        if key not in latest or (iv.start, iv.identity) > (latest[key].start,
                                                          latest[key].identity):
            latest[key] = iv
    first: dict[str, tuple[datetime, str]] = {}
    for o in logged:
        key = company_key(o.company)
        if (o.kind != "heard-back" or not o.source.startswith("mail:") or key not in latest
                or o.at < latest[key].start):
            continue
        if key not in first or o.at < first[key][0]:
            first[key] = (o.at, ":".join(o.source.split(":", 2)[:2]))
    return tuple(f"{latest[k].company}: heard back {at.astimezone(settings.tz):%Y-%m-%d} "
                 f"({where}), no check-ins" for k, (at, where) in first.items())
