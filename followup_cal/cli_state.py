"""Commands about what already happened: outcome, contacted, status (issue 4)."""

from __future__ import annotations

import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

import click

from .cli_common import UsageProblem, common, handled, prepare
from .words import CHANNELS, OUTCOMES


def parse_at(value: str | None, now: datetime, zone: str, day_time: time) -> datetime:
    """`--at`: ISO 8601; a bare date means `day_time` that day; never in the future."""
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


@click.command("outcome")
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

@click.command("contacted")
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

@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array for scripts.")
@click.option("--html", "html_out", metavar="FILE",
              help="Write the status as one self-contained web page (- for stdout).")
@common
@click.pass_context
@handled
def status_cmd(ctx, as_json, html_out, now, timezone, me, debug):
    """One line per application: rounds, inquiries, what comes next, outcome.

    --html FILE draws each application's timeline on a page that works
    offline; --json and --html show the same rows.
    """
    from .ledger import Ledger
    from .views import print_status, status_html, status_rows

    if as_json and html_out == "-":
        raise UsageProblem("--json and --html - both write to stdout; give --html a file")
    settings, now = prepare(ctx, timezone, me, now, debug)
    with Ledger.open() as ledger:
        apps = status_rows(ledger, settings, now)
    if html_out is not None:
        from .calendars.ics import write_atomic

        write_atomic(html_out, status_html(apps, settings, now).encode("utf-8"))
        if html_out != "-":
            click.echo(f"followup-cal: wrote the status of {len(apps)} application"
                       f"{'s' if len(apps) != 1 else ''} to {html_out}", err=True)
    if as_json:
        click.echo(json.dumps([a.as_json(settings.tz) for a in apps], indent=2,
                              ensure_ascii=False))
    elif html_out is None:
        print_status(apps, settings)
