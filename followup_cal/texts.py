"""What each follow-up says: a summary that tells what to do and to whom, and
a description with the seeds' guidance and a draft ready to edit."""

from __future__ import annotations

from urllib.parse import quote
from zoneinfo import ZoneInfo

from .model import Interview, Person


def _position(iv: Interview) -> str:
    return f"the {iv.role} position" if iv.role else "the position"


def _first_name(p: Person | None) -> str:
    if p and p.name:
        return p.name.split()[0]
    return "there"


def _mailto(p: Person | None, subject: str) -> str:
    if not p or not p.email:
        return "Address: ask the recruiter or the receptionist for it (seed 000)."
    return f"Write to: mailto:{p.email}?subject={quote(subject)}"


def summary(kind: str, channel: str | None, iv: Interview, who: Person | None) -> str:
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
            return f"Call {target} to check in — {company}"
        if channel == "mail":
            return f"Check-in letter to {target} — {company}"
        return f"Check-in email to {target} — {company}"
    return f"No reply from {company} — let it go and move on"


def description(
    kind: str, channel: str | None, iv: Interview, who: Person | None, ordinal: int = 1
) -> str:
    pos = _position(iv)
    local = iv.start.astimezone(ZoneInfo(iv.employer_tz))
    when = f"{local:%A, %B} {local.day}"
    if kind == "prep":
        return "\n".join([
            f"Before the end of your interview with {iv.company} ({iv.summary}):",
            "- Ask when they expect to make a decision, and how they prefer you follow up"
            " (seeds 000, 003, 004).",
            "- Ask for everyone's business card or e-mail address — a panel, all of them"
            " (seeds 001, 003).",
            "- Check that they have your resume and contact details (seed 003).",
            "- Thank them for their time (seed 001).",
        ])
    if kind == "thank_you_email":
        subject = f"Thank you — {iv.role or 'interview'} on {when}"
        return "\n".join([
            f"Send a short thank-you e-mail to {who.label if who else 'each interviewer'}"
            " today, no later than 24 hours after the interview (seeds 000, 002, 004).",
            "One separate e-mail per person; mention something the two of you discussed"
            " (seeds 002, 003).",
            _mailto(who, subject),
            "",
            f"Subject: {subject}",
            "",
            f"Dear {_first_name(who)},",
            "",
            f"Thank you for taking the time to meet with me on {when} about {pos}"
            f" at {iv.company}. I especially enjoyed our conversation about"
            " [something you discussed].",
            "",
            "It confirmed my interest in the role: [one sentence on why you are a good fit]."
            " I would be glad to provide anything else you need.",
            "",
            "Best regards,",
            "[Your name]",
        ])
    if kind == "thank_you_note":
        return "\n".join([
            f"Handwrite a thank-you card to {who.label if who else 'each interviewer'}"
            " and mail it within 48 hours, 24 if you can (seeds 001, 002).",
            "A genuine thank-you, not a recap of how great you are (seed 000); a card"
            " they open by hand keeps you in mind while they decide.",
            _mailto(who, "Mailing address for a thank-you note")
            if who and who.email else "Get the mailing address from HR or the coordinator.",
            "",
            f"Dear {_first_name(who)},",
            f"Thank you for meeting with me about {pos}. I enjoyed [something you discussed]"
            " and remain very interested in joining the team.",
            "Sincerely, [Your name]",
        ])
    if kind == "check_in":
        said = iv.instruction.text if iv.instruction else ""
        guidance = [
            f"Inquiry {ordinal}: ask politely about the status of your candidacy for {pos}."
            " Don't be pushy or show frustration; thank them again (seeds 001, 004).",
            "At most one inquiry a week (seed 000)."
            + (f" They said: “{said}”" if said else ""),
        ]
        if channel == "phone":
            guidance.append("Call mid-morning, before lunch (seed 003).")
            return "\n".join([*guidance, "", "Script:",
                              f"“Hello {_first_name(who)}, this is [your name]. I interviewed"
                              f" for {pos} on {when} and wanted to ask whether there is an"
                              " update on the timeline. I'm still very interested.”"])
        subject = f"Following up — {iv.role or 'my interview'}"
        return "\n".join([*guidance, _mailto(who, subject), "", f"Subject: {subject}", "",
                          f"Dear {_first_name(who)},", "",
                          f"I hope you are well. I interviewed for {pos} on {when} and"
                          " wanted to ask whether there is any update on the decision."
                          " I remain very interested in the role and am happy to provide"
                          " anything else you need.", "",
                          "Thank you again for your time,", "[Your name]"])
    return "\n".join([
        f"Your inquiries to {iv.company} about {pos} have gone unanswered.",
        "No news is not good news: let it go and move on to your next interview (seed 001).",
        "More contact would likely hurt more than help (seeds 000, 003).",
    ])
