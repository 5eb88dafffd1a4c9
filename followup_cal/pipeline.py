"""The one path from calendars to a plan: sources → detect → history → plan → remember.

Every command goes this way (`plan`, `export`, `sync`, whatever the calendars):
each source returns the events it read (a `calendars.base.Reading`) and never
calls `detect.collect` or reads another source's files; `collect` runs once
over all of them. Planning and remembering are one ledger transaction, with the
file sink's write inside it: one command, one transaction (issue 4); replies
found in the mailboxes are recorded just before (issue 14). A remote
calendar is reconciled afterwards (`sync.reconcile`), outside the transaction,
because it talks to the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .accounts import Account
    from .calendars.base import Source
    from .config import Settings
    from .ledger import Ledger
    from .mail import MailCheck
    from .model import FollowUp, Reading, SourceData


def read(sources: Iterable[Source], settings: Settings, now: datetime) -> Reading:
    """Every source's events over the planning window, in the order given."""
    from .model import Reading, Window

    window = Window.around(now, settings)
    events: list = []
    me: set[str] = set()
    warnings: list[str] = []
    for source in sources:
        got = source.read(window, settings)
        events.extend(got.events)
        me |= got.me
        warnings.extend(got.warnings)
    return Reading(tuple(events), frozenset(me), tuple(warnings))


def collect(sources: Iterable[Source], settings: Settings, now: datetime) -> SourceData:
    """Interviews and busy times from all the sources (detect.collect, once)."""
    from .detect import collect as detect

    reading = read(sources, settings, now)
    return detect(reading.events, settings, now, reading.me, reading.warnings)


@dataclass(frozen=True)
class Planned:
    """The plan, and what the mailboxes said."""

    items: list[FollowUp]
    mail: MailCheck


def plan(data: SourceData, settings: Settings, now: datetime, ledger: Ledger, *,
         sink: Callable[[Ledger, Sequence[FollowUp]], None] | None = None,
         mail: Sequence[Account] = ()) -> Planned:
    """Look for replies in the `mail` accounts (issue 14), then plan with what the
    ledger knows, remember what was seen and planned, and let `sink(ledger, items)`
    write the plan and record it: all in one transaction.

    Mail is read before and outside that transaction (a slow server must not hold
    the state file's write lock); it records its replies in its own.
    """
    from .holidays_cache import holiday_dates
    from .mail import check
    from .rules import plan as make_plan

    found = check(mail, data.interviews, ledger, settings, now)
    with ledger.transaction():
        history = ledger.history(data.interviews, settings, now)
        items = make_plan(data.interviews, history, data.busy, settings, now,
                          holidays=holiday_dates)
        ledger.remember(data.interviews, items, settings, now)
        if sink is not None:
            sink(ledger, items)
    return Planned(items, found)
