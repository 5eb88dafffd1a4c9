"""Which calendars a command reads and which one `sync` keeps in line.

The accounts are the `[calendars.NAME]` tables of config.toml; `google` is
built in (the account signed in with `followup-cal auth`), and the old
`google_calendars` / `google_retries` settings are its `read` and `retries`
unless a `[calendars.google]` table says otherwise. Classes come through the
lazy registry (`calendars.KINDS`), so nothing here imports a service's client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from . import KINDS, load

if TYPE_CHECKING:
    from ..accounts import Account
    from ..config import Settings

GOOGLE = "google"


def configured(settings: Settings) -> dict[str, Account]:
    """Every calendar account by name; `google` is there even without a table."""
    from ..accounts import Account
    from ..accounts import load as load_accounts

    found = {a.name: a for a in load_accounts("calendars", tuple(KINDS))}
    found.setdefault(GOOGLE, Account("calendars", GOOGLE, GOOGLE, {}))
    return found


def pick(names: Sequence[str], settings: Settings) -> list[Account]:
    """The accounts `--calendar NAME` named (unknown: exit 2 naming the known ones);
    none named: every account the config file has a table for, else Google."""
    accounts = configured(settings)
    if not names:
        tables = [a for a in accounts.values() if a.config_file is not None]
        return tables or [accounts[GOOGLE]]
    unknown = [n for n in names if n not in accounts]
    if unknown:
        raise UsageError(f"--calendar: no calendar account {unknown[0]!r}; configured: "
                         + ", ".join(sorted(accounts)))
    return [accounts[n] for n in dict.fromkeys(names)]


def write_to(to: str | None, read: Sequence[Account], settings: Settings) -> Account:
    """`--to NAME`, else the one account read, else the `sync_to` setting."""
    accounts = configured(settings)
    name = to or (read[0].name if len(read) == 1 else None) or sync_to()
    if name is None:
        raise UsageError("several calendars are read: say which one keeps the follow-ups "
                         "with --to NAME (or sync_to in config.toml)")
    if name not in accounts:
        raise UsageError(f"--to: no calendar account {name!r}; configured: "
                         + ", ".join(sorted(accounts)))
    return accounts[name]


def sync_to() -> str | None:
    """The `sync_to` setting: the account `sync` writes to when several are read."""
    from ..config import _load_toml, config_path
    from ..errors import ConfigError

    value = _load_toml(config_path()).get("sync_to")
    if value is not None and not isinstance(value, str):
        raise ConfigError("sync_to: expected the name of a [calendars.NAME] account")
    return value or None


def instance(account: Account, settings: Settings):
    """The account's Source (and CalendarSink) object."""
    return load(account.type)(account, settings)
