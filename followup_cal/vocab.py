"""The words of each configured language, read from `followup_cal/lang/<code>.toml`.

Everything language-specific (interview and exclusion words, whose conversation
an event is, summary shapes, what notes say about decisions, absences and
channels, month and weekday names) is data, so adding a language is adding a
file (issue 10). Files are read once per run, when the detector is built, never
at import time.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

# lists of regular expressions, by section and key (see lang/en.toml)
PATTERN_KEYS = (
    "summary.interview", "summary.exclude", "summary.interviewer", "summary.interviewer_notes",
    "summary.candidate",
    "summary.media", "summary.informational", "summary.recruiter", "summary.role",
    "summary.role_suffix",
    "summary.noise",
    "notes.decision", "notes.deadline", "notes.instruction", "notes.their_action",
    "notes.away", "notes.back", "notes.no_phone", "notes.email_only", "notes.call_me",
    "notes.phone_words", "notes.email_words",
    "dates.units_business_day", "dates.units_day", "dates.units_week", "dates.units_month",
    "dates.range_joiners",
    "dates.day_of_month", "dates.tomorrow", "dates.today", "dates.next_week",
    "dates.early_next_week", "dates.end_of_next_week", "dates.this_week",
    "dates.next_month", "dates.end_of_month", "dates.next_prefix", "dates.week_of",
    "dates.month_early", "dates.month_mid", "dates.month_late",
)
# lists of plain words
WORD_KEYS = ("summary.connectors", "summary.for_words", "summary.role_words", "summary.filler")


@dataclass(frozen=True)
class Vocabulary:
    """The union of the configured languages' words."""

    languages: tuple[str, ...]
    lists: Mapping[str, tuple[str, ...]]
    weekdays: Mapping[str, int] = field(default_factory=dict)  # "friday" -> 4
    months: Mapping[str, int] = field(default_factory=dict)  # "décembre" -> 12
    numbers: Mapping[str, int] = field(default_factory=dict)  # "two" -> 2
    slash_order: str = "md"  # "12/4": month first (the first language's way)

    def patterns(self, key: str) -> tuple[str, ...]:
        return self.lists.get(key, ())

    def regex(self, key: str) -> re.Pattern | None:
        """One case-insensitive alternation of a list, None when it is empty."""
        return _alternation(self.patterns(key), key in WORD_KEYS)

    def each(self, key: str) -> tuple[re.Pattern, ...]:
        """The patterns one by one (those with named groups cannot be joined)."""
        return tuple(re.compile(p, re.I) for p in self.patterns(key))


@lru_cache(maxsize=64)
def _alternation(patterns: tuple[str, ...], words: bool) -> re.Pattern | None:
    if not patterns:
        return None
    if words:
        body = "|".join(re.escape(w) for w in sorted(patterns, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """The language codes shipped with the package."""
    folder = resources.files("followup_cal").joinpath("lang")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def _read(code: str) -> dict | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    if not re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z]{2,4})?", code):
        return None
    path = resources.files("followup_cal").joinpath("lang", f"{code}.toml")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except tomllib.TOMLDecodeError as exc:
        from .config import ConfigError

        raise ConfigError(f"languages: cannot read lang/{code}.toml: {exc}") from None


@lru_cache(maxsize=16)
def load(languages: tuple[str, ...]) -> Vocabulary:
    """The words of `languages` (a language without a file only reaches dateparser)."""
    lists: dict[str, list[str]] = {}
    weekdays: dict[str, int] = {}
    months: dict[str, int] = {}
    numbers: dict[str, int] = {}
    slash_order = None
    for code in languages:
        data = _read(code.split("-")[0].lower())
        if data is None:
            continue
        for key in (*PATTERN_KEYS, *WORD_KEYS):
            section, name = key.split(".")
            for item in data.get(section, {}).get(name, ()):
                if item not in lists.setdefault(key, []):
                    lists[key].append(item)
        dates = data.get("dates", {})
        _index(weekdays, dates.get("weekdays", ()))
        _index(months, dates.get("months", ()), start=1)
        numbers.update({k.lower(): int(v) for k, v in dates.get("numbers", {}).items()})
        slash_order = slash_order or dates.get("slash_order")
    return Vocabulary(
        languages=tuple(languages),
        lists={k: tuple(v) for k, v in lists.items()},
        weekdays=weekdays, months=months, numbers=numbers,
        slash_order=slash_order or "md",
    )


@lru_cache(maxsize=16)
def role_word(languages: tuple[str, ...]) -> re.Pattern:
    """A job title's word in any of `languages` ("engineer", "Ingeniera", "Entwickler"):
    a piece of a summary is a role only when it holds one (issue 10)."""
    words = load(languages).patterns("summary.role_words")
    short = [re.escape(x) for x in words if len(x) <= 3]
    long = [re.escape(x) for x in words if len(x) > 3]
    body = "|".join([*(rf"\b{x}\b" for x in short), *(rf"\b{x}" for x in long)])
    return re.compile(body or "(?!)", re.I)


def _index(into: dict[str, int], groups: Iterable[Iterable[str]], start: int = 0) -> None:
    for i, names in enumerate(groups, start):
        for name in names:
            into.setdefault(name.lower(), i)
