"""What every command shares: the options, the error handler, the run's settings.

Errors become one line on stderr and the exit code their class carries
(`followup_cal.errors`; DESIGN.md "Interfaces": 1 failed, 2 bad usage, config
or input); anything else is a bug and says so. A traceback only with --debug.
The command modules import this one at the top; it imports none of them.
"""

from __future__ import annotations

import functools
import traceback
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from .errors import FollowupError, UsageError

NAME = "followup-cal"

UsageProblem = UsageError  # the name the commands have always used


def err(message: str) -> None:
    click.echo(f"{NAME}: {message}", err=True)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.find_root().params.get("debug") or (ctx.obj or {}).get("debug"))


def fail(ctx: click.Context, message: str, code: int) -> None:
    if _debug(ctx):
        traceback.print_exc()
    err(message)
    ctx.exit(code)


def handled(fn):
    """One line and the error's exit code instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return fn(*args, **kwargs)
        except FollowupError as exc:
            fail(ctx, str(exc) or type(exc).__name__, exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            err("interrupted")
            ctx.exit(130)
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as exc:  # a bug: say so, rather than look like a failure
            fail(ctx, f"internal error: {type(exc).__name__}: {exc} (run with --debug)", 1)

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
        raise UsageError(f"--now: not an ISO 8601 date/time: {value!r}") from None
    return t.replace(tzinfo=ZoneInfo(zone)) if t.tzinfo is None else t


def prepare(ctx: click.Context, timezone: str | None, me: tuple[str, ...], now: str | None,
            debug: bool):
    """The run's Settings (checked, country included) and its present."""
    from .config import build_settings

    ctx.ensure_object(dict)
    ctx.obj["debug"] = ctx.obj.get("debug") or debug
    settings = build_settings(timezone=timezone, me=me)
    return settings, parse_now(now, settings.timezone)


def no_mail_option(fn):
    return click.option("--no-mail", "no_mail", is_flag=True,
                        help="Don't look in the [mail.NAME] mailboxes for replies this run.")(fn)


def mail_accounts(no_mail: bool):
    """The `[mail.NAME]` accounts to look in this run (none with --no-mail)."""
    from .mail import accounts

    return accounts(not no_mail)


def say_mail(found, notes: bool = True) -> None:
    """Issue 14: a line per mail account not read, and per reply that ended inquiries."""
    for line in found.warnings:
        err(f"warning: {line}")
    for line in found.notes if notes else ():
        err(line)
