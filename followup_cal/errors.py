"""One error hierarchy: each class carries the exit code the CLI gives it.

DESIGN.md "Interfaces": 1 failed, 2 bad usage, bad config or unreadable
input. A backend's errors subclass these, so the CLI needs no edit to exit
right for a new service (khal's Error/FatalError, vdirsyncer's UserError).
Anything that is not a FollowupError is a bug: the CLI says "internal error".
The old names stay importable from their old modules (cli.UsageProblem,
config.ConfigError, ics.InputError, ledger.LedgerError, auth.AuthError,
google.GoogleError ...).
"""

from __future__ import annotations


class FollowupError(Exception):
    """A failure the user can act on: one line on stderr, exit `exit_code`."""

    exit_code = 1


class UsageError(FollowupError):
    """A bad option value or combination."""

    exit_code = 2


class InputError(FollowupError):
    """A calendar file that cannot be read."""

    exit_code = 2


class ConfigError(FollowupError, ValueError):
    """A setting is invalid (a ValueError too, as it always was)."""

    exit_code = 2


class LedgerError(FollowupError):
    """The state file cannot be used (corrupt, or from a newer version)."""


class AuthError(FollowupError):
    """No usable sign-in."""


class RemoteError(FollowupError):
    """A calendar service refused or could not be reached."""


class CalendarNotFound(RemoteError):
    """A calendar named on the command line or in the config does not exist."""

    exit_code = 2


class EventError(RemoteError):
    """One event the calendar refused: that event's failure alone (sync.reconcile counts
    it, writes the others, and exits 1); any other error stops the run."""
