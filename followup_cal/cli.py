"""Command line: parse options, call the source, the planner and a sink, print.

Errors become one line on stderr and an exit code (DESIGN.md interfaces):
1 failed, 2 bad usage or unreadable input; a traceback only with --debug.
Heavy modules are imported inside the commands so `--help` starts fast.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from . import __version__

NAME = "followup-cal"


class UsageProblem(Exception):
    """Bad option value: exit 2."""


def _err(message: str) -> None:
    click.echo(f"{NAME}: {message}", err=True)


def _fail(ctx: click.Context, exc: BaseException, code: int) -> None:
    if ctx.find_root().params.get("debug") or (ctx.obj or {}).get("debug"):
        traceback.print_exc()
    _err(str(exc) or type(exc).__name__)
    ctx.exit(code)


def handled(fn):
    """One line and an exit code instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .config import ConfigError
        from .ics import InputError

        ctx = click.get_current_context()
        try:
            return fn(*args, **kwargs)
        except (InputError, ConfigError, UsageProblem) as exc:
            _fail(ctx, exc, 2)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _err("interrupted")
            ctx.exit(130)
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as exc:
            _fail(ctx, exc, 1)

    return wrapper


def common(fn):
    """Options every planning command takes."""
    fn = click.option("--debug", is_flag=True, help="Show tracebacks.")(fn)
    fn = click.option("--me", "me", multiple=True, metavar="ADDR",
                      help="Your own e-mail address (repeatable).")(fn)
    fn = click.option("--timezone", "timezone", metavar="ZONE",
                      help="Your IANA time zone (default: config, else this machine's).")(fn)
    fn = click.option("--now", "now", metavar="ISO",
                      help="Fix the present (ISO 8601; without offset: in your zone).")(fn)
    return fn


def parse_now(value: str | None, zone: str) -> datetime:
    if not value:
        return datetime.now(ZoneInfo(zone)).replace(microsecond=0)
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageProblem(f"--now: not an ISO 8601 date/time: {value!r}") from None
    return t.replace(tzinfo=ZoneInfo(zone)) if t.tzinfo is None else t


def prepare(ctx: click.Context, timezone: str | None, me: tuple[str, ...], now: str | None,
            debug: bool):
    from .config import build_settings

    ctx.ensure_object(dict)
    ctx.obj["debug"] = ctx.obj.get("debug") or debug
    settings = build_settings(timezone=timezone, me=me)
    return settings, parse_now(now, settings.timezone)


def build_plan(paths: tuple[str, ...], settings, now, sink=None, google: bool = False,
               quiet: bool = False, mail: bool = True):
    """Plan with what the ledger knows, then remember what was seen and planned.

    `sink(ledger, items)` writes the plan somewhere and records that it did, in
    the same transaction: one command, one transaction (issue 4). Reading shows a
    progress line on a terminal when it takes a while, unless `quiet` (issue 15).
    """
    from .holidays_cache import holiday_dates
    from .ics import read_sources
    from .ledger import Ledger
    from .mail import accounts as mail_accounts
    from .mail import check as mail_check
    from .rules import plan
    from .views import progress, reading_message

    if not paths and not google:
        raise UsageProblem("no calendar given: pass an .ics file, or --google")
    if google:
        from .google import read_sources as read_google

        with progress("Reading Google Calendar…", not quiet):
            data = read_google(paths, settings, now)
    else:
        with progress(reading_message(paths), not quiet):
            data = read_sources(paths, settings, now)
    for warning in data.warnings:
        _err(f"warning: {warning}")
    with Ledger.open() as ledger:
        say_mail(mail_check(mail_accounts(mail), data.interviews, ledger, settings, now))
        with ledger.transaction():
            history = ledger.history(data.interviews, settings, now)
            items = plan(data.interviews, history, data.busy, settings, now,
                         holidays=holiday_dates)
            ledger.remember(data.interviews, items, settings, now)
            if sink is not None:
                sink(ledger, items)
    return items


def say_mail(found, notes: bool = True) -> None:
    """Issue 14: a line per mail account not read, and per reply that ended inquiries."""
    for line in found.warnings:
        _err(f"warning: {line}")
    for line in found.notes if notes else ():
        _err(line)


def no_mail_option(fn):
    return click.option("--no-mail", "no_mail", is_flag=True,
                        help="Don't look in the [mail.NAME] mailboxes for replies this run.")(fn)


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
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array for scripts.")
@no_mail_option
@common
@click.pass_context
@handled
def plan_cmd(ctx, paths, google, as_json, no_mail, now, timezone, me, debug):
    """Show the follow-ups still to do."""
    settings, now = prepare(ctx, timezone, me, now, debug)
    items = build_plan(paths, settings, now, google=google, quiet=as_json,
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
@no_mail_option
@common
@click.pass_context
@handled
def export_cmd(ctx, files, paths, output, google, no_mail, now, timezone, me, debug):
    """Write the follow-ups as an .ics file to import into any calendar app."""
    from pathlib import Path

    from .ics import to_ical, write_atomic

    settings, now = prepare(ctx, timezone, me, now, debug)
    # stdout counts as written too: `-o - > file.ics` is how many people save it
    target = "ics:-" if output == "-" else f"ics:{Path(output).resolve()}"

    def sink(ledger, items):
        write_atomic(output, to_ical(items, settings, now))
        ledger.record_written(target, items, now)

    items = build_plan(tuple(files) + tuple(paths), settings, now, sink=sink, google=google,
                       mail=not no_mail)
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


# Commands that keep state live in their own module (imported here, light at import).
from . import cli_state  # noqa: E402

cli_state.register(cli)
from . import cli_google  # noqa: E402

cli_google.register(cli)


def main() -> None:
    cli(prog_name=NAME)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
