"""What every mail source implements (issue 14; DESIGN.md "Interfaces").

A mail source answers one question: did the employer write back after the
latest interview of an open application? It is given the applications as
`Application` queries and returns `Reply` facts; which messages count is
decided once in `match.py`, which every source calls, so an IMAP mailbox and
a later Gmail `gmail.metadata` source (history polling) judge alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class MailError(Exception):
    """The account cannot be read this run (down, slow, refused): a warning, never fatal.

    The message names the account's server and never holds the password.
    """


@dataclass(frozen=True)
class Application:
    """One open application to look for replies to."""

    key: str  # detect.company_key of the company
    company: str  # as the plan spells it
    people: frozenset[str]  # lower-case addresses: interviewers, recruiter, organizer
    domains: tuple[str, ...]  # the employer's own e-mail domains (never free mail/tools)
    since: datetime  # the end of the latest interview: only later mail counts


@dataclass(frozen=True)
class Reply:
    """The employer wrote back: all that is kept of the message."""

    key: str
    company: str
    at: datetime
    source: str  # "mail:ACCOUNT:<Message-ID>"


@dataclass(frozen=True)
class Reading:
    replies: tuple[Reply, ...]
    warnings: tuple[str, ...] = ()  # e.g. a folder that does not exist


class MailSource(Protocol):
    name: str  # the account name, [mail.NAME]

    def replies(self, applications: Sequence[Application], now: datetime) -> Reading:
        """Replies to `applications` dated after their `since` and not after `now`.

        Reads as little as it can (read-only, headers only, bounded searches) and
        changes nothing in the mailbox. An account that cannot be read at all raises
        `MailError`; one message it cannot read is skipped.
        """
        ...
