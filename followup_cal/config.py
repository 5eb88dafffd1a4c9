"""Settings: every number in the rules, with the seed it comes from.

One frozen object is built per run (defaults < config.toml < command line)
and passed down; nothing reads configuration on its own.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .paths import APP, config_path, home_dir

__all__ = ["APP", "ConfigError", "Settings", "build_settings", "config_path", "home_dir"]

DEFAULT_INTERVIEW_PATTERNS = (
    r"\binterview",
    r"\bphone[ -]?screen",
    r"\bscreening call\b",
    r"\btechnical screen",
    r"\btech screen",
    r"\bon-?site\b",
    r"\bhiring manager\b",
    r"\bfinal round\b",
    r"\brecruiter (?:call|chat|screen)",
    r"\bentretien\b",
    r"\bvorstellungsgespr[äa]ch",
)
DEFAULT_EXCLUDE_PATTERNS = (
    r"\bmock\b",
    r"\bprep(?:aration|are)?\b",
    r"\bpractice\b",
    r"\brehears",
    r"\bthank-you\b",
    r"\bcheck in with\b",
    r"\binterviewing (?:a |the )?candidates?\b",
)


# [calendars.NAME] and [mail.NAME] tables: accounts, not planner settings
ACCOUNT_SECTIONS = ("calendars", "mail")


@dataclass(frozen=True)
class Settings:
    # Who and where (DESIGN.md "Time zones").
    timezone: str = "UTC"
    me: tuple[str, ...] = ()
    country: str = "US"  # public holidays: never on holidays (DESIGN.md guards)
    subdivision: str | None = None
    languages: tuple[str, ...] = ("en",)
    # [companies."Acme Corp"] timezone = "America/Chicago" -> (("Acme Corp", zone), ...)
    companies: tuple[tuple[str, str], ...] = ()

    # Which events count.
    interview_patterns: tuple[str, ...] = DEFAULT_INTERVIEW_PATTERNS
    exclude_patterns: tuple[str, ...] = DEFAULT_EXCLUDE_PATTERNS
    lookback_days: int = 60
    lookahead_days: int = 60

    # prep: ask when they decide, collect cards, check the resume (000-004).
    prep_minutes_before: int = 60
    prep_minutes: int = 15
    # thank_you_email: same day, ~1 h after the end, never past 24 h (000, 002, 004).
    thank_you_email_delay_minutes: int = 60
    thank_you_email_deadline_hours: int = 24
    # thank_you_note: mailed within 48 h, 24 h preferred, on a business day (001, 002).
    thank_you_note_time: time = time(9, 0)
    thank_you_note_deadline_hours: int = 48
    thank_you_note_delay_minutes: int = 60
    task_minutes: int = 15
    # check_in: a week after, or the business day after the decision date (000, 001, 003, 004).
    check_in_days: int = 7
    check_in_channel: str = "email"  # email is less intrusive than a call (001)
    # guards: once per 7 days, at most 2 in all, then move on (000, 001, 003).
    inquiry_gap_days: int = 7
    max_inquiries: int = 2
    move_on_days: int = 7
    # calls: mid-morning before lunch, employer's zone, in a free slot (003).
    call_window_start: time = time(10, 0)
    call_window_end: time = time(11, 30)
    call_minutes: int = 15
    slot_step_minutes: int = 15
    slot_search_days: int = 30
    # where a rolled-forward task lands on a business day
    workday_start: time = time(9, 0)
    reminder_minutes: int = 10

    # Google Calendar (issue 3): calendars whose interviews are read, and how often
    # a request is retried (with back-off and jitter) on 429, 5xx and dropped links.
    google_calendars: tuple[str, ...] = ("primary",)
    google_retries: int = 5

    # Issue 11: the candidate's own tasks (e-mails, notes, move-on, prep) fall inside
    # these hours of their zone; calls stay in the employer's mid-morning (DESIGN.md "Time").
    waking_hours: tuple[time, time] = (time(8, 0), time(21, 0))

    # issue 10: whose conversation an event is. Patterns added to the words of the
    # configured `languages` (followup_cal/lang/<code>.toml): the user runs it
    # (interviewer; interviewer_notes: an interview kit or scorecard in the notes),
    # names the candidate when the user organised it (candidate), a press/podcast
    # interview (media), informational (thank-yous only), a recruiter's chat (a
    # candidacy even when it sounds informal).
    interviewer_patterns: tuple[str, ...] = ()
    interviewer_notes_patterns: tuple[str, ...] = ()
    candidate_patterns: tuple[str, ...] = ()
    media_patterns: tuple[str, ...] = ()
    informational_patterns: tuple[str, ...] = ()
    recruiter_patterns: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def company_timezone(self, company: str) -> str | None:
        for name, zone in self.companies:
            if name.casefold() == company.casefold():
                return zone
        return None


_INT_FIELDS = {
    f.name for f in dataclasses.fields(Settings) if f.type in ("int", int)
}
_TIME_FIELDS = {f.name for f in dataclasses.fields(Settings) if f.type in ("time", time)}
_LIST_FIELDS = {"me", "languages", "interview_patterns", "exclude_patterns", "google_calendars"}
_LIST_FIELDS |= {"interviewer_patterns", "interviewer_notes_patterns", "candidate_patterns",
                 "media_patterns", "informational_patterns", "recruiter_patterns"}  # issue 10


def _load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def parse_time(value: str, what: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ConfigError(f"{what}: expected HH:MM, got {value!r}")
    return time(int(m[1]), int(m[2]))


def check_zone(name: str, what: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"{what}: unknown time zone {name!r}") from None
    return name


def _coerce(key: str, value):
    if key in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{key}: expected a non-negative whole number, got {value!r}")
        return value
    if key in _TIME_FIELDS:
        return parse_time(value, key)
    if key in _LIST_FIELDS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings")
        if key.endswith("patterns"):
            for pattern in value:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(f"{key}: bad pattern {pattern!r}: {exc}") from None
        return tuple(value)
    if key == "timezone":
        return check_zone(value)
    if key == "check_in_channel":
        if value not in ("email", "phone", "mail"):
            raise ConfigError(f"check_in_channel: expected email, phone or mail, got {value!r}")
        return value
    if key == "companies":
        if not isinstance(value, dict):
            raise ConfigError("companies: expected a table of company names")
        zones = []
        for name, opts in value.items():
            if not isinstance(opts, dict) or set(opts) - {"timezone"}:
                raise ConfigError(f"companies.{name}: expected a table with 'timezone'")
            if "timezone" in opts:
                zones.append((name, check_zone(opts["timezone"], f"companies.{name}.timezone")))
        return tuple(zones)
    if key == "waking_hours":
        return _waking_hours(value)
    if key in ("country", "subdivision"):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string")
        return value
    raise ConfigError(f"unknown setting {key!r}")


def _waking_hours(value) -> tuple[time, time]:
    """["08:00", "21:00"]: two times of one day, the first before the second (issue 11)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ConfigError(f"waking_hours: expected [\"HH:MM\", \"HH:MM\"], got {value!r}")
    first, last = (parse_time(v, "waking_hours") for v in value)
    if last <= first:
        raise ConfigError("waking_hours: the end must be after the start")
    return first, last


def build_settings(
    *,
    path: Path | None = None,
    timezone: str | None = None,
    me: tuple[str, ...] = (),
    overrides: dict | None = None,
) -> Settings:
    """Defaults, then the config file, then the command line."""
    raw = _load_toml(path or config_path())
    values: dict = {}
    for key, value in {**raw, **(overrides or {})}.items():
        if key in ACCOUNT_SECTIONS or key == "sync_to":
            continue  # account tables and which one sync writes: calendars.choose
        values[key] = _coerce(key, value)
    if values.get("call_window_end", time(11, 30)) <= values.get("call_window_start", time(10)):
        raise ConfigError("call_window_end must be after call_window_start")
    first, last = values.get("waking_hours", Settings.waking_hours)
    span = (last.hour - first.hour) * 60 + last.minute - first.minute
    if span < values.get("task_minutes", Settings.task_minutes):
        raise ConfigError("waking_hours: shorter than task_minutes")
    if "max_inquiries" in values and values["max_inquiries"] < 1:
        raise ConfigError("max_inquiries: must be at least 1")
    if timezone:
        values["timezone"] = check_zone(timezone, "--timezone")
    elif "timezone" not in values:
        values["timezone"] = local_zone()
    values["me"] = tuple(a.strip().lower() for a in (*values.get("me", ()), *me))
    _check_country(values.get("country", "US"), values.get("subdivision"))
    return Settings(**values)


def _check_country(country: str, subdivision: str | None) -> None:
    """ConfigError for a country the `holidays` package does not know.

    Through the on-disk cache: a pair already cached is valid without importing
    the package (0.25 s per run otherwise). holidays_cache imports only paths and
    errors, so this is no import cycle, only a lazy import for start-up time.
    """
    from .holidays_cache import check

    check(country, subdivision)


def local_zone() -> str:
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
    except Exception:  # tzlocal raises several kinds on odd systems
        name = None
    try:
        return check_zone(name) if name else "UTC"
    except ConfigError:
        return "UTC"
