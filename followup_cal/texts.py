"""What each follow-up says: a summary that tells what to do and to whom, and
a description with a draft ready to send and the seeds' guidance after it.

Descriptions are plain text (no Markdown, no HTML, no links to decode): Google,
Apple and Outlook show them as written. The draft comes first, so the preview a
calendar app shows is the part the candidate acts on (issue 11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from . import vocab
from .model import Interview, Person

# -- names: a salutation as people write one ----------------------------------------

TITLES = frozenset({
    "dr", "mr", "mrs", "ms", "mx", "miss", "prof", "professor", "sir", "dame", "rev",
    "fr", "hon", "judge", "dott", "ing", "herr", "frau", "mme", "mlle", "m", "sr", "sra",
    "srta",
})
SUFFIXES = frozenset({
    "jr", "sr", "ii", "iii", "iv", "phd", "ph.d", "md", "mba", "cpa", "pe", "esq", "msc",
    "bsc", "ma", "ba", "dds", "rn", "cfa", "pmp", "sphr", "phr", "shrm-cp", "shrm-scp",
})
# Words that make a "name" a team, a mailbox or a role, not a person.
NOT_A_NAME = frozenset({
    "hiring", "team", "recruiting", "recruitment", "recruiter", "talent", "acquisition",
    "careers", "career", "jobs", "job", "hr", "people", "admin", "info", "noreply",
    "no-reply", "donotreply", "calendar", "interview", "interviews", "panel", "committee",
    "office", "support", "scheduling", "scheduler", "coordinator", "staffing", "room",
    "conference", "zoom", "teams", "meet", "unknown", "candidate", "group", "department",
    "human", "resources", "manager", "onsite", "hello", "contact", "mail", "notifications",
    "service", "services", "desk", "reception", "front", "board", "the", "and", "of",
})
NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?", re.UNICODE)
CUT = re.compile(r"\s+(?:[|/–—-]|via|at|@|from)\s+.*$", re.I)
BRACKETS = re.compile(r"\s*[(\[<{][^)\]>}]*[)\]>}]")


def _fix_case(token: str) -> str:
    """SMITH and smith as people write them (Smith); McDonald and van der stay."""
    if token.isupper() and len(token.strip(".")) > 1 or token.islower() and len(token) > 2:
        return "-".join(p[:1].upper() + p[1:].lower() for p in token.split("-"))
    return token


def _is_title(token: str) -> bool:
    return token.strip(".").casefold() in TITLES


def name_parts(raw: str | None) -> tuple[list[str], list[str]] | None:
    """(titles, names) as written in a display name; None when it is not a person's."""
    if not raw:
        return None
    s = BRACKETS.sub("", raw.strip().strip("\"'")).strip()
    s = CUT.sub("", s).strip(" ,;")
    if not s or "@" in s:
        return None
    if "," in s:
        head, tail = (part.strip() for part in s.split(",", 1))
        tail_words = tail.replace(",", " ").split()
        if all(w.strip(".").casefold() in SUFFIXES for w in tail_words):
            s = head  # "Jane Roe, PhD"
        else:
            s = f"{tail} {head}"  # "Ng, Ruth" and "Ng, Dr. Ruth"
    tokens = s.split()
    while tokens and tokens[-1].strip(".,").casefold() in SUFFIXES:
        tokens.pop()
    titles = []
    while tokens and _is_title(tokens[0]) and len(tokens) > 1:
        titles.append(tokens.pop(0))
    # a title in the middle ("Ruth Dr. Ng" from "Ng, Dr. Ruth" reordered) goes in front
    titles += [t for t in tokens if _is_title(t) and len(t.strip(".")) > 1 and t.endswith(".")]
    tokens = [t for t in tokens if t not in titles]
    if not tokens or len(tokens) > 5:
        return None
    if any(t.casefold().strip(".") in NOT_A_NAME for t in tokens):
        return None
    if not all(NAME_TOKEN.fullmatch(t) for t in tokens):
        return None
    if len(tokens) == 2 and tokens[0].isupper() and len(tokens[0].strip(".")) > 1 and (
            not tokens[1].isupper()):
        tokens.reverse()  # "SATO Kenji": the family name in capitals comes first
    return titles, [_fix_case(t) for t in tokens]


def _from_address(email: str | None) -> str | None:
    """A first name from "dana.smith@…" only when the address clearly is a name."""
    if not email or "@" not in email:
        return None
    parts = re.split(r"[._]", email.split("@", 1)[0])
    if not 2 <= len(parts) <= 3 or not all(p.isalpha() and len(p) >= 2 for p in parts):
        return None
    if any(p.casefold() in NOT_A_NAME for p in parts):
        return None
    return parts[0].capitalize()


def greeting_name(p: Person | None) -> str | None:
    """What goes after "Dear": "Dr. Ng", "Dana", "J. Smith"; None when nothing fits."""
    if p is None:
        return None
    parts = name_parts(p.name)
    if parts is None:
        return _from_address(p.email or (p.name if p.name and "@" in p.name else None))
    titles, names = parts
    if titles:
        return " ".join([*titles, names[-1]])
    first = names[0]
    if len(first.strip(".")) == 1:  # an initial: "J. Smith" as written
        return " ".join(names) if len(names) > 1 else None
    return first


def salutation(p: Person | None) -> str:
    name = greeting_name(p)
    return f"Dear {name}," if name else "Hello,"


# -- the role, or "the position" ----------------------------------------------------

# A role names a job: at least one of these stems ("the Dana position" never does).
ROLE_STEMS = (
    "engineer", "develop", "design", "manag", "analy", "scien", "direct", "lead", "intern",
    "associat", "speciali", "consult", "coordinat", "architect", "admin", "officer",
    "assist", "head", "vp", "president", "account", "nurs", "teach", "writ", "edit",
    "product", "sales", "market", "research", "technic", "represent", "recruit", "plann",
    "strateg", "owner", "execut", "counsel", "attorney", "program", "test", "qa", "sre",
    "devops", "data", "software", "frontend", "backend", "full", "stack", "ux", "ui", "cook",
    "chef", "barista", "clerk", "cashier", "driver", "mechanic", "electrician", "operat",
    "supervis", "partner", "principal", "staff", "senior", "junior", "fellow", "postdoc",
    "professor", "lecturer", "advis", "agent", "buyer", "controller", "auditor", "economist",
    "paralegal", "pharmac", "physician", "therap", "secretar", "receptionist", "librarian",
    "curator", "producer", "artist", "animator", "photograph", "translat", "tutor",
    "trainer", "coach", "instructor", "chief", "cto", "cfo", "coo", "cmo", "sde", "swe",
    "pm", "tpm", "apprentice", "graduate", "trainee", "support", "success", "operations",
    "ops", "security", "network", "systems", "cloud", "machine", "ml", "finance",
    "financ", "legal", "talent", "customer", "service", "project", "business", "quant",
    "trader", "actuar", "biolog", "chemist", "physicist", "mathemat", "statistic",
    "dentist", "veterinar", "ingénieur", "ingenieur", "développeur", "entwickler",
    "desarroll", "ingeniero", "gerente", "analista", "diseñ", "responsable", "stagiaire",
    "praktikant", "berater", "leiter", "referent", "conseill", "chargé", "directeur",
    "direktor", "web", "mobile", "ios", "android", "platform", "infrastructure", "growth",
)


# One word that names a doer ("Importer", "Sommelier") is a role too.
AGENT_SUFFIXES = ("er", "or", "ist", "ian", "ant", "ent", "eur", "ier", "ice")


def _words(text: str | None) -> set[str]:
    return {w for w in re.split(r"[^\w]+", (text or "").casefold()) if len(w) > 1}


def role(iv: Interview) -> str | None:
    """The interview's role when it names a job; None for a person's name, the
    company or any other fragment of the summary (issue 11: "the position")."""
    value = re.sub(r"\s+", " ", iv.role or "").strip(" -–—:;,.()[]\"'")
    words = _words(value)
    if not words or len(words) > 7:
        return None
    people = [*iv.interviewers, *([iv.recruiter] if iv.recruiter else [])]
    names = set().union(*(_words(p.name) | _words((p.email or "").split("@")[0])
                          for p in people)) if people else set()
    if words & (names - {w for w in words if w.startswith(ROLE_STEMS)}):
        return None
    company = _words(iv.company)
    if company and company <= words:
        return None
    if not any(w.startswith(ROLE_STEMS) for w in words) and not (
            len(words) == 1 and value.casefold().endswith(AGENT_SUFFIXES)
    ) and not vocab.role_word(vocab.available()).search(value):  # a title in any language
        return None
    if value.split()[0].casefold() in ("with", "for", "at", "and", "the", "a", "an", "to"):
        return None
    return value


def _position(iv: Interview) -> str:
    r = role(iv)
    if not r:
        return "the position"
    if r.casefold().endswith((" position", " role")):
        return f"the {r}"
    return f"the {r} position"


# -- times ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    """When a follow-up's action lands (an e-mail's arrival, a call), in which zone,
    and the candidate's zone to say it in their time too; `previous`: the last inquiry."""

    at: datetime
    zone: str
    user_zone: str
    previous: datetime | None = None


def _clip(text: str, most: int) -> str:
    """At most `most` characters, cut at a word: descriptions stay short (issue 11)."""
    text = " ".join(text.split())
    return text if len(text) <= most else text[:most].rsplit(" ", 1)[0] + "…"


def _day(t: datetime) -> str:
    return f"{t:%A, %B} {t.day}"


def _place(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def _both_times(slot: Slot) -> str | None:
    """"10:00 London time (05:00 yours)" when the two clocks differ, else None."""
    there = slot.at.astimezone(ZoneInfo(slot.zone))
    here = slot.at.astimezone(ZoneInfo(slot.user_zone))
    if there.replace(tzinfo=None) == here.replace(tzinfo=None):
        return None
    mine = f"{here:%H:%M}" + ("" if here.date() == there.date() else f" {here:%A}")
    return f"{there:%H:%M} {_place(slot.zone)} time ({mine} yours)"


# -- texts ---------------------------------------------------------------------------

def summary(kind: str, channel: str | None, iv: Interview, who: Person | None,
            slot: Slot | None = None) -> str:
    to = who.label if who else None
    company = iv.company
    if kind == "prep":
        return f"Prepare for your interview — {company}"
    if kind == "thank_you_email":
        return f"Thank-you email to {to or 'your interviewer'} — {company}"
    if kind == "thank_you_note":
        return f"Mail a handwritten thank-you note to {to or 'your interviewer'} — {company}"
    if kind == "check_in":
        target = to or "the hiring contact"
        if channel == "phone":
            both = _both_times(slot) if slot else None
            return f"Call {target}{f' at {both}' if both else ''} to check in — {company}"
        if channel == "mail":
            return f"Check-in letter to {target} — {company}"
        return f"Check-in email to {target} — {company}"
    return f"No reply from {company} — let it go and move on"


def _to(who: Person | None) -> str:
    return f"To: {who.email}" if who and who.email else "To: [their e-mail address]"


def _thank_you_email(iv: Interview, who: Person | None, when: str, pos: str) -> list[str]:
    r = role(iv)
    subject = (f"Thank you — {r} interview on {when}" if r
               else f"Thank you for the interview on {when}")
    return [
        _to(who), f"Subject: {subject}", "",
        salutation(who), "",
        f"Thank you for taking the time to meet with me on {when} about {pos}"
        f" at {iv.company}. I especially enjoyed our conversation about"
        " [something you discussed].", "",
        "It confirmed my interest in the role: [one sentence on why you are a good fit]."
        " I would be glad to provide anything else you need.", "",
        "Best regards,", "[Your name]", "",
        "Why and when:",
        "Send it today, no later than 24 hours after the interview (seeds 000, 002, 004).",
        "One separate e-mail per interviewer; mention something the two of you discussed"
        " (seeds 002, 003).",
    ]


def _thank_you_note(iv: Interview, who: Person | None, pos: str) -> list[str]:
    rec = iv.recruiter
    if rec and (rec.key() == (who.key() if who else None)
                or any(rec.key() == p.key() for p in iv.interviewers)):
        rec = None  # an interviewer who organised it: not whom to ask (seed 000)
    ask = (f"{rec.label} ({rec.email})" if rec and rec.name and rec.email
           else rec.label if rec else "HR or the coordinator who arranged your interview")
    named = name_parts(who.name) if who else None
    whose = (f"{' '.join(named[0] + named[1])}'s" if named
             else "this interviewer's" if who else "each interviewer's")
    return [
        salutation(who), "",
        f"Thank you for meeting with me about {pos}. I enjoyed [something you discussed]"
        " and remain very interested in joining the team.", "",
        "Sincerely,", "[Your name]", "",
        "Why and when:",
        "Handwrite it on a card and mail it within 48 hours, 24 if you can (seeds 001, 002).",
        "A genuine thank-you, not a recap of how great you are (seed 000); a card they"
        " open by hand keeps you in mind while they decide.",
        f"Mailing address: ask {ask} for {whose} business mailing address"
        " (seed 000: from HR or the coordinator, not from the interviewer).",
    ]


SIGN_OFFS = ("Thank you again for your time,", "With thanks,", "Kind regards,")


def _check_in_body(ordinal: int, pos: str, when: str, previous: str | None) -> str:
    if ordinal <= 1 or previous is None:
        return (f"I hope you are well. I interviewed for {pos} on {when} and wanted to ask"
                " whether there is any update on the decision. I remain very interested in"
                " the role and am happy to provide anything else you need.")
    if ordinal == 2:
        return (f"I wrote on {previous} to ask about {pos}, for which I interviewed on {when}."
                " I understand these decisions take time, and I wanted to check once more"
                " whether there is news on the timeline. I am still very interested, and a"
                " short note either way would help me plan.")
    return (f"Since my last message on {previous}, I have not heard about {pos}"
            f" (interview on {when}). I would be grateful to know where things stand;"
            " if the position has been filled, I wish the team well.")


def _check_in(channel: str | None, iv: Interview, who: Person | None, ordinal: int,
              slot: Slot | None, when: str, pos: str) -> list[str]:
    previous = None
    if slot and slot.previous:
        previous = _day(slot.previous.astimezone(ZoneInfo(iv.employer_tz)))
    said = _clip(iv.instruction.text, 200) if iv.instruction else ""
    guidance = [
        "Why and when:",
        f"Inquiry {ordinal}: ask politely about the status of your candidacy."
        " Don't be pushy or show frustration; thank them again (seeds 001, 004).",
        "At most one inquiry a week (seed 000)." + (f" They said: “{said}”" if said else ""),
    ]
    body = _check_in_body(ordinal, pos, when, previous)
    if channel == "phone":
        both = _both_times(slot) if slot else None
        return ["What to say:",
                f"“Hello, this is [your name]. {body}”", "",
                *guidance,
                "Call mid-morning, before lunch (seed 003)"
                + (f": {both}." if both else ".")]
    r = role(iv)
    subject = ((f"Following up on my interview — {r}" if r else "Following up on my interview")
               if ordinal <= 1 else
               (f"Checking in again — {r}" if r else "Checking in again on my application"))
    lines = [_to(who), f"Subject: {subject}", "", salutation(who), "", body, "",
             SIGN_OFFS[min(ordinal, len(SIGN_OFFS)) - 1], "[Your name]", "", *guidance]
    both = _both_times(slot) if slot else None
    if slot and both:
        there = slot.at.astimezone(ZoneInfo(slot.zone))
        lines.append(f"Schedule it to arrive at {both}, {_day(there)}: mid-morning for"
                     " them, when it gets read (seed 003).")
    return lines


def description(kind: str, channel: str | None, iv: Interview, who: Person | None,
                ordinal: int = 1, slot: Slot | None = None) -> str:
    pos = _position(iv)
    when = _day(iv.start.astimezone(ZoneInfo(iv.employer_tz)))
    if kind == "prep":
        return "\n".join([
            f"Before the end of your interview with {iv.company} ({_clip(iv.summary, 120)}):",
            "• Ask when they expect to make a decision, and how they prefer you follow up"
            " (seeds 000, 003, 004).",
            "• Ask for everyone's business card or e-mail address, all of them on a panel"
            " (seeds 001, 003).",
            "• Check that they have your resume and contact details (seed 003).",
            "• Thank them for their time (seed 001).",
        ])
    if kind == "thank_you_email":
        return "\n".join(_thank_you_email(iv, who, when, pos))
    if kind == "thank_you_note":
        return "\n".join(_thank_you_note(iv, who, pos))
    if kind == "check_in":
        return "\n".join(_check_in(channel, iv, who, ordinal, slot, when, pos))
    return "\n".join([
        f"Your inquiries to {iv.company} about {pos} have gone unanswered.",
        "No news is not good news: let it go and move on to your next interview (seed 001).",
        "More contact would likely hurt more than help (seeds 000, 003).",
    ])
