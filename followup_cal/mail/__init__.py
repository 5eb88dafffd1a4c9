"""Mail sources (issue 14): replies from the employer end the inquiries.

The registry holds "module:Class" strings so that `--help` and `.ics` runs
import no mail client. `check` is the one call the planning commands make
before they read the ledger's history: it records each reply found as a
`heard-back` outcome, exactly what `outcome COMPANY heard-back` records, so
the planner needs nothing new.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..accounts import Account
    from ..config import Settings
    from ..ledger import Ledger
    from ..model import Interview

KINDS: dict[str, str] = {
    "imap": "followup_cal.mail.imap:IMAPMail",
}


def load(kind: str):
    """The class for a `[mail.NAME] type`; KeyError for an unknown kind."""
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def accounts(enabled: bool = True) -> tuple[Account, ...]:
    """The `[mail.NAME]` accounts of the config file; none with `--no-mail`."""
    if not enabled:
        return ()
    from ..accounts import load as load_accounts

    return load_accounts("mail", tuple(KINDS))


@dataclass(frozen=True)
class MailCheck:
    """What a check found, for the command to print."""

    warnings: tuple[str, ...] = ()  # one line per account that could not be read, etc.
    skipped: tuple[str, ...] = ()  # "mail.NAME" of the accounts not read this run
    notes: tuple[str, ...] = ()  # "Acme: heard back 2026-12-03 (mail:personal), no check-ins"
    recorded: int = 0  # replies new to the ledger


def check(accounts: Sequence[Account], interviews: Iterable[Interview], ledger: Ledger,
          settings: Settings, now: datetime) -> MailCheck:
    """Look for the employer's replies in every account; record the new ones.

    Runs outside the planning transaction (a slow server must not hold the state
    file's write lock) and records in its own: recording is idempotent.
    """
    from .match import stopped_by_mail

    interviews = list(interviews)
    warnings: list[str] = []
    skipped: list[str] = []
    recorded = 0
    if accounts and interviews:  # the rest of mail/ is imported only for a mailbox
        from ..detect import tag_history
        from .base import MailError
        from .match import applications

        history = ledger.history(interviews, settings, now)
        outcomes = (*history.outcomes, *tag_history(interviews, settings).outcomes)
        apps = applications(interviews, outcomes, now)
        for account in accounts if apps else ():
            source = load(account.type)(account)  # a bad table: ConfigError, exit 2
            try:
                reading = source.replies(apps, now)
            except MailError as exc:
                warnings.append(f"{account.where}: {exc}; replies not checked this run")
                skipped.append(account.where)
                continue
            except Exception as exc:  # a fault of ours must not block the calendar either
                # the type only: the message of an unexpected error might hold anything
                warnings.append(f"{account.where}: failed ({type(exc).__name__}); replies not "
                                "checked this run")
                skipped.append(account.where)
                continue
            warnings.extend(f"{account.where}: {w}" for w in reading.warnings)
            with ledger.transaction():
                for r in reading.replies:
                    recorded += ledger.add_outcome(r.company, "heard-back", r.at, now,
                                                   source=r.source)
    notes = stopped_by_mail(interviews, ledger.outcomes(), settings)
    return MailCheck(tuple(warnings), tuple(skipped), notes, recorded)
