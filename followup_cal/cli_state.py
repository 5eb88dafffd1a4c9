"""Commands about what already happened: outcome, contacted, status (issue 4).

The helpers come from `.cli`, which imports this module at its bottom; they
are imported inside `register` so importing this module first still works.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

import click

from .words import CHANNELS, OUTCOMES


def parse_at(value: str | None, now: datetime, zone: str, day_time: time) -> datetime:
    """`--at`: ISO 8601; a bare date means `day_time` that day; never in the future."""
    from .cli import UsageProblem

    if not value:
        return now
    text = value.strip()
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageProblem(f"--at: not an ISO 8601 date/time: {value!r}") from None
    if len(text) == 10:  # a date: the time a tag without a clock gets too
        t = datetime.combine(t.date(), day_time)
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(zone))
    if t > now:
        raise UsageProblem(f"--at: {value} is in the future (now is {now.isoformat()})")
    return t


def pick_company(ledger, name: str) -> tuple[str, bool]:
    """The application `name` means: (display name, seen before); ambiguous → exit 2."""
    from .cli import UsageProblem

    if not name.strip():
        raise UsageProblem("COMPANY must not be empty")
    found = ledger.match(name)
    if len(found) > 1:
        names = ", ".join(a.company for a in found)
        raise UsageProblem(f"{name!r} matches several applications: {names}; say which")
    if found:
        return found[0].company, True
    return name.strip(), False


def _when(t: datetime, zone: str) -> str:
    return f"{t.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M %Z}"


def _unseen_note(name: str) -> None:
    click.echo(f"note: no application {name!r} seen yet; it will be matched by name when "
               "planning", err=True)


def register(group: click.Group) -> None:
    """Add this module's commands to the main group."""
    from .cli import common, handled, prepare

    @group.command("outcome")
    @click.argument("company")
    @click.argument("kind", metavar="{offer,rejected,withdrawn,heard-back}",
                    type=click.Choice(OUTCOMES, case_sensitive=False))
    @click.option("--at", "at", metavar="ISO", help="When it happened (default: now).")
    @common
    @click.pass_context
    @handled
    def outcome_cmd(ctx, company, kind, at, now, timezone, me, debug):
        """Record how an application ended, or that they got back to you.

        \b
        offer, rejected, withdrawn: no follow-up for it after --at.
        heard-back: pending check-ins are dropped; a new round starts a new cycle.
        """
        from .ledger import Ledger

        settings, now = prepare(ctx, timezone, me, now, debug)
        when = parse_at(at, now, settings.timezone, settings.workday_start)
        kind = kind.lower()
        with Ledger.open() as ledger, ledger.transaction():
            name, seen = pick_company(ledger, company)
            ledger.add_outcome(name, kind, when, now)
        if not seen:
            _unseen_note(name)
        click.echo(f"{name}: {kind} ({_when(when, settings.timezone)})")

    @group.command("contacted")
    @click.argument("company")
    @click.option("--via", "via", required=True, type=click.Choice(CHANNELS),
                  help="How you got in touch.")
    @click.option("--at", "at", metavar="ISO", help="When (default: now).")
    @common
    @click.pass_context
    @handled
    def contacted_cmd(ctx, company, via, at, now, timezone, me, debug):
        """Log an inquiry made outside the plan: it counts against the limits."""
        from .ledger import Ledger

        settings, now = prepare(ctx, timezone, me, now, debug)
        when = parse_at(at, now, settings.timezone, settings.workday_start)
        with Ledger.open() as ledger, ledger.transaction():
            name, seen = pick_company(ledger, company)
            ledger.add_contact(name, via, when, settings, now)
        if not seen:
            _unseen_note(name)
        click.echo(f"{name}: contacted by {via} ({_when(when, settings.timezone)})")

    @group.command("status")
    @click.option("--json", "as_json", is_flag=True, help="Print a JSON array for scripts.")
    @common
    @click.pass_context
    @handled
    def status_cmd(ctx, as_json, now, timezone, me, debug):
        """One line per application: rounds, inquiries, what comes next, outcome."""
        from .ledger import Ledger

        settings, now = prepare(ctx, timezone, me, now, debug)
        with Ledger.open() as ledger:
            rows = ledger.status(settings, now)
        if as_json:
            click.echo(json.dumps([r.as_json(settings.tz) for r in rows], indent=2,
                                  ensure_ascii=False))
        else:
            print_status(rows, settings)


def print_status(rows, settings) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("No applications seen yet: run `followup-cal plan` or `export` first.")
        return
    tz = settings.tz
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("application")
    table.add_column("last interview", no_wrap=True)
    table.add_column("who")
    table.add_column("inquiries", no_wrap=True, justify="right")
    table.add_column("next")
    table.add_column("outcome", no_wrap=True)
    for r in rows:
        name = r.company + (f"\n[dim]{r.role}[/dim]" if r.role else "")
        last = f"{r.last_interview.astimezone(tz):%Y-%m-%d}" if r.last_interview else ""
        ahead = (f"{r.next.kind.replace('_', ' ')}\n{r.next.start.astimezone(tz):%a %m-%d %H:%M}"
                 if r.next else "—")
        outcome = r.outcome or ""
        if r.outcome == "heard-back" and r.replied:  # issue 14: found in a mailbox
            outcome = f"replied {r.replied.astimezone(tz):%Y-%m-%d}"
        table.add_row(name, last, ", ".join(p.label for p in r.interviewers),
                      f"{r.inquiries_made}/{r.inquiries_allowed}", ahead, outcome)
    console.print(table)
