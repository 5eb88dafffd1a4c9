"""Accounts: the `[calendars.NAME]` and `[mail.NAME]` tables of config.toml.

Each table names one account on a service (DESIGN.md "Interfaces"). This
module only checks the keys every account shares and finds its password; what
a backend's own keys mean (url, read, write, host, folders, ...) is the
backend's to read from `Account.options`, so a new service needs no edit here.

Passwords come from `password_command` (run without a shell, 10 s limit, the
first line of its output), `password_env`, or `password` in the file itself
only when the file is private (mode 0600). They are never printed, logged or
stored: errors name the account and the option, never the value.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError, _load_toml, config_path

PASSWORD_KEYS = ("password_command", "password_env", "password")
PASSWORD_COMMAND_SECONDS = 10
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class Account:
    """One `[SECTION.NAME]` table: `section` is "calendars" or "mail"."""

    section: str
    name: str
    type: str
    options: Mapping[str, object] = field(default_factory=dict, hash=False, compare=False)
    config_file: Path | None = None

    @property
    def where(self) -> str:
        return f"{self.section}.{self.name}"

    def get(self, key: str, default=None):
        return self.options.get(key, default)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        """A string option; ConfigError naming the table when it has another type."""
        value = self.options.get(key, default)
        if value is None:
            if required:
                raise ConfigError(f"{self.where}: '{key}' is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise ConfigError(f"{self.where}.{key}: expected a string")
        return value

    def texts(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings (a single string is a list of one)."""
        value = self.options.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.where}.{key}: expected a list of strings")
        return tuple(value)

    def has_password(self) -> bool:
        return any(k in self.options for k in PASSWORD_KEYS)

    def password(self) -> str:
        """The account's password, from the one password option it has."""
        return resolve_password(self)


def load(section: str, kinds: tuple[str, ...], path: Path | None = None
         ) -> tuple[Account, ...]:
    """The accounts of `section` in the config file (none when there is no file)."""
    path = path or config_path()
    return read_accounts(_load_toml(path), section, kinds, path)


def read_accounts(raw: Mapping[str, object], section: str, kinds: tuple[str, ...],
                  config_file: Path | None = None) -> tuple[Account, ...]:
    """The accounts of one section of a parsed config file, checked."""
    tables = raw.get(section, {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{section}: expected tables like [{section}.NAME]")
    accounts = []
    for name, table in tables.items():
        where = f"{section}.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        if not name or not set(name.lower()) <= NAME_CHARS:
            raise ConfigError(f"{where}: a name may hold letters, digits, '-' and '_' only")
        kind = table.get("type")
        if kind not in kinds:
            raise ConfigError(f"{where}.type: expected one of {', '.join(kinds)}, got {kind!r}")
        given = [k for k in PASSWORD_KEYS if k in table]
        if len(given) > 1:
            raise ConfigError(f"{where}: give one of {', '.join(given)}, not several")
        options = {k: v for k, v in table.items() if k != "type"}
        accounts.append(Account(section, name, kind, options, config_file))
    return tuple(accounts)


def resolve_password(account: Account) -> str:
    where = account.where
    if "password_command" in account.options:
        return _from_command(account.options["password_command"], where)
    if "password_env" in account.options:
        var = account.options["password_env"]
        if not isinstance(var, str) or not var:
            raise ConfigError(f"{where}.password_env: expected the name of a variable")
        value = os.environ.get(var)
        if not value:
            raise ConfigError(f"{where}.password_env: the variable {var} is not set")
        return value
    if "password" in account.options:
        value = account.options["password"]
        if not isinstance(value, str):
            raise ConfigError(f"{where}.password: expected a string")
        _check_private(account.config_file, where)
        return value
    raise ConfigError(f"{where}: no password given (password_command, password_env or password)")


def _from_command(command: object, where: str) -> str:
    """Run the command without a shell; its first line is the password."""
    import shlex  # only an account with a password command needs these
    import subprocess

    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"{where}.password_command: {exc}") from None
    elif isinstance(command, list) and all(isinstance(a, str) for a in command):
        argv = list(command)
    else:
        raise ConfigError(f"{where}.password_command: expected a command line")
    if not argv:
        raise ConfigError(f"{where}.password_command: empty")
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=PASSWORD_COMMAND_SECONDS, check=False)
    except FileNotFoundError:
        raise ConfigError(f"{where}.password_command: {argv[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{where}.password_command: no answer within "
                          f"{PASSWORD_COMMAND_SECONDS} s") from None
    except OSError as exc:
        raise ConfigError(f"{where}.password_command: {exc.strerror or exc}") from None
    if done.returncode != 0:
        # its stderr may hold anything, the secret included: say only how it ended
        raise ConfigError(f"{where}.password_command: exited with {done.returncode}")
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    password = lines[0].strip("\r\n") if lines else ""
    if not password:
        raise ConfigError(f"{where}.password_command: printed no password")
    return password


def _check_private(path: Path | None, where: str) -> None:
    """A password written in the file is refused unless only the owner can read it."""
    if path is None:
        return
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"{where}.password: cannot check {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{where}.password: {path} may be read by others (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}`, or use password_command or password_env")
