"""Where config, state, token, cache and lock live.

`FOLLOWUP_CAL_HOME` puts everything in one folder (DESIGN.md "Interfaces"):
config.toml, state.db, token.json, sync.lock there, the holiday cache in its
`cache/`. Otherwise the platform's folders (platformdirs, imported only then).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "followup-cal"
HOME_ENV = "FOLLOWUP_CAL_HOME"


def home_dir() -> Path | None:
    home = os.environ.get(HOME_ENV)
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    """state.db and token.json."""
    home = home_dir()
    if home:
        return home
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP))


def config_dir() -> Path:
    """config.toml and Google's credentials.json."""
    home = home_dir()
    if home:
        return home
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP))


def config_path() -> Path:
    return config_dir() / "config.toml"


def state_path() -> Path:
    return data_dir() / "state.db"


def token_path() -> Path:
    return data_dir() / "token.json"


def cache_path(name: str) -> Path:
    """`$FOLLOWUP_CAL_HOME/cache/NAME`, else the user cache folder."""
    home = home_dir()
    if home:
        return home / "cache" / name
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP)) / name


def lock_path() -> Path:
    """sync.lock beside the state file."""
    return state_path().parent / "sync.lock"
