"""Commands that talk to Google Calendar: `auth` and `sync` (issue 3).

Registered onto the main group by `register`, as `cli_state` is. Nothing from
google-api-python-client or google-auth is imported until one of these
commands runs, so `followup-cal --help` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import click

LOCK_NAME = "sync.lock"
LOCK_WAIT_SECONDS = 5.0  # a second sync waits this long, then leaves it to the first
LOCK_POLL_SECONDS = 0.1


def lock_path() -> Path:
    from .ledger import default_path

    return default_path().parent / LOCK_NAME


@contextlib.contextmanager
def sync_lock(wait: float | None = None) -> Iterator[bool]:
    """An exclusive lock on `sync.lock` beside the state file; yields False if busy.

    The kernel drops the lock when the process dies, however it dies: a killed
    sync never leaves a stale lock behind.
    """
    wait = LOCK_WAIT_SECONDS if wait is None else wait
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fh = open(path, "a+")  # noqa: SIM115 (held for the whole block)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(LOCK_POLL_SECONDS)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            yield True
        finally:
            _unlock(fh)
    finally:
        fh.close()


def _try_lock(fh) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except (BlockingIOError, PermissionError):
        return False


def _unlock(fh) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        with contextlib.suppress(OSError):
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def summary_line(result) -> str:
    """created / updated / deleted / unchanged, in one line (cron mails only this)."""
    created = result.count("create", "restore")
    updated = result.count("update")
    deleted = result.count("delete")
    unchanged = result.count("unchanged")
    kept = result.count("kept-deleted")
    where = _where(result)
    if result.dry_run:
        text = (f"dry run for {where}: would create {created}, update {updated}, "
                f"delete {deleted}; {unchanged} unchanged")
    else:
        text = (f"synced {where}: {created} created, {updated} updated, {deleted} deleted, "
                f"{unchanged} unchanged")
    if kept:
        text += f", {kept} left deleted by you"
    failed = result.count("failed")
    if failed:
        text += f", {failed} failed (the next sync retries them)"
    if result.mail_skipped:  # issue 14
        text += f"; mail skipped ({', '.join(result.mail_skipped)})"
    return text


def failure_line(result) -> str:
    """One line for stderr (cron mails it): how many events failed, and the first reason."""
    first = result.failures[0] if result.failures else ""
    more = f" (and {len(result.failures) - 1} more; -v lists them)" if len(
        result.failures) > 1 else ""
    return (f"{len(result.failures)} follow-up event(s) could not be written, e.g. "
            f"{first}{more}")


def _where(result) -> str:
    from .google import CALENDAR_NAME

    if not result.dedicated:
        return f"google:{result.calendar_id}"
    if result.calendar_id is None:
        return f"{CALENDAR_NAME!r} (not created yet)"
    return f"{CALENDAR_NAME!r}" + (" (new calendar)" if result.calendar_created else "")


ACTION_WORDS = {"create": "create", "restore": "restore", "update": "update",
                "delete": "delete", "unchanged": "same", "kept-deleted": "deleted by you",
                "skipped": "skip", "failed": "FAILED"}


def change_line(change, tz) -> str:
    when = (f"{change.start.astimezone(tz):%a %Y-%m-%d %H:%M}" if isinstance(change.start,
                                                                            datetime)
            else " " * 20)
    return f"{ACTION_WORDS.get(change.action, change.action):<15} {when}  {change.summary}"


def register(group: click.Group) -> None:
    """Add `auth` and `sync` to the main group."""
    from .cli import UsageProblem, common, handled, no_mail_option, prepare

    @group.command("auth")
    @click.option("--credentials", "credentials", metavar="FILE",
                  help="The OAuth client file from the Google Cloud console "
                       "(default: credentials.json in FOLLOWUP_CAL_HOME or the config folder).")
    @click.option("--port", type=click.IntRange(0, 65535), default=None, metavar="N",
                  help="Port for the sign-in redirect on localhost (default: any free one; "
                       "8080 without a display, for `ssh -L`).")
    @click.option("--debug", is_flag=True, help="Show tracebacks.")
    @click.pass_context
    @handled
    def auth_cmd(ctx, credentials, port, debug):
        """Sign in to Google once; the token is saved for `sync` and `--google`.

        Asks for three permissions: calendar.events (read your interviews, write the
        follow-ups), calendar.app.created (create the "Interview follow-ups"
        calendar, and only that one) and calendar.calendarlist.readonly (find that
        calendar again, rather than make a second one, if the state file is lost).
        Where there is no browser, it prints the address to open and the `ssh -L`
        line to sign in from another computer.
        """
        from . import auth

        ctx.ensure_object(dict)
        ctx.obj["debug"] = ctx.obj.get("debug") or debug
        if not auth.has_terminal():
            raise auth.AuthError("`followup-cal auth` needs a terminal: you sign in "
                                 "in a browser while it waits")
        secrets = auth.client_secrets_path(credentials)
        try:
            creds = auth.run_flow(secrets, port)
        except auth.ClientSecretsError as exc:
            raise UsageProblem(str(exc)) from None
        if not creds.refresh_token:
            raise auth.AuthError("Google sent no refresh token; remove followup-cal's access at "
                                 "https://myaccount.google.com/permissions and run "
                                 "`followup-cal auth` again")
        path = auth.save(creds)
        click.echo(f"signed in; token saved to {path}")

    @group.command("sync")
    @click.option("--ics", "paths", multiple=True, metavar="FILE",
                  help="Also read interviews from this .ics export (repeatable).")
    @click.option("--dry-run", is_flag=True, help="Print the changes; write nothing.")
    @click.option("--target", "target", metavar="CALENDAR_ID",
                  help='Write to this calendar (e.g. primary) instead of the dedicated '
                       '"Interview follow-ups" one.')
    @click.option("-v", "--verbose", is_flag=True, help="Print every change and warning.")
    @no_mail_option
    @common
    @click.pass_context
    @handled
    def sync_cmd(ctx, paths, dry_run, target, verbose, no_mail, now, timezone, me, debug):
        """Write the follow-ups to Google Calendar, and keep them in line with the plan.

        Creates what is missing, moves what changed, deletes what is no longer
        planned, never touches events it did not write, and never re-creates one
        you deleted. Quiet: one summary line, for cron.
        """
        from . import google
        from .views import progress

        settings, now = prepare(ctx, timezone, me, now, debug)
        if target is not None and not target.strip():
            raise UsageProblem("--target: give a calendar id, e.g. primary")

        def warn(message: str) -> None:
            if verbose:
                click.echo(f"followup-cal: warning: {message}", err=True)

        with sync_lock() as locked:
            if not locked:
                click.echo("another sync is running; this one did nothing")
                return
            try:
                # a slow server shows a progress line on a terminal; -v prints as it goes
                with progress("Syncing with Google Calendar…", not verbose):
                    _items, result = google.sync(paths, settings, now, target=target,
                                                 dry_run=dry_run, warn=warn,
                                                 mail=not no_mail)
            except google.CalendarNotFound as exc:
                raise UsageProblem(str(exc)) from None
        for message in result.warnings:
            click.echo(f"followup-cal: warning: {message}", err=True)
        for note in result.mail_notes if verbose else ():
            click.echo(f"followup-cal: {note}", err=True)
        if dry_run or verbose:
            shown = [c for c in result.changes if verbose or c.action not in
                     ("unchanged", "kept-deleted")]
            for change in shown:
                click.echo(change_line(change, settings.tz))
        click.echo(summary_line(result))
        if verbose:
            for failure in result.failures[1:]:
                click.echo(f"followup-cal: {failure}", err=True)
        if result.failures:
            raise google.GoogleError(failure_line(result))
