"""Public-holiday dates cached on disk: a warm run never imports `holidays`.

The cache is an optimisation only: its answers are the package's, and a bad
file or folder means computing again, never a failed run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from followup_cal import holidays_cache
from followup_cal.config import ConfigError, Settings, build_settings
from followup_cal.slots import Calendar

from conftest import ZONE, cli, data

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-03-01T08:00"
GOOGLE = "google_utc_x_wr_timezone.ics"

# In a fresh process: validate the settings, ask for a business day, plan.
PROBE = """
import json, sys
from datetime import date, datetime
from zoneinfo import ZoneInfo
from followup_cal.config import build_settings
from followup_cal.holidays_cache import holiday_dates
from followup_cal.rules import plan
from followup_cal.model import History
from followup_cal.slots import Calendar
s = build_settings(timezone="America/New_York")
cal = Calendar(s, holidays=holiday_dates)
days = [cal.is_business_day(date(2026, 7, 3)), cal.is_business_day(date(2026, 7, 6))]
plan([], History(), (), s, datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC")), holidays=holiday_dates)
print(json.dumps({"days": days, "imported": "holidays" in sys.modules}))
"""


@pytest.fixture(autouse=True)
def fresh_memory():
    """Each test starts as a new process would: nothing known in memory."""
    holidays_cache.clear()
    yield
    holidays_cache.clear()


def library(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def cache_file(home: Path) -> Path:
    return home / "cache" / "holidays.json"


def probe() -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def test_cold_run_writes_the_file_and_warm_run_does_not_import_holidays(home):
    cold = probe()
    assert cold["imported"] is True
    assert cache_file(home).is_file()
    warm = probe()
    assert warm == {"days": [False, True], "imported": False}  # Jul 3 2026: observed 4th
    assert cold["days"] == warm["days"]


def test_warm_cli_plan_is_the_same_and_does_not_import_holidays(home):
    """The CLI end to end (settings check included), cold then warm."""
    script = (
        "import sys\nfrom followup_cal.cli import cli\n"
        "try:\n    cli(sys.argv[1:], prog_name='followup-cal')\nexcept SystemExit:\n    pass\n"
        "print('IMPORTED' if 'holidays' in sys.modules else 'NOT IMPORTED', file=sys.stderr)\n"
    )
    args = ["plan", "--json", "--ics", data(GOOGLE), "--now", NOW, "--timezone", ZONE]
    runs = [subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                           text=True, timeout=60, cwd=ROOT) for _ in range(2)]
    assert [r.stderr.strip() for r in runs] == ["IMPORTED", "NOT IMPORTED"]
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout) != []


@pytest.mark.parametrize("country, subdivision, year", [
    ("US", None, 2026), ("DE", "BY", 2026), ("US", "CA", 2027), ("GB", "SCT", 2025),
])
def test_cached_year_is_exactly_the_librarys(home, country, subdivision, year):
    first = holidays_cache.holiday_dates(country, subdivision, year)
    holidays_cache.clear()  # the next answer comes from the file
    raw = json.loads(cache_file(home).read_text())
    assert [(e["country"], e["subdivision"], e["year"]) for e in raw["entries"]] == [
        (country, subdivision, year)]
    cached = holidays_cache.holiday_dates(country, subdivision, year)
    assert first == cached == library(country, subdivision, year)
    assert isinstance(cached, frozenset)


def test_business_days_with_the_cache_match_the_package_day_by_day(home):
    for country, subdivision in (("US", None), ("DE", "BY")):
        s = Settings(country=country, subdivision=subdivision)
        plain, cached = Calendar(s), Calendar(s, holidays=holidays_cache.holiday_dates)
        day = date(2025, 1, 1)
        while day < date(2028, 1, 1):
            assert cached.is_business_day(day) == plain.is_business_day(day), (country, day)
            day += timedelta(days=1)
    holidays_cache.clear()
    s = Settings(country="DE", subdivision="BY")
    assert not Calendar(s, holidays=holidays_cache.holiday_dates).is_business_day(
        date(2026, 1, 6))  # Epiphany, Bavaria only: read back from the file


def test_file_is_private_and_whole(home):
    holidays_cache.holiday_dates("US", None, 2026)
    path = cache_file(home)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert os.listdir(path.parent) == ["holidays.json"]  # no temporary file left
    raw = json.loads(path.read_text())
    assert raw["format"] == holidays_cache.FORMAT
    assert raw["package"] == holidays_cache.package_identity()


@pytest.mark.parametrize("content", [
    b"", b"not json", b"\xff\xfe\x00", b"[]", b"{}", b'{"format": 1}',
    b'{"format": 1, "package": "%(id)s", "entries": [{"country": "US"}]}',
    b'{"format": 1, "package": "%(id)s", "entries": [{"country": "US", "subdivision": null,'
    b' "year": 2026, "dates": ["2026-02-30"]}]}',
    b'{"format": 1, "package": "%(id)s", "entries": [{"country": "US", "subdivision": null,'
    b' "year": "2026", "dates": []}]}',
    b'{"format": 1, "package": "%(id)s", "entries": [{"country": "US", "subdivision": null,'
    b' "year": 2026, "dates": [20260101]}]}',
    b"[" * 100000,
])
def test_corrupt_file_is_recomputed_and_replaced(home, content):
    path = cache_file(home)
    path.parent.mkdir()
    identity = holidays_cache.package_identity().encode()
    path.write_bytes(content.replace(b"%(id)s", identity) if b"%(id)s" in content else content)
    assert holidays_cache.holiday_dates("US", None, 2026) == library("US", None, 2026)
    holidays_cache.clear()
    assert holidays_cache.holiday_dates("US", None, 2026) == library("US", None, 2026)
    assert json.loads(path.read_text())["entries"][0]["year"] == 2026  # rewritten whole


def test_cli_with_corrupt_cache_exits_0_quietly(home):
    path = cache_file(home)
    path.parent.mkdir()
    path.write_text("{broken")
    r = cli("plan", "--json", "--ics", data(GOOGLE), "--now", NOW, "--timezone", ZONE)
    assert r.code == 0 and r.err == "" and r.json()


@pytest.mark.parametrize("how", ["folder is a file", "read-only folder", "mkstemp fails"])
def test_unwritable_cache_still_answers_right(home, monkeypatch, how):
    folder = home / "cache"
    if how == "folder is a file":
        folder.write_text("not a folder")
    elif how == "read-only folder":
        folder.mkdir(mode=0o500)
        monkeypatch.setattr(os, "replace", _raise_permission)  # root ignores the mode
    else:
        monkeypatch.setattr(tempfile, "mkstemp", _raise_permission)
    try:
        assert holidays_cache.holiday_dates("DE", "BY", 2026) == library("DE", "BY", 2026)
        holidays_cache.check("DE", "BY")
        r = cli("plan", "--json", "--ics", data(GOOGLE), "--now", NOW, "--timezone", ZONE)
        assert r.code == 0 and r.err == "", r.err
    finally:
        if folder.is_dir():
            folder.chmod(0o700)
    if folder.is_dir():
        assert os.listdir(folder) == []  # the temporary file did not stay behind


def _raise_permission(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


def test_cached_entries_are_used_and_a_new_package_ignores_them(home, monkeypatch):
    """A planted entry proves the file is read; another package identity drops it."""
    path = cache_file(home)
    path.parent.mkdir()
    planted = {"format": holidays_cache.FORMAT, "package": holidays_cache.package_identity(),
               "entries": [{"country": "US", "subdivision": None, "year": 2026,
                            "dates": ["2026-03-03"]}]}
    path.write_text(json.dumps(planted))
    assert holidays_cache.holiday_dates("US", None, 2026) == {date(2026, 3, 3)}

    holidays_cache.clear()
    monkeypatch.setattr(holidays_cache, "package_identity", lambda: "holidays 99, elsewhere")
    assert holidays_cache.holiday_dates("US", None, 2026) == library("US", None, 2026)
    raw = json.loads(path.read_text())
    assert raw["package"] == "holidays 99, elsewhere"
    assert raw["entries"][0]["dates"] != ["2026-03-03"]


def test_another_format_version_is_ignored(home):
    path = cache_file(home)
    path.parent.mkdir()
    path.write_text(json.dumps({
        "format": holidays_cache.FORMAT + 1, "package": holidays_cache.package_identity(),
        "entries": [{"country": "US", "subdivision": None, "year": 2026, "dates": []}]}))
    assert holidays_cache.holiday_dates("US", None, 2026) == library("US", None, 2026)


def test_a_cached_country_is_valid_without_the_package(home, monkeypatch):
    holidays_cache.holiday_dates("DE", "BY", 2026)
    holidays_cache.clear()

    def no_package(*args):
        raise AssertionError("the package was consulted")

    monkeypatch.setattr(holidays_cache, "_compute", no_package)
    holidays_cache.check("DE", "BY")
    with pytest.raises(AssertionError):
        holidays_cache.check("DE", "BE")  # not cached: asks the package


@pytest.mark.parametrize("country, subdivision, message", [
    ("XX", None, "Country XX not available"),
    ("US", "ZZ", "does not have subdivision ZZ"),
    ("us", None, "Country us not available"),
])
def test_invalid_country_is_a_config_error_and_never_cached(home, country, subdivision,
                                                           message):
    with pytest.raises(ConfigError, match=message):
        holidays_cache.holiday_dates(country, subdivision, 2026)
    with pytest.raises(ConfigError, match="country/subdivision"):
        holidays_cache.check(country, subdivision)
    raw = json.loads(cache_file(home).read_text()) if cache_file(home).exists() else {}
    assert all(e["country"] != country or e["subdivision"] != subdivision
               for e in raw.get("entries", []))


def test_invalid_country_exits_2_with_one_line_then_a_fix_works(home):
    holidays_cache.holiday_dates("US", None, 2026)  # a warm cache does not hide the error
    (home / "config.toml").write_text('country = "US"\nsubdivision = "ZZ"\n')
    args = ("plan", "--json", "--ics", data(GOOGLE), "--now", NOW, "--timezone", ZONE)
    r = cli(*args)
    assert r.code == 2, (r.out, r.err)
    assert r.err.strip().splitlines() == [
        "followup-cal: country/subdivision: Entity `US` does not have subdivision ZZ"]
    (home / "config.toml").write_text('country = "XX"\n')
    r = cli(*args)
    assert r.code == 2 and r.err.strip().splitlines() == [
        "followup-cal: country/subdivision: Country XX not available"]
    (home / "config.toml").write_text('country = "DE"\nsubdivision = "BY"\n')
    assert cli(*args).code == 0


def test_build_settings_validates_through_the_cache(home):
    (home / "config.toml").write_text('country = "DE"\nsubdivision = "BY"\n')
    build_settings(timezone=ZONE)
    raw = json.loads(cache_file(home).read_text())
    assert {(e["country"], e["subdivision"]) for e in raw["entries"]} == {("DE", "BY")}


def test_cache_folder_follows_followup_cal_home(home, monkeypatch, tmp_path):
    assert holidays_cache.cache_path() == home / "cache" / "holidays.json"
    monkeypatch.delenv("FOLLOWUP_CAL_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert holidays_cache.cache_path() == tmp_path / "xdg" / "followup-cal" / "holidays.json"


def test_racing_writers_leave_a_whole_file(home):
    """Several processes missing at once: every one answers right, the file stays JSON."""
    script = ("import sys\nfrom followup_cal.holidays_cache import holiday_dates\n"
              "print(len(holiday_dates(sys.argv[1], None, int(sys.argv[2]))))\n")
    jobs = [(c, y) for c in ("US", "DE", "FR", "GB") for y in (2026, 2027)]
    procs = [subprocess.Popen([sys.executable, "-c", script, c, str(y)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c, y in jobs]
    for (c, y), p in zip(jobs, procs, strict=True):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and err == "", err
        assert int(out) == len(library(c, None, y))
    raw = json.loads(cache_file(home).read_text())
    assert raw["entries"]
    for e in raw["entries"]:
        assert set(e["dates"]) == {d.isoformat() for d in library(e["country"], None, e["year"])}
    assert os.listdir(cache_file(home).parent) == ["holidays.json"]
