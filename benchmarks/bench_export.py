"""Benchmark: `followup-cal export` on a ten-year export vs a bare icalendar parse.

    python benchmarks/bench_export.py [--sizes 5000,20000,80000] [--repeat 3]
    python benchmarks/bench_export.py --importtime

Generates a deterministic synthetic Google-style export (seeded; ~0.5% interviews
with attendees and notes, weekly recurring meetings with overrides, attendees,
long folded descriptions, alarms, a VTIMEZONE, ten years ending near --now) per
size in a temporary folder, then times, each as separate processes (median of
--repeat, (a) and (b) in turns):

  (a) followup-cal export FILE -o OUT --now T --timezone Z   (end to end)
  (b) python -c "import icalendar; icalendar.Calendar.from_ical(open(F).read())"

and prints the medians, a/b, a's peak RSS (per child, from /usr/bin/time), a's peak
on a tiny calendar, and `followup-cal --help` against `python -c "import click"`.
Runs are as every run after a user's first: bytecode written, holiday dates cached
(the first run in a new home is timed and printed on its own).

Targets (issue 5): a/b <= 0.05 at 20k events, a grows linearly, peak(a) <= peak on
a tiny calendar + 2 x file size, --help within 2x of `import click`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

NOW = "2026-03-20T09:00:00"
ZONE = "America/New_York"
ME = "sam.carter@gmail.com"

FIRST = ["Dana", "Raj", "Lena", "José", "Zoë", "Marta", "Chris", "Priya", "Tom", "Aiko",
         "Björn", "Fatima", "Luca", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Yara"]
LAST = ["Lee", "Patel", "Vogel", "Müller", "Engström", "Lindqvist", "Park", "Shah", "Smith",
        "Tanaka", "Nilsson", "Haddad", "Rossi", "Kim", "Ivanova", "Alves", "Byrne", "Díaz"]
COMPANIES = ["Acme", "Globex", "Initech", "Hooli", "Umbrella", "Stark Industries", "Wayne",
             "Nordisk Design", "Pied Piper", "Soylent", "Cyberdyne", "Tyrell", "Weyland"]
ROLES = ["Backend Engineer", "Data Analyst", "UX Designer", "Product Manager", "SRE",
         "Platform Engineer", "Business Analyst"]
MEETINGS = ["Team sync", "1:1 with {p}", "Project review", "Lunch with {p}", "Dentist",
            "Planning", "Design critique", "Coffee with {p}", "Gym", "Budget meeting",
            "Quarterly review", "Call with {p}", "Book club", "Flight to Berlin", "Yoga",
            "Parent-teacher meeting", "Sprint retro", "Architecture forum", "Standup"]
WORDS = [
    "agenda", "notes", "follow", "action", "items", "review", "budget", "roadmap", "customer",
    "feedback", "launch", "timeline", "risk", "owner", "decision", "draft", "proposal",
    "metrics", "quarter", "hiring", "plan", "migration", "dashboard", "incident", "postmortem",
    "retro", "demo", "please", "bring", "laptop", "dial", "in", "link", "meet", "room", "4B",
    "https://meet.google.com/abc-defg-hij", "building", "north",
]
NOTES = [
    "They will decide by March 27.",
    "Email me in one week if you haven't heard.",
    "Decision expected next week.",
    "OK to call if you don't hear by Friday morning.",
    "Next steps: take-home exercise.",
    "",
]
VTIMEZONE = [
    "BEGIN:VTIMEZONE", "TZID:America/New_York", "X-LIC-LOCATION:America/New_York",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT",
    "DTSTART:19700308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST",
    "DTSTART:19701101T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD",
    "END:VTIMEZONE",
]


# -- generation -----------------------------------------------------------------------

def fold(line: str) -> list[str]:
    """RFC 5545 folding at 75 octets (UTF-8), never inside a character."""
    if line.isascii():
        return [line[:75]] + [" " + line[i:i + 74] for i in range(75, len(line), 74)]
    out, cur, size, limit = [], [], 0, 75
    for ch in line:
        n = len(ch.encode())
        if size + n > limit:
            out.append("".join(cur))
            cur, size, limit = [" "], 1, 75
        cur.append(ch)
        size += n
    out.append("".join(cur))
    return out


def esc(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _local(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


class Gen:
    def __init__(self, seed: int, now: datetime, tz: ZoneInfo):
        self.r = random.Random(seed)
        self.now, self.tz = now, tz
        self.first = now - timedelta(days=3650)
        self.last = now + timedelta(days=60)
        self.uid = 0

    def person(self) -> tuple[str, str]:
        f, la = self.r.choice(FIRST), self.r.choice(LAST)
        email = unicodedata.normalize("NFKD", f"{f}.{la}@example.com".lower())
        return f"{f} {la}", email.encode("ascii", "ignore").decode()

    def words(self, n: int) -> str:
        return " ".join(self.r.choice(WORDS) for _ in range(n))

    def when(self, lo: datetime, hi: datetime) -> datetime:
        day = lo + timedelta(days=self.r.randrange(max(1, (hi - lo).days)))
        local = datetime(day.year, day.month, day.day, self.r.choice(range(8, 19)),
                         self.r.choice((0, 15, 30, 45)), tzinfo=self.tz)
        return local

    def next_uid(self) -> str:
        self.uid += 1
        return f"{self.r.getrandbits(64):016x}{self.uid:06d}@google.com"

    def attendees(self, n: int, org: tuple[str, str]) -> list[str]:
        lines = [f"ORGANIZER;CN={org[0]}:mailto:{org[1]}"]
        people = [self.person() for _ in range(n)] + [("Sam Carter", ME)]
        for name, email in people:
            stat = self.r.choice(("ACCEPTED", "ACCEPTED", "NEEDS-ACTION", "TENTATIVE"))
            lines.append(f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={stat};"
                         f"CN={name};X-NUM-GUESTS=0:mailto:{email}")
        return lines

    def event(self, uid: str, summary: str, start: datetime, minutes: int, *,
              utc: bool = True, extra: list[str] = (), description: str = "",
              people: int = 0, alarm: bool = False, all_day: bool = False) -> list[str]:
        lines = ["BEGIN:VEVENT"]
        if all_day:
            d = start.date()
            lines += [f"DTSTART;VALUE=DATE:{d:%Y%m%d}",
                      f"DTEND;VALUE=DATE:{d + timedelta(days=1):%Y%m%d}"]
        elif utc:
            lines += [f"DTSTART:{_utc(start)}",
                      f"DTEND:{_utc(start + timedelta(minutes=minutes))}"]
        else:
            lines += [f"DTSTART;TZID={self.tz.key}:{_local(start)}",
                      f"DTEND;TZID={self.tz.key}:{_local(start + timedelta(minutes=minutes))}"]
        lines += list(extra)
        stamp = _utc(min(start, self.now) - timedelta(days=3))
        lines += [f"DTSTAMP:{stamp}", f"UID:{uid}", f"CREATED:{stamp}",
                  f"DESCRIPTION:{esc(description)}", f"LAST-MODIFIED:{stamp}",
                  f"LOCATION:{esc(self.r.choice(['', 'Room 4B', 'https://zoom.us/j/9301774582']))}",
                  "SEQUENCE:0", "STATUS:CONFIRMED", f"SUMMARY:{esc(summary)}",
                  f"TRANSP:{'TRANSPARENT' if all_day else 'OPAQUE'}"]
        if people:
            lines[1:1] = self.attendees(people, self.person())
        if alarm:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:This is an event reminder",
                      f"TRIGGER:-P0DT0H{self.r.choice((10, 15, 30))}M0S", "END:VALARM"]
        lines.append("END:VEVENT")
        return lines

    def interview(self, recent: bool) -> list[str]:
        company, role = self.r.choice(COMPANIES), self.r.choice(ROLES)
        lo = self.now - timedelta(days=45) if recent else self.first
        hi = self.now + timedelta(days=30) if recent else self.now - timedelta(days=120)
        summary = self.r.choice([f"Interview with {company}", f"Phone screen: {company} ({role})",
                                 f"{company} – {role} interview",
                                 f"Technical screen – {company}"])
        notes = (f"Interview for the {role} role. " + self.r.choice(NOTES)).strip()
        return self.event(self.next_uid(), summary, self.when(lo, hi), self.r.choice((30, 45, 60)),
                          utc=self.r.random() < 0.7, description=notes,
                          people=self.r.randint(1, 3), alarm=True)

    def series(self) -> list[list[str]]:
        """A weekly meeting: master plus a few moved/renamed occurrences."""
        start = self.when(self.first, self.last - timedelta(days=30))
        weeks = self.r.randint(8, 120)
        until = start + timedelta(weeks=weeks)
        ongoing = until > self.now or self.r.random() < 0.05
        rule = "RRULE:FREQ=WEEKLY" + ("" if ongoing else f";UNTIL={_utc(until)}")
        uid = self.next_uid()
        summary = self.r.choice(MEETINGS).format(p=self.person()[0])
        minutes = self.r.choice((15, 30, 60))
        desc = self.words(self.r.randint(5, 40))
        comps = [self.event(uid, summary, start, minutes, utc=False, extra=[rule],
                            description=desc, people=self.r.randint(0, 4),
                            alarm=self.r.random() < 0.5)]
        for _ in range(self.r.randint(0, 4)):
            k = self.r.randrange(weeks)
            original = start + timedelta(weeks=k)
            moved = original + timedelta(hours=self.r.choice((-2, 1, 3, 24)))
            rid = f"RECURRENCE-ID;TZID={self.tz.key}:{_local(original)}"
            comps.append(self.event(uid, summary, moved, minutes, utc=False, extra=[rid],
                                    description=desc, people=self.r.randint(0, 4)))
        return comps

    def single(self) -> list[str]:
        start = self.when(self.first, self.last)
        summary = self.r.choice(MEETINGS).format(p=self.person()[0])
        long = self.r.random() < 0.2
        desc = self.words(self.r.randint(20, 100) if long else self.r.randint(0, 12))
        return self.event(self.next_uid(), summary, start, self.r.choice((15, 30, 60, 90)),
                          utc=self.r.random() < 0.8, description=desc,
                          people=self.r.choice((0, 0, 0, 0, 0, 1, 2, 4)),
                          alarm=self.r.random() < 0.5, all_day=self.r.random() < 0.05)


def generate(n: int, now: str = NOW, zone: str = ZONE, seed: int = 5,
             interview_share: float = 0.005) -> str:
    """A synthetic Google export with `n` VEVENTs (CRLF, folded)."""
    tz = ZoneInfo(zone)
    g = Gen(seed, datetime.fromisoformat(now).replace(tzinfo=tz), tz)
    comps: list[list[str]] = []
    interviews = max(2, round(n * interview_share))
    recent = max(2, interviews // 4)
    for i in range(interviews):
        comps.append(g.interview(recent=i < recent))
    series_budget = n // 20
    while series_budget > 0 and len(comps) < n:
        group = g.series()
        comps.extend(group)
        series_budget -= len(group)
    while len(comps) < n:
        comps.append(g.single())
    g.r.shuffle(comps)  # overrides may precede their master, as in real exports
    head = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{ME}",
            f"X-WR-TIMEZONE:{zone}", *VTIMEZONE]
    out = []
    for line in head + [line for comp in comps for line in comp] + ["END:VCALENDAR"]:
        out.extend(fold(line))
    return "\r\n".join(out) + "\r\n"


# -- measuring ------------------------------------------------------------------------

TIME = "/usr/bin/time"


def run(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall time (s) and peak RSS (bytes) of one child process.

    A child's ru_maxrss counts the parent's pages it had before exec, so the
    peak comes from /usr/bin/time (a small parent) when it is there.
    """
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        timed = [TIME, "-f", "%M", "-o", peak.name, *cmd] if os.path.exists(TIME) else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(timed, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read().decode()}")
        kb = int(peak.read().split()[-1]) if timed is not cmd else usage.ru_maxrss
    return elapsed, kb * 1024  # Linux: kilobytes


def median_run(cmd: list[str], repeat: int, env: dict | None = None) -> tuple[float, int]:
    results = [run(cmd, env) for _ in range(repeat)]
    return statistics.median(t for t, _ in results), max(m for _, m in results)


KEPT = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
from followup_cal.config import build_settings
from followup_cal.detect import Detector, Window
from followup_cal.calendars.ics import read_text
from followup_cal.calendars.prefilter import prefilter
settings = build_settings(timezone=sys.argv[3], me=())
now = datetime.fromisoformat(sys.argv[2]).replace(tzinfo=ZoneInfo(sys.argv[3]))
w = Window.around(now, settings)
text = read_text(sys.argv[1])
out = prefilter(text, Detector.build(settings, ()).is_interview_summary, w.busy_start,
                w.busy_end, since=w.start)
print(f"{out.count('BEGIN:VEVENT')} of {text.count('BEGIN:VEVENT')} VEVENTs")
"""


def followup_cal() -> list[str]:
    script = Path(sys.executable).parent / "followup-cal"
    if script.exists():
        return [str(script)]
    found = shutil.which("followup-cal")
    return [found] if found else [sys.executable, "-m", "followup_cal"]


def importtime() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "followup_cal", "--help"],
                          capture_output=True, text=True, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), int(m.group(1)), m.group(4)))
    rows.sort(reverse=True)
    print("10 slowest imports of `followup-cal --help` (cumulative / self, ms):")
    for cumulative, own, name in rows[:10]:
        print(f"  {cumulative / 1000:8.1f} {own / 1000:8.1f}  {name}")


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5000,20000,80000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--now", default=NOW)
    ap.add_argument("--timezone", default=ZONE)
    ap.add_argument("--importtime", action="store_true",
                    help="only show the 10 slowest imports of `followup-cal --help`")
    ap.add_argument("--write", nargs=2, metavar=("EVENTS", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.importtime:
        importtime()
        return
    if args.write:  # in a child, so that the parent stays small (see run)
        Path(args.write[1]).write_text(generate(int(args.write[0]), args.now, args.timezone),
                                       encoding="utf-8", newline="")
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    tool = followup_cal()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        # As installed: pip compiles bytecode at install time, an editable install on
        # the first run, unless PYTHONDONTWRITEBYTECODE (set on these machines) says no.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["FOLLOWUP_CAL_HOME"] = str(Path(tmp) / "home")
        out = str(Path(tmp) / "out.ics")

        def export(path: Path) -> list[str]:
            return [*tool, "export", str(path), "-o", out, "--now", args.now,
                    "--timezone", args.timezone]

        def write(n: int, path: Path) -> None:
            subprocess.run([sys.executable, __file__, "--write", str(n), str(path), "--now",
                            args.now, "--timezone", args.timezone], check=True)

        tiny = Path(tmp) / "tiny.ics"
        write(10, tiny)
        first, _ = run(export(tiny), env)
        print(f"first run in a new home (holiday dates not cached yet): {first:.3f} s")
        tiny_t, tiny_peak = median_run(export(tiny), args.repeat, env)
        print(f"tiny calendar (10 events): export {tiny_t:.3f} s, peak RSS {mb(tiny_peak)}")
        print(f"{'events':>7} {'file':>9} {'(a) export':>11} {'(b) parse':>10} {'a/b':>7} "
              f"{'ms/1k (a-tiny)':>15} {'peak (a)':>10} {'limit':>10}")
        for n in sizes:
            path = Path(tmp) / f"export-{n}.ics"
            write(n, path)
            size = path.stat().st_size
            bare = [sys.executable, "-c", "import icalendar; icalendar.Calendar."
                    f"from_ical(open({str(path)!r}, encoding='utf-8').read())"]
            # (a) and (b) take turns, so that a slower minute on a shared machine
            # slows both rather than one
            runs_a, runs_b = [], []
            for _ in range(args.repeat):
                runs_a.append(run(export(path), env))
                runs_b.append(run(bare, env))
            a = statistics.median(t for t, _ in runs_a)
            peak = max(m for _, m in runs_a)
            b = statistics.median(t for t, _ in runs_b)
            kept_events = subprocess.run(
                [sys.executable, "-c", KEPT, str(path), args.now, args.timezone],
                capture_output=True, text=True, check=True, env=env).stdout.strip()
            limit = tiny_peak + 2 * size
            print(f"{n:>7} {mb(size):>9} {a:>9.3f} s {b:>8.2f} s {a / b:>7.3f} "
                  f"{(a - tiny_t) * 1000 / (n / 1000):>15.2f} {mb(peak):>10} {mb(limit):>10}"
                  f"{'' if peak <= limit else '  OVER'}   pre-filter keeps {kept_events}")
        reps = max(args.repeat, 7)
        help_t, _ = median_run([*tool, "--help"], reps, env)
        click_t, _ = median_run([sys.executable, "-c", "import click"], reps, env)
        print(f"start-up: `followup-cal --help` {help_t * 1000:.0f} ms, `python -c 'import click'`"
              f" {click_t * 1000:.0f} ms, ratio {help_t / click_t:.2f}")


if __name__ == "__main__":
    main()
