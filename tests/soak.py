"""Soak: many syncs against the fake Google Calendar with a fifth of requests failing.

    python tests/soak.py [--runs 100] [--rate 0.2] [--seed 0] [--every 10] [-v]

Not collected by pytest (its name does not start with `test_`); test_crash.py runs
it briefly. Everything is in-process and local: the fake listens on 127.0.0.1, the
state lives in a temporary FOLLOWUP_CAL_HOME, back-off sleeps are cut short.

Each run moves the clock on by one to twelve hours and, now and then, changes the
world first: an interview is added, moved, cancelled or un-cancelled, an outcome or
a contact is logged, or Google purges deleted events (their ids stay reserved, so a
follow-up coming back must move on to a fresh id). Then `followup-cal sync` runs
with `--rate` of all requests failing (429, 500, 503, dropped connections, lost
responses); it may exit 1 (one line, no traceback) when a request fails beyond its
retries, or when some events could not be written. Every `--every` runs,
and after the last, a checkpoint: faults off, one sync to converge, then the
calendar is compared with `plan --google --json`, and a further sync (faults on
again) must write nothing.

Printed, and the exit status is 1 if any is not 0:
  duplicates       a follow-up on a calendar twice, or more than one dedicated calendar
  lost follow-ups  planned (still ahead) but not on the calendar after converging
  stale            on the calendar and still ahead, but not planned (or not at that time)
  writes per steady-state run  writes made by a sync after convergence, at the same time
  crashes          a run that ended other than 0, or 1 with one line
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_google import FakeGoogle, google_event, write_token  # noqa: E402

ZONE = "America/New_York"
START = datetime(2026, 3, 1, 9, 0, tzinfo=ZoneInfo(ZONE))  # a Sunday
KINDS = ("429", "500", "503", "drop", "lost")
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Stark", "Wayne",
             "Tyrell", "Cyberdyne", "Oscorp", "Wonka"]
SHAPES = ["Phone screen with {c}", "Onsite interview - {c}", "Interview with {c}",
          "{c} - Designer interview", "Final round: {c}", "Technical screen ({c})"]
PEOPLE = ["Jane Doe", "Ann Lee", "Bo Park", "Carl Diaz", "Dee Wu", "Eli Ross"]


class World:
    """The user's primary calendar on the fake, changed along the way."""

    def __init__(self, fake: FakeGoogle, rng: random.Random):
        self.fake = fake
        self.rng = rng
        self.interviews: dict[str, dict] = {}  # event id -> {company, start, cancelled}
        self.changes: Counter = Counter()
        self.logged: list[tuple[str, ...]] = []  # outcome / contacted commands to run

    def add(self, now: datetime) -> None:
        rng = self.rng
        company = rng.choice(COMPANIES)
        domain = company.lower() + ".example.com"
        when = (now + timedelta(hours=rng.randint(2, 24 * 8))).replace(minute=rng.choice(
            (0, 15, 30, 45)), second=0, microsecond=0)
        when = when.replace(hour=rng.randint(9, 16))
        if when <= now:
            when += timedelta(days=1)
        people = rng.sample(PEOPLE, rng.randint(1, 3))
        body = google_event(
            rng.choice(SHAPES).format(c=company), when.replace(tzinfo=None).isoformat(),
            minutes=rng.choice((30, 45, 60)), tz=ZONE,
            attendees=[(p.split()[0].lower() + "@" + domain, p) for p in people],
            organizer=("talent@" + domain, company + " Talent"),
            description=rng.choice(("", "We expect to decide within two weeks.",
                                    "Email me in one week.")))
        event = self.fake.seed(body)
        self.interviews[event["id"]] = {"company": company, "start": when, "cancelled": False}
        self.changes["added"] += 1

    def _pick(self, now: datetime, cancelled: bool) -> str | None:
        ids = [i for i, iv in self.interviews.items()
               if iv["cancelled"] == cancelled and iv["start"] > now]
        return self.rng.choice(ids) if ids else None  # in the order added: reproducible

    def move(self, now: datetime) -> None:
        gid = self._pick(now, cancelled=False)
        if gid is None:
            return self.add(now)
        iv = self.interviews[gid]
        new = iv["start"] + timedelta(hours=self.rng.choice((-26, -3, 2, 5, 24, 49)))
        if new <= now:
            new = iv["start"] + timedelta(days=1)
        length = timedelta(minutes=45)
        self.fake.modify(gid, {"start": {"dateTime": new.isoformat(), "timeZone": ZONE},
                               "end": {"dateTime": (new + length).isoformat(),
                                       "timeZone": ZONE}})
        iv["start"] = new
        self.changes["moved"] += 1

    def cancel(self, now: datetime) -> None:
        gid = self._pick(now, cancelled=False)
        if gid is None:
            return self.add(now)
        self.fake.modify(gid, {"status": "cancelled"})
        self.interviews[gid]["cancelled"] = True
        self.changes["cancelled"] += 1

    def restore(self, now: datetime) -> None:
        gid = self._pick(now, cancelled=True)
        if gid is None:
            return self.move(now)
        self.fake.modify(gid, {"status": "confirmed"})
        self.interviews[gid]["cancelled"] = False
        self.changes["restored"] += 1

    def log(self, now: datetime) -> None:
        seen = sorted({iv["company"] for iv in self.interviews.values()})
        if not seen:
            return self.add(now)
        company = self.rng.choice(seen)
        if self.rng.random() < 0.5:
            self.logged.append(("outcome", company, self.rng.choice(
                ("rejected", "offer", "heard-back", "withdrawn"))))
            self.changes["outcomes"] += 1
        else:
            self.logged.append(("contacted", company, "--via", self.rng.choice(
                ("email", "phone"))))
            self.changes["contacts"] += 1

    def purge(self, now: datetime) -> None:
        self.changes["purged"] += self.fake.purge()
        left = self.fake.events_in("primary", cancelled=True)
        for gid in [g for g in self.interviews if g not in left]:  # cancelled, purged
            del self.interviews[gid]

    def change(self, now: datetime) -> None:
        action = self.rng.choices((self.add, self.move, self.cancel, self.restore, self.log,
                                   self.purge), weights=(4, 3, 2, 2, 1, 1))[0]
        action(now)


@contextlib.contextmanager
def isolated(home: Path, url: str):
    """FOLLOWUP_CAL_HOME and the API root set, proxies unset, back-off sleeps cut short."""
    import googleapiclient.http

    from followup_cal.calendars import google

    saved_env = dict(os.environ)
    saved_time, saved_sleep = googleapiclient.http.time, google.client.SLEEP

    class FastTime:
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(min(seconds, 0.001))

    os.environ["FOLLOWUP_CAL_HOME"] = str(home)
    os.environ[google.API_URL_ENV] = url
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        os.environ.pop(name, None)
    googleapiclient.http.time = FastTime()
    google.client.SLEEP = lambda seconds: None
    try:
        yield
    finally:
        googleapiclient.http.time, google.client.SLEEP = saved_time, saved_sleep
        os.environ.clear()
        os.environ.update(saved_env)


def run_cli(*args: str):
    from click.testing import CliRunner

    from followup_cal.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def stamp(now: datetime) -> tuple[str, ...]:
    return ("--now", now.isoformat(), "--timezone", ZONE)


def our_events(fake: FakeGoogle) -> tuple[Counter, dict[str, datetime], int]:
    """(uid counts, uid -> start of live ones, dedicated calendars) over every calendar."""
    from followup_cal.calendars import google
    from followup_cal.rules import UID_DOMAIN

    counts: Counter = Counter()
    starts: dict[str, datetime] = {}
    dedicated = 0
    for cal in list(fake.calendars.values()):
        dedicated += cal.summary == google.CALENDAR_NAME
        for event in fake.events_in(cal.id).values():
            if not google.is_ours(event):
                continue
            uid = f"{google._private(event)[google.KEY_PROP][:32]}@{UID_DOMAIN}"
            counts[uid] += 1
            starts[uid] = datetime.fromisoformat(event["start"]["dateTime"])
    return counts, starts, dedicated


def soak(runs: int, rate: float, seed: int, every: int, verbose: bool) -> dict:
    rng = random.Random(seed)
    fake = FakeGoogle(page_size=rng.choice((3, 5, 250))).start()
    fake.fresh_404s = 2  # the calendar just made is not known everywhere at once
    figures: Counter = Counter()
    steady: list[int] = []
    problems: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="followup-soak-") as tmp, \
                isolated(Path(tmp), fake.url):
            write_token(tmp, fake)
            world = World(fake, rng)
            for _ in range(4):
                world.add(START)
            now = START
            for i in range(1, runs + 1):
                now += timedelta(minutes=rng.randint(60, 12 * 60))
                changed = dict(world.changes)
                if rng.random() < 0.4:
                    world.change(now)
                changed = {k: v - changed.get(k, 0) for k, v in world.changes.items()
                           if v != changed.get(k, 0)}
                for command in world.logged:
                    r = run_cli(*command, *stamp(now))
                    if r.exit_code != 0:
                        problems.append(f"run {i}: {' '.join(command)}: exit {r.exit_code}: "
                                        f"{r.stderr.strip()}")
                world.logged.clear()
                fake.chaos(rate, kinds=KINDS, seed=seed * 100003 + i)
                before = fake.write_requests
                r = run_cli("sync", *stamp(now))
                figures["runs"] += 1
                figures["writes"] += fake.write_requests - before
                if r.exit_code == 0:
                    figures["ok"] += 1
                elif r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 \
                        and "Traceback" not in r.stderr:
                    figures["failed cleanly"] += 1
                else:
                    figures["crashes"] += 1
                    problems.append(f"run {i}: exit {r.exit_code}: {r.stderr.strip()[-500:]}")
                if verbose:
                    print(f"run {i:3d} {now:%a %m-%d %H:%M} {','.join(changed) or '-':9} "
                          f"exit {r.exit_code} {(r.stdout or r.stderr).strip()}")
                if i % every == 0 or i == runs:
                    checkpoint(fake, now, rate, seed * 7 + i, figures, steady, problems,
                               verbose)
            figures.update({f"world {k}": v for k, v in world.changes.items()})
            from followup_cal.ledger import Ledger

            with Ledger.open() as ledger:  # follow-ups moved on from a reserved id
                figures["fresh ids"] = ledger.conn.execute(
                    "SELECT count(*) FROM event_generations").fetchone()[0]
    finally:
        fake.stop()
    figures["faults served"] = sum(fake.faults_served.values())
    figures["requests"] = len(fake.calls)
    return {"figures": figures, "steady": steady, "problems": problems,
            "faults": dict(fake.faults_served)}


def checkpoint(fake: FakeGoogle, now: datetime, rate: float, seed: int, figures: Counter,
               steady: list[int], problems: list[str], verbose: bool) -> None:
    fake.chaos(0)
    r = run_cli("sync", *stamp(now))
    if r.exit_code != 0:
        problems.append(f"checkpoint {now}: sync without faults: exit {r.exit_code}: "
                        f"{r.stderr.strip()[-300:]}")
    r = run_cli("plan", "--google", "--json", *stamp(now))
    if r.exit_code != 0:
        problems.append(f"checkpoint {now}: plan: {r.stderr.strip()[-300:]}")
        return
    plan = {item["uid"]: datetime.fromisoformat(item["start"]) for item in json.loads(r.stdout)}
    counts, starts, dedicated = our_events(fake)
    duplicates = sum(n - 1 for n in counts.values() if n > 1) + max(0, dedicated - 1)
    lost = [u for u in plan if u not in starts]
    stale = [u for u, t in starts.items() if t > now and plan.get(u) != t]
    figures["checkpoints"] += 1
    figures["planned at checkpoints"] += len(plan)
    figures["duplicates"] += duplicates
    figures["lost follow-ups"] += len(lost)
    figures["stale"] += len(stale)
    if duplicates or lost or stale:
        problems.append(f"checkpoint {now}: {duplicates} duplicates, lost {lost}, "
                        f"stale {stale}")
    # steady state: the same moment again, with the faults back on
    fake.chaos(rate, kinds=KINDS, seed=seed)
    before = fake.write_requests
    r = run_cli("sync", *stamp(now))
    writes = fake.write_requests - before
    steady.append(writes)
    fake.chaos(0)
    if verbose:
        print(f"checkpoint {now:%a %m-%d %H:%M}: {len(plan)} planned, {duplicates} duplicates, "
              f"{len(lost)} lost, {len(stale)} stale; steady-state run: exit {r.exit_code}, "
              f"{writes} writes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests failing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=10, help="runs between checkpoints")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    began = time.monotonic()
    out = soak(max(1, args.runs), args.rate, args.seed, max(1, args.every), args.verbose)
    f, steady = out["figures"], out["steady"]
    per_steady = max(steady) if steady else 0
    print(f"soak: {f['runs']} syncs, seed {args.seed}, {args.rate:.0%} of requests failing "
          f"({time.monotonic() - began:.1f} s)")
    print(f"  runs: {f['ok']} exit 0, {f['failed cleanly']} exit 1 with one line, "
          f"{f['crashes']} crashes")
    print(f"  requests: {f['requests']}, faults served: {f['faults served']} "
          f"{json.dumps(out['faults'], sort_keys=True)}, writes: {f['writes']}")
    world = ", ".join(f"{k[6:]} {v}" for k, v in sorted(f.items()) if k.startswith("world "))
    print(f"  world: {world}")
    print(f"  checkpoints: {f['checkpoints']}, follow-ups planned there: "
          f"{f['planned at checkpoints']}; follow-ups on a fresh id: {f['fresh ids']}")
    print(f"duplicates: {f['duplicates']}")
    print(f"lost follow-ups: {f['lost follow-ups']}")
    print(f"stale follow-ups: {f['stale']}")
    print(f"writes per steady-state run: {per_steady} (max over {len(steady)}; "
          f"total {sum(steady)})")
    for problem in out["problems"]:
        print(f"PROBLEM: {problem}")
    bad = (f["duplicates"] or f["lost follow-ups"] or f["stale"] or per_steady or f["crashes"]
           or out["problems"] or not f["checkpoints"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
