"""`auth` (Google sign-in) and `sync` (keep any calendar account in line; issues 3, 13).

No service's client is imported until one of these commands runs, so
`followup-cal --help` stays fast.
"""

from __future__ import annotations

from datetime import datetime

import click

from .cli_common import UsageProblem, common, handled, mail_accounts, no_mail_option, prepare

__all__ = ["auth_cmd", "change_line", "failure_line", "summary_line", "sync_cmd"]

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
    if not result.target.startswith("google:"):
        return result.target + ("" if result.calendar_id else " (not created yet)")
    from .calendars.google import CALENDAR_NAME

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


@click.command("auth")
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
    from .calendars.google import auth

    ctx.ensure_object(dict)
    ctx.obj["debug"] = ctx.obj.get("debug") or debug
    if not auth.has_terminal():
        raise auth.AuthError("`followup-cal auth` needs a terminal: you sign in "
                             "in a browser while it waits")
    secrets = auth.client_secrets_path(credentials)
    creds = auth.run_flow(secrets, port)  # ClientSecretsError: a UsageError, exit 2
    if not creds.refresh_token:
        raise auth.AuthError("Google sent no refresh token; remove followup-cal's access at "
                             "https://myaccount.google.com/permissions and run "
                             "`followup-cal auth` again")
    path = auth.save(creds)
    click.echo(f"signed in; token saved to {path}")

@click.command("sync")
@click.option("--calendar", "calendars", multiple=True, metavar="NAME",
              help="Read interviews from this [calendars.NAME] account (repeatable; default: "
                   "every configured account, else google).")
@click.option("--ics", "paths", multiple=True, metavar="FILE",
              help="Also read interviews from this .ics export (repeatable).")
@click.option("--to", "to", metavar="NAME",
              help="Keep the follow-ups in this account's calendar (default: the one account "
                   "read, else the sync_to setting).")
@click.option("--dry-run", is_flag=True, help="Print the changes; write nothing.")
@click.option("--target", "target", metavar="CALENDAR_ID",
              help='Google: write to this calendar (e.g. primary) instead of the dedicated '
                   '"Interview follow-ups" one.')
@click.option("-v", "--verbose", is_flag=True, help="Print every change and warning.")
@no_mail_option
@common
@click.pass_context
@handled
def sync_cmd(ctx, calendars, paths, to, dry_run, target, verbose, no_mail, now, timezone, me,
             debug):
    """Write the follow-ups to a calendar, and keep them in line with the plan.

    Creates what is missing, moves what changed, deletes what is no longer
    planned, never touches events it did not write, and never re-creates one
    you deleted. Quiet: one summary line, for cron.
    """
    from .calendars.choose import instance, pick, write_to
    from .calendars.ics import IcsFiles
    from .errors import RemoteError
    from .sync import sync_lock
    from .views import progress

    settings, now = prepare(ctx, timezone, me, now, debug)
    if target is not None and not target.strip():
        raise UsageProblem("--target: give a calendar id, e.g. primary")
    read = pick(calendars, settings)
    account = write_to(to, read, settings)
    if target is not None and account.type != "google":
        raise UsageProblem(f"--target: only for Google; {account.name!r} is {account.type}")
    objects = {a.name: instance(a, settings) for a in [*read, account]}
    sources = [IcsFiles(paths)] if paths else []
    sources += [objects[a.name] for a in read]

    def warn(message: str) -> None:
        if verbose:
            click.echo(f"followup-cal: warning: {message}", err=True)

    with sync_lock() as locked:
        if not locked:
            click.echo("another sync is running; this one did nothing")
            return
        # a slow server shows a progress line on a terminal; -v prints as it goes
        where = "Google Calendar" if account.type == "google" else account.name
        with progress(f"Syncing with {where}…", not verbose):
            result = _sync(sources, objects[account.name], account.type, settings, now,
                           target=target, dry_run=dry_run, warn=warn,
                           mail=mail_accounts(no_mail))
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
        raise RemoteError(failure_line(result))


def _sync(sources, sink, kind: str, settings, now, *, target, dry_run, warn, mail):
    """Plan through the one pipeline, then keep `sink` in line (sync.reconcile; for
    Google through `google.sync`, which shares its client with the Google sources)."""
    if kind == "google":
        from .calendars import google

        return google.sync(sources, settings, now, calendar=sink, target=target,
                           dry_run=dry_run, warn=warn, mail=mail)[1]
    from . import pipeline
    from .ledger import Ledger
    from .sync import reconcile

    data = pipeline.collect(sources, settings, now)
    for message in data.warnings:
        warn(message)
    with Ledger.open() as ledger:
        planned = pipeline.plan(data, settings, now, ledger, mail=mail)
        result = reconcile(planned.items, sink, ledger, now, dry_run=dry_run,
                           interviews=data.interviews)
    result.dedicated = False
    result.warnings[:0] = planned.mail.warnings
    result.mail_skipped, result.mail_notes = planned.mail.skipped, planned.mail.notes
    return result
