"""Public-holiday dates kept on disk, so most runs never import `holidays`.

Importing the `holidays` package and building the first country costs about
0.25 s (it loads every country it knows), a large share of a small run, and
cron runs `sync` hourly. Only the dates matter to the planner, so they are kept
per (country, subdivision, year) in a JSON file, keyed on the installed
package's identity (an upgrade invalidates them without importing anything).

The cache is only an optimisation: an unreadable, corrupt or unwritable file
means the dates are computed again, never a failed run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from datetime import date
from pathlib import Path

from . import paths
from .errors import ConfigError

FORMAT = 1
FILE_NAME = "holidays.json"

Key = tuple[str, str | None, int]

# Dates known in this process (from the file or the package): is_business_day is hot.
_known: dict[Key, frozenset[date]] = {}
_loaded_from: Path | None = None


def cache_path() -> Path:
    """`$FOLLOWUP_CAL_HOME/cache/holidays.json`, else the user cache folder."""
    return paths.cache_path(FILE_NAME)


def package_identity() -> str | None:
    """Where the installed `holidays` lives and its file's stamp, without importing it.

    An upgrade rewrites the package, which changes this; None when it cannot be
    found (then nothing is read from or written to disk).
    """
    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    try:
        st = os.stat(spec.origin)
    except OSError:
        return None
    return f"{spec.origin}:{st.st_mtime_ns}:{st.st_size}"


def holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of `year`, as the `holidays` package gives them.

    Raises ConfigError for a country or subdivision the package does not know
    (never cached, so a fixed setting works at once).
    """
    key = (country, subdivision, year)
    found = _known.get(key)
    if found is not None:
        return found
    _load()
    found = _known.get(key)
    if found is None:
        found = _compute(country, subdivision, year)
        _known[key] = found
        _save()
    return found


def check(country: str, subdivision: str | None) -> None:
    """Raise ConfigError unless the package knows this country and subdivision.

    A pair already cached is known valid (no import); else this year is
    computed, the one a plan most likely needs.
    """
    _load()
    if any(k[0] == country and k[1] == subdivision for k in _known):
        return
    holiday_dates(country, subdivision, date.today().year)


def clear() -> None:
    """Forget what this process knows (tests; the file is left alone)."""
    global _loaded_from
    _known.clear()
    _loaded_from = None


def _compute(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except (NotImplementedError, KeyError) as exc:
        raise ConfigError(f"country/subdivision: {exc}") from None
    return frozenset(found)


def _load() -> None:
    """Read the file once per process (and again if the folder changes)."""
    global _loaded_from
    path = cache_path()
    if path == _loaded_from:
        return
    _loaded_from = path
    for key, dates in _read(path, package_identity()).items():
        _known.setdefault(key, dates)


def _read(path: Path, identity: str | None) -> dict[Key, frozenset[date]]:
    """The file's entries if it is ours and for this package; else nothing."""
    if identity is None:
        return {}
    try:
        with path.open("rb") as fh:
            raw = json.load(fh)
    except (OSError, ValueError, RecursionError):  # missing, unreadable, not JSON
        return {}
    out: dict[Key, frozenset[date]] = {}
    try:
        if raw.get("format") != FORMAT or raw.get("package") != identity:
            return {}
        for entry in raw["entries"]:
            country, subdivision, year = entry["country"], entry["subdivision"], entry["year"]
            if (not isinstance(country, str) or not isinstance(subdivision, (str, type(None)))
                    or type(year) is not int):
                return {}
            out[(country, subdivision, year)] = frozenset(
                date.fromisoformat(d) for d in entry["dates"])
    except (AttributeError, KeyError, TypeError, ValueError):  # hand-edited or foreign
        return {}
    return out


def _save() -> None:
    """Merge with the file as it is now and replace it atomically; errors are ignored.

    Two runs writing at once each leave a whole file (last writer wins); the
    loser's entries are simply computed again later.
    """
    identity = package_identity()
    if identity is None:
        return
    path = cache_path()
    entries = {**_read(path, identity), **_known}
    body = {
        "format": FORMAT,
        "package": identity,
        "entries": [
            {"country": c, "subdivision": s, "year": y,
             "dates": sorted(d.isoformat() for d in dates)}
            for (c, s, y), dates in sorted(entries.items(),
                                           key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2]))
        ],
    }
    import tempfile  # only on a miss: keeps the warm path's imports small

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp: already 0600
            json.dump(body, fh, separators=(",", ":"))
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass  # read-only or full disk: computed again next run
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
