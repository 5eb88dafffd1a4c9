"""How `status` shows the applications: a terminal table, JSON, and an HTML page (issue 15).

`status_rows` reads the ledger once; the table, `--json` and `--html` all render
its rows, so the three always agree. Presentation only: no rule is decided here
(what counts as made, the outcome, the next step come from `Ledger.status`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .ledger import StatusRow

# What a step is, in words (the page and the JSON use the ledger's kind names).
KIND_LABELS = {
    "interview": "Interview",
    "prep": "Prepare",
    "thank_you_email": "Thank-you e-mail",
    "thank_you_note": "Handwritten thank-you note",
    "check_in": "Check-in",
    "move_on": "Move on",
    "contact": "Inquiry you made",
    "offer": "Offer",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "heard-back": "Heard back",
}
# done: happened (an interview held, a follow-up written to a calendar whose time came);
# planned: in the last plan, still ahead; dropped: written, then deleted by you or
# taken off the plan (an outcome, say); past: in the last plan, its time came, but it
# was never written to a calendar, so nothing says it was done.
STATE_LABELS = {"done": "Done", "planned": "Planned", "dropped": "Dropped", "past": "Was due"}
OUTCOME_KINDS = ("offer", "rejected", "withdrawn", "heard-back")


@dataclass(frozen=True)
class Step:
    """One thing on an application's timeline."""

    kind: str  # "interview", a follow-up kind, "contact", or an outcome word
    state: str  # a key of STATE_LABELS
    start: datetime
    text: str  # what it is and for whom: the plan's own summary where there is one
    who: str | None = None  # the person it is for (or, for an interview, with)
    channel: str | None = None

    def as_json(self, tz: tzinfo) -> dict:
        return {"kind": self.kind, "state": self.state, "start": self.start.astimezone(tz)
                .isoformat(), "channel": self.channel, "for": self.who, "summary": self.text}


@dataclass(frozen=True)
class AppStatus:
    """A `Ledger.status` row with what the page draws: its steps and the outcome's date."""

    row: StatusRow
    steps: tuple[Step, ...]
    outcome_at: datetime | None

    def as_json(self, tz: tzinfo) -> dict:
        """`status --json`: the row's fields as before, then the added ones."""
        out = self.row.as_json(tz)
        out["outcome_at"] = self.outcome_at.astimezone(tz).isoformat() if self.outcome_at \
            else None
        out["timeline"] = [s.as_json(tz) for s in self.steps]
        return out


# -- reading: one function, every renderer ----------------------------------------------

# At one time: the interview before what follows it, an outcome after what led to it.
_ORDER = {"interview": 0, "contact": 1, "prep": 2, "heard-back": 7, "offer": 8, "rejected": 8,
          "withdrawn": 8}


def status_rows(ledger, settings, now: datetime) -> list[AppStatus]:
    """The rows `status` shows, whichever way it shows them."""
    from .ledger import resolve
    from .model import company_key

    rows = ledger.status(settings, now)
    names = [r.company for r in rows]
    interviews = ledger.interviews()
    app_of_interview = {iv.identity: iv.app_key for iv in interviews}

    def app(company: str) -> str:
        return company_key(resolve(company, names))

    by_app: dict[str, list[Step]] = {company_key(r.company): [] for r in rows}
    people: dict[str, dict[str, str]] = {k: {} for k in by_app}

    def add(key: str, step: Step) -> None:
        if key in by_app:
            by_app[key].append(step)

    for iv in interviews:
        for p in iv.interviewers:
            people.get(iv.app_key, {}).setdefault(p.key(), p.label)
        with_whom = ", ".join(p.label for p in iv.interviewers) or None
        add(iv.app_key, Step("interview", "done" if iv.end <= now else "planned", iv.start,
                             f"Interview — {iv.role}" if iv.role else "Interview", with_whom))
    for key, step in _follow_ups(ledger.planned(), ledger.written(), app_of_interview, app,
                                 people, now):
        add(key, step)
    for c in ledger.contacts():
        add(app(c.company), Step("contact", "done", c.at, f"You contacted them by {c.via}",
                                 channel=c.via))
    latest: dict[tuple[str, str], datetime] = {}  # (application, outcome word) → when
    for o in ledger.outcomes():
        key = app(o.company)
        add(key, Step(o.kind, "done", o.at, KIND_LABELS[o.kind]))
        latest[key, o.kind] = max(o.at, latest.get((key, o.kind), o.at))
    out = []
    for r in rows:
        key = company_key(r.company)
        steps = sorted(by_app[key], key=lambda s: (s.start, _ORDER.get(s.kind, 5),
                                                   s.state == "dropped", s.text))
        when = latest.get((key, r.outcome)) if r.outcome else None
        out.append(AppStatus(r, tuple(steps), when))
    return out


def _follow_ups(planned, written, app_of_interview, app, people, now) -> Iterator[tuple]:
    """Each follow-up once (by uid), in the state the plan and the calendars give it."""
    plans = {p.uid: p for p in planned}
    writes: dict[str, list] = {}
    for w in written:
        if w.kind:  # '' = removed by us without a record of what it was
            writes.setdefault(w.uid, []).append(w)
    for uid in dict.fromkeys([*plans, *writes]):
        p, ws = plans.get(uid), writes.get(uid, [])
        live = [w for w in ws if not w.deleted_by_user and w.removed_at is None]
        start = p.start if p else (live or ws)[-1].start
        deleted = not live and any(w.deleted_by_user for w in ws)  # never re-created
        if deleted or (p is None and not live):
            state = "dropped"
        elif start >= now:
            state = "planned" if p else "dropped"
        else:
            state = "done" if live else "past"
        first = ws[0] if ws else None
        key = (p.app_key if p else app_of_interview.get(first.interview_identity)
               or app(first.company))
        who_key = first.key.split("\x1f")[2] if first and first.key.count("\x1f") == 3 else ""
        who = people.get(key, {}).get(who_key, who_key) or None
        kind = p.kind if p else first.kind
        channel = p.channel if p else first.channel
        words = [KIND_LABELS.get(kind, kind)]  # no summary is kept of what was written
        if kind == "check_in" and channel:
            words.append(f"by {channel}")
        if who:
            words.append(f"to {who}")
        text = p.summary if p else " ".join(words)
        yield key, Step(kind, state, start, text, who, channel)


# -- the terminal table ------------------------------------------------------------------


def print_status(apps: Sequence[AppStatus], settings) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not apps:
        console.print("No applications seen yet: run `followup-cal plan` or `export` first.")
        return
    tz = settings.tz
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("application")
    table.add_column("last interview", no_wrap=True)
    table.add_column("who")
    table.add_column("inquiries", no_wrap=True, justify="right")
    table.add_column("next")
    table.add_column("outcome", no_wrap=True)
    for a in apps:
        r = a.row
        name = r.company + (f"\n[dim]{r.role}[/dim]" if r.role else "")
        last = f"{r.last_interview.astimezone(tz):%Y-%m-%d}" if r.last_interview else ""
        ahead = (f"{r.next.kind.replace('_', ' ')}\n{r.next.start.astimezone(tz):%a %m-%d %H:%M}"
                 if r.next else "—")
        outcome = r.outcome or ""
        if r.outcome == "heard-back" and r.replied:  # issue 14: found in a mailbox
            outcome = f"replied {r.replied.astimezone(tz):%Y-%m-%d}"
        table.add_row(name, last, ", ".join(p.label for p in r.interviewers),
                      f"{r.inquiries_made}/{r.inquiries_allowed}", ahead, outcome)
    console.print(table)


# -- the HTML page -----------------------------------------------------------------------


def _e(text: object) -> str:
    from html import escape  # the status page only: a plan or an export skips html

    return escape(str(text), quote=True)


def _time(t: datetime, tz: tzinfo, fmt: str = "%a %Y-%m-%d %H:%M") -> str:
    local = t.astimezone(tz)
    return f'<time datetime="{_e(local.isoformat())}">{_e(local.strftime(fmt))}</time>'


def _state_badge(s: Step) -> str:
    word = STATE_LABELS[s.state]
    if s.kind == "interview":
        word = "Held" if s.state == "done" else "Upcoming"
    return f'<span class="state s-{s.state}"><i aria-hidden="true"></i>{word}</span>'


def _short(text: str, company: str) -> str:
    """A summary without the company the card is about ("… — Acme")."""
    return text.removesuffix(f" — {company}")


def _track(a: AppStatus, now: datetime, tz: tzinfo) -> str:
    """The picture: every step at its place between the first and the last, and today.
    Decorative (aria-hidden): the list under it says the same in words."""
    times = [s.start for s in a.steps] + [now]
    lo, hi = min(times), max(times)
    span = max((hi - lo).total_seconds(), timedelta(days=1).total_seconds())

    def at(t: datetime) -> float:
        return round(3 + 94 * (t - lo).total_seconds() / span, 2)

    marks: dict[tuple, list[Step]] = {}
    for s in a.steps:
        marks.setdefault((at(s.start), _shape(s), s.state), []).append(s)
    parts = [f'<div class="track" aria-hidden="true"><div class="line"></div>'
             f'<div class="now{" late" if at(now) > 70 else ""}" style="left:{at(now)}%">'
             "<span>today</span></div>"]
    for (x, shape, state), steps in marks.items():
        tip = "; ".join(f"{s.start.astimezone(tz):%a %m-%d %H:%M} {s.text}" for s in steps)
        count = f"<b>{len(steps)}</b>" if len(steps) > 1 else ""
        parts.append(f'<span class="mark m-{shape} s-{state}" style="left:{x}%" '
                     f'title="{_e(tip)}">{count}</span>')
    first, last = lo.astimezone(tz), hi.astimezone(tz)
    parts.append(f'<div class="ends"><span>{first:%b} {first.day}</span>'
                 f'<span>{last:%b} {last.day}</span></div></div>')
    return "".join(parts)


def _shape(s: Step) -> str:
    if s.kind == "interview":
        return "interview"
    if s.kind in OUTCOME_KINDS:
        return "outcome"
    return "move-on" if s.kind == "move_on" else "step"


def _steps(a: AppStatus, now: datetime, tz: tzinfo) -> str:
    company = a.row.company
    items, today_done = [], False
    for s in a.steps:
        if not today_done and s.start > now:
            items.append(_today_item(now, tz))
            today_done = True
        who = ""
        if s.who and s.who not in s.text:
            who = f' <span class="who">{"with" if s.kind == "interview" else "for"} ' \
                  f'{_e(s.who)}</span>'
        items.append(f'<li class="step k-{_e(s.kind)} s-{s.state}">{_time(s.start, tz)} '
                     f'{_state_badge(s)} <span class="what">{_e(_short(s.text, company))}'
                     f"{who}</span></li>")
    if not today_done:
        items.append(_today_item(now, tz))
    return f'<ol class="steps">{"".join(items)}</ol>'


def _today_item(now: datetime, tz: tzinfo) -> str:
    return (f'<li class="today">{_time(now, tz)} <span class="state s-today">'
            f'<i aria-hidden="true"></i>Today</span> <span class="what">you are here</span></li>')


def _article(n: int, a: AppStatus, now: datetime, tz: tzinfo) -> str:
    r = a.row
    head = f'<h2 id="app-{n}-name">{_e(r.company)}</h2>'
    role = f'<p class="role">{_e(r.role)}</p>' if r.role else ""
    if r.outcome:
        word = KIND_LABELS.get(r.outcome, r.outcome)
        when = f" {_time(a.outcome_at, tz, '%a %Y-%m-%d')}" if a.outcome_at else ""
        if r.outcome == "heard-back" and r.replied:  # issue 14: a reply found in a mailbox
            word, when = "Replied", f" {_time(r.replied, tz, '%a %Y-%m-%d')}"
        outcome = f'<p class="outcome o-{_e(r.outcome)}"><b>Outcome:</b> {_e(word)}{when}</p>'
    else:
        outcome = '<p class="outcome o-none"><b>Outcome:</b> waiting to hear back</p>'
    if r.next:
        what = _short(r.next.summary, r.company)
        ahead = (f'<span class="what">{_e(what)}</span> '
                 f'<span class="when">{_time(r.next.start, tz, "%a %Y-%m-%d %H:%M %Z")}</span>')
    else:
        ahead = "nothing planned"
    who = ", ".join(p.label for p in r.interviewers) or "—"
    last = _time(r.last_interview, tz, "%a %Y-%m-%d") if r.last_interview else "—"
    facts = (f'<dl class="facts"><div class="next"><dt>Next follow-up</dt><dd data-kind="'
             f'{_e(r.next.kind if r.next else "")}">{ahead}</dd></div>'
             f"<div><dt>Inquiries made / allowed</dt><dd>{r.inquiries_made} of "
             f"{r.inquiries_allowed}</dd></div>"
             f"<div><dt>Last interview</dt><dd>{last}</dd></div>"
             f"<div><dt>Interviewers</dt><dd>{_e(who)}</dd></div></dl>")
    body = (f"{_track(a, now, tz)}<details open><summary>Timeline: {len(a.steps)} step"
            f"{'s' if len(a.steps) != 1 else ''}</summary>{_steps(a, now, tz)}</details>")
    return (f'<article class="app" id="app-{n}" aria-labelledby="app-{n}-name">'
            f'<header>{head}{role}{outcome}</header>{facts}{body}</article>')


def status_html(apps: Sequence[AppStatus], settings, now: datetime) -> str:
    """One self-contained page: no script, font, image or request outside the file."""
    tz = settings.tz
    count = f"{len(apps)} application{'s' if len(apps) != 1 else ''}"
    if apps:
        nav = "".join(f'<li><a href="#app-{n}">{_e(a.row.company)}</a></li>'
                      for n, a in enumerate(apps, 1))
        nav = f'<nav aria-label="Applications"><ul>{nav}</ul></nav>'
        articles = "".join(_article(n, a, now, tz) for n, a in enumerate(apps, 1))
    else:
        nav = ""
        articles = ('<p class="empty">No applications seen yet: run <code>followup-cal plan'
                    "</code> or <code>export</code> first.</p>")
    legend = "".join(f'<li><span class="mark m-{shape} s-{state}" aria-hidden="true"></span>'
                     f"{text}</li>" for shape, state, text in _LEGEND)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="followup-cal {_e(__version__)}">
<title>Job applications — {_e(f"{now.astimezone(tz):%Y-%m-%d}")}</title>
<style>{CSS}</style>
</head>
<body>
<header class="page">
<h1>Job applications</h1>
<p>{count} · as of {_time(now, tz, "%a %Y-%m-%d %H:%M %Z")} · times in {_e(settings.timezone)}</p>
</header>
{nav}
<main>
<section class="legend" aria-labelledby="legend-h"><h2 id="legend-h">Legend</h2><ul>{legend}</ul>
<p>Each mark on a timeline is listed under it, with its date and state in words.</p></section>
{articles}
</main>
<footer><p>Made by followup-cal {_e(__version__)}. This page is one file: it loads nothing
from the network.</p></footer>
</body>
</html>
"""


_LEGEND = (
    ("interview", "done", "Interview"),
    ("step", "done", "Follow-up done"),
    ("step", "planned", "Follow-up planned"),
    ("step", "dropped", "Dropped"),
    ("step", "past", "Was due (not written to a calendar)"),
    ("move-on", "planned", "Move on"),
    ("outcome", "done", "Outcome / heard back"),
)

CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1c2330;--muted:#5b6576;--line:#c9cfd8;
--done:#1d7a46;--planned:#1f5fbf;--dropped:#7a7f88;--past:#a15c00;--iv:#6a3fb5;
--out:#b0233a;--move:#c05621;--today:#d12d6a}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1d222a;--ink:#e8ecf2;
--muted:#a3adbd;--line:#3a424f;--done:#4cc282;--planned:#6aa5ff;--dropped:#9aa0aa;
--past:#f0a640;--iv:#b493f0;--out:#ff7a8e;--move:#f59a5b;--today:#ff6fa4}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);line-height:1.45;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.page,nav,main,footer{max-width:1100px;margin:0 auto;padding:0 20px}
header.page{padding-top:24px}
h1{font-size:1.7rem;margin:0 0 4px}
header.page p{margin:0;color:var(--muted)}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:6px 10px;padding:0;margin:12px 0}
nav a{color:var(--planned);text-decoration:none;border:1px solid var(--line);
border-radius:999px;padding:2px 10px;background:var(--card)}
nav a:hover,nav a:focus{text-decoration:underline}
a:focus-visible,summary:focus-visible{outline:3px solid var(--today);outline-offset:2px}
.legend{font-size:.85rem;color:var(--muted);margin:8px 0 16px}
.legend h2{font-size:.85rem;margin:0 0 4px;text-transform:uppercase;letter-spacing:.05em}
.legend ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:0}
.legend li{display:flex;align-items:center;gap:6px}
.legend .mark{position:relative;top:0;transform:none;margin:0 2px}
.legend p{margin:4px 0 0}
.app{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:16px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.05)}
.app>header{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 14px}
.app h2{font-size:1.3rem;margin:0}
.role{margin:0;color:var(--muted)}
.outcome{margin:0 0 0 auto;font-size:.9rem}
.o-offer{color:var(--done)}.o-rejected{color:var(--out)}.o-withdrawn{color:var(--dropped)}
.o-heard-back{color:var(--planned)}.o-none{color:var(--muted)}
.facts{display:grid;grid-template-columns:2fr 1fr 1fr 1.5fr;gap:10px 18px;margin:12px 0}
.facts div{min-width:0}
.facts dt{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.facts dd{margin:0;overflow-wrap:anywhere}
.facts .next .what{font-weight:600;display:block}
.kind{font-weight:600}
.track{position:relative;height:64px;margin:6px 0 2px}
.track .line{position:absolute;left:0;right:0;top:30px;height:2px;background:var(--line)}
.track .now{position:absolute;top:8px;bottom:18px;width:0;border-left:2px dashed var(--today)}
.track .now span{position:absolute;top:-8px;left:4px;font-size:.7rem;color:var(--today);
font-weight:700;text-transform:uppercase;white-space:nowrap}
.track .now.late span{left:auto;right:6px}
.track .ends{position:absolute;left:0;right:0;bottom:0;display:flex;
justify-content:space-between;font-size:.75rem;color:var(--muted)}
.mark{position:absolute;top:24px;width:14px;height:14px;transform:translateX(-50%);
display:inline-block;border-radius:50%;border:2px solid var(--planned);background:var(--card)}
.mark b{position:absolute;top:-17px;left:50%;transform:translateX(-50%);font-size:.65rem;
color:var(--muted)}
.mark.s-done{background:var(--done);border-color:var(--done)}
.mark.s-dropped{background:var(--card);border-color:var(--dropped);border-radius:2px}
.mark.s-dropped::after{content:"";position:absolute;left:4px;top:-3px;width:2px;height:16px;
background:var(--dropped);transform:rotate(45deg)}
.mark.s-past{border-style:dashed;border-color:var(--past)}
.mark.m-interview{border-radius:2px;border-color:var(--iv);background:var(--iv);
transform:translateX(-50%) rotate(45deg)}
.legend .mark.m-interview{transform:rotate(45deg)}
.mark.m-interview.s-planned{background:var(--card)}
.mark.m-move-on{border-radius:2px;border-color:var(--move);background:var(--card)}
.mark.m-move-on.s-done{background:var(--move)}
.mark.m-outcome{top:18px;width:8px;height:26px;border-radius:3px;border-color:var(--out);
background:var(--out)}
.legend .mark.m-outcome{top:0;height:16px}
details{margin-top:6px}
summary{cursor:pointer;color:var(--muted);font-size:.85rem}
.steps{list-style:none;padding:0;margin:6px 0 0}
.steps li{display:grid;grid-template-columns:11.5em 7.5em 1fr;gap:4px 12px;
padding:5px 0;border-top:1px solid var(--line);align-items:baseline}
.steps time{font-variant-numeric:tabular-nums;color:var(--muted);white-space:nowrap}
.state{font-size:.8rem;font-weight:600;display:inline-flex;align-items:center;gap:5px}
.state i{display:inline-block;width:10px;height:10px;border-radius:50%;
border:2px solid currentColor}
.state.s-done{color:var(--done)}.state.s-done i{background:currentColor}
.state.s-planned{color:var(--planned)}
.state.s-dropped{color:var(--dropped)}.state.s-dropped i{border-radius:1px}
.state.s-past{color:var(--past)}.state.s-past i{border-style:dashed}
.state.s-today{color:var(--today)}.state.s-today i{border-radius:0;width:2px;border-width:0 0 0 2px}
.s-dropped .what{text-decoration:line-through;color:var(--muted)}
.k-interview .what{color:var(--iv);font-weight:600}
.k-move_on .what,.k-offer .what,.k-rejected .what,.k-withdrawn .what,.k-heard-back .what{
font-weight:600}
.today{color:var(--today)}
.who{color:var(--muted)}
.empty{font-size:1.1rem}
footer{color:var(--muted);font-size:.8rem;padding-bottom:24px}
@media (max-width:700px){
body{font-size:14px}
header.page,nav,main,footer{padding:0 12px}
header.page{padding-top:16px}
.app{padding:12px 14px}
.outcome{margin-left:0;flex-basis:100%}
.facts{grid-template-columns:1fr 1fr}
.facts .next,.facts div:last-child{grid-column:1/-1}
.steps li{grid-template-columns:auto 1fr;gap:2px 10px}
.steps .what{grid-column:1/-1}
}
@media print{
:root{--bg:#fff;--card:#fff;--ink:#000;--muted:#333}
body{font-size:10pt}
nav,.legend p{display:none}
.app{box-shadow:none;break-inside:avoid;page-break-inside:avoid;border-color:#999}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
summary{display:none}
}
"""


# -- a progress line on long work ----------------------------------------------------------

PROGRESS_DELAY = 0.5  # seconds of work before a spinner is worth showing (UI, not a rule)


@contextmanager
def progress(message: str, enabled: bool = True) -> Iterator[None]:
    """A transient spinner on stderr while slow work runs, only on a terminal.

    Nothing under cron (stderr not a TTY) or when `enabled` is False (`--json`).
    It appears after PROGRESS_DELAY seconds, so quick runs neither flash it nor
    pay for importing rich.
    """
    if not enabled or not sys.stderr.isatty():
        yield
        return
    lock = threading.Lock()
    shown: list = []
    over = threading.Event()

    def show() -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        with lock:
            if over.is_set():
                return
            live = Live(Spinner("dots", message), console=Console(stderr=True),
                        transient=True, refresh_per_second=12.5)
            live.start(refresh=True)
            shown.append(live)

    timer = threading.Timer(PROGRESS_DELAY, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            over.set()
            for live in shown:
                live.stop()


def reading_message(paths: Sequence[str]) -> str:
    """"Reading export.ics (55.7 MB)…": what a progress line says about .ics files."""
    names, size = [], 0
    for path in paths:
        if path == "-":
            names.append("standard input")
            continue
        names.append(os.path.basename(path))
        with suppress(OSError):  # the reader says what is wrong with it
            size += os.stat(path).st_size
    return f"Reading {', '.join(names)}" + (f" ({size_text(size)})" if size else "") + "…"


def size_text(n: int) -> str:
    """1234567 → '1.2 MB' (what a progress line says about a file)."""
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"  # pragma: no cover
