"""Command line: the group, `plan` and `export`; the other commands join it here.

Errors become one line on stderr and the exit code their class carries
(cli_common.handled). Heavy modules are imported inside the commands so
`--help` starts fast.
"""

from __future__ import annotations

import json
import sys

import click

from . import __version__, cli_state, cli_sync
from .cli_common import (
    NAME,
    UsageProblem,
    common,
    handled,
    mail_accounts,
    no_mail_option,
    parse_now,
    prepare,
    say_mail,
)
from .cli_common import err as _err

__all__ = ["NAME", "UsageProblem", "build_plan", "cli", "common", "handled", "main", "parse_now",
           "prepare"]


def sources_for(paths: tuple[str, ...], names: tuple[str, ...], settings) -> list:
    """The .ics files, then the calendar accounts named (`--google` is `--calendar google`)."""
    sources: list = []
    if paths:
        from .calendars.ics import IcsFiles

        sources.append(IcsFiles(paths))
    if names:
        from .calendars.choose import instance, pick

        sources += [instance(a, settings) for a in pick(names, settings)]
    return sources


def build_plan(paths: tuple[str, ...], settings, now, sink=None, google: bool = False,
               quiet: bool = False, calendars: tuple[str, ...] = (), mail: bool = True):
    """Read the calendars and plan through the one pipeline (pipeline.py).

    `sink(ledger, items)` writes the plan somewhere and records that it did, in
    the same transaction: one command, one transaction (issue 4). Reading shows a
    progress line on a terminal when it takes a while, unless `quiet` (issue 15).
    """
    from . import pipeline
    from .ledger import Ledger
    from .views import progress, reading_message

    names = tuple(calendars) + (("google",) if google else ())
    if not paths and not names:
        raise UsageProblem("no calendar given: pass an .ics file, --calendar NAME, or --google")
    sources = sources_for(paths, names, settings)
    message = (f"Reading {', '.join(names)}…" if names else reading_message(paths))
    with progress(message, not quiet):
        data = pipeline.collect(sources, settings, now)
    for warning in data.warnings:
        _err(f"warning: {warning}")
    with Ledger.open() as ledger:
        planned = pipeline.plan(data, settings, now, ledger, sink=sink,
                                mail=mail_accounts(not mail))
    say_mail(planned.mail)
    return planned.items


CALENDAR_OPTION = click.option(
    "--calendar", "calendars", multiple=True, metavar="NAME",
    help="Read interviews from this [calendars.NAME] account (repeatable; google is built in).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=NAME)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Turn the interviews in your calendar into a follow-up plan.

    Thank-you e-mails the same day, handwritten notes within 48 hours,
    check-ins a week later (or after the decision date they gave you),
    calls mid-morning, and a firm stop before you turn pushy.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command("plan")
@click.option("--ics", "paths", multiple=True, metavar="FILE",
              help="An .ics export to read (repeatable; - for stdin).")
@click.option("--google", "google", is_flag=True,
              help="Read interviews from Google Calendar (after `followup-cal auth`).")
@CALENDAR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array for scripts.")
@no_mail_option
@common
@click.pass_context
@handled
def plan_cmd(ctx, paths, google, calendars, as_json, no_mail, now, timezone, me, debug):
    """Show the follow-ups still to do."""
    settings, now = prepare(ctx, timezone, me, now, debug)
    items = build_plan(paths, settings, now, google=google, quiet=as_json, calendars=calendars,
                       mail=not no_mail)
    if as_json:
        click.echo(json.dumps([f.as_json(settings.tz) for f in items], indent=2,
                              ensure_ascii=False))
    else:
        print_table(items, settings)


@cli.command("export")
@click.argument("files", nargs=-1, metavar="[FILE.ics]...")
@click.option("--ics", "paths", multiple=True, metavar="FILE", hidden=True)
@click.option("-o", "--output", required=True, metavar="OUT.ics",
              help="Where to write the follow-ups (- for stdout).")
@click.option("--google", "google", is_flag=True,
              help="Read interviews from Google Calendar (after `followup-cal auth`).")
@CALENDAR_OPTION
@no_mail_option
@common
@click.pass_context
@handled
def export_cmd(ctx, files, paths, output, google, calendars, no_mail, now, timezone, me, debug):
    """Write the follow-ups as an .ics file to import into any calendar app."""
    from pathlib import Path

    from .calendars.ics import to_ical, write_atomic

    settings, now = prepare(ctx, timezone, me, now, debug)
    # stdout counts as written too: `-o - > file.ics` is how many people save it
    target = "ics:-" if output == "-" else f"ics:{Path(output).resolve()}"

    def sink(ledger, items):
        write_atomic(output, to_ical(items, settings, now))
        ledger.record_written(target, items, now)

    items = build_plan(tuple(files) + tuple(paths), settings, now, sink=sink, google=google,
                       calendars=calendars, mail=not no_mail)
    if output != "-":
        _err(f"wrote {len(items)} follow-up{'s' if len(items) != 1 else ''} to {output}")


def print_table(items, settings) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not items:
        console.print("No follow-ups to do: no interviews in the window, or all done.")
        return
    tz = settings.tz
    groups: dict[str, list] = {}
    for f in items:
        groups.setdefault(f.company, []).append(f)
    for company, rows in groups.items():
        role = next((f.role for f in rows if f.role), None)
        table = Table(title=f"{company}" + (f" — {role}" if role else ""), title_justify="left",
                      show_edge=False, pad_edge=False)
        table.add_column("when", no_wrap=True)
        table.add_column("what")
        table.add_column("how", no_wrap=True)
        for f in rows:
            start = f.start.astimezone(tz)
            table.add_row(f"{start:%a %Y-%m-%d %H:%M}", f.summary, f.channel or "")
        console.print(table)
        console.print()


for _command in (cli_state.outcome_cmd, cli_state.contacted_cmd, cli_state.status_cmd,
                 cli_sync.auth_cmd, cli_sync.sync_cmd):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name=NAME)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
