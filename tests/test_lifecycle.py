"""The application lifecycle through the CLI (issue 4): outcome, contacted,
tags in the notes, status, and what export remembers."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from followup_cal.ledger import Ledger

from conftest import ZONE, cli, data, plan_json

SIMILAR = "lifecycle_similar_names.ics"  # Acme Corp, Acme Robotics, Globex Robotics
TAGS = "lifecycle_tags_in_notes.ics"  # Initech #rejected, Hooli #heard-back, Umbrella #contacted
NOW = "2026-03-03T16:00"
OPTS = ("--timezone", ZONE)


def run(*args: str, now: str = NOW):
    return cli(*args, "--now", now, *OPTS)


def ok(*args: str, now: str = NOW):
    r = run(*args, now=now)
    assert r.code == 0, r.err
    return r


def of(items: list[dict], company: str, kind: str | None = None) -> list[dict]:
    return [f for f in items if f["company"] == company and (kind is None or f["kind"] == kind)]


def status(now: str = NOW) -> dict[str, dict]:
    return {row["company"]: row for row in ok("status", "--json", now=now).json()}


def when(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(ZONE))


def with_event(tmp_path: Path, base: str, event: str) -> str:
    text = Path(data(base)).read_text()
    text = text.replace("END:VCALENDAR", event.strip() + "\nEND:VCALENDAR")
    out = tmp_path / f"with_{base}"
    out.write_text(text)
    return str(out)


# -- outcome -------------------------------------------------------------------------------


def test_after_rejected_nothing_for_that_employer_and_nothing_else_changed():
    before = plan_json(SIMILAR, now=NOW)
    assert of(before, "Acme Corp", "check_in")
    r = ok("outcome", "acme", "rejected")
    assert "Acme Corp" in r.out and "rejected" in r.out
    after = plan_json(SIMILAR, now=NOW)
    assert of(after, "Acme Corp") == []
    assert after == [f for f in before if f["company"] != "Acme Corp"]
    assert of(plan_json(SIMILAR, now="2026-03-12T12:00"), "Acme Corp") == []


@pytest.mark.parametrize("kind", ["offer", "withdrawn", "REJECTED"])
def test_every_final_outcome_stops_the_application(kind):
    ok("outcome", "Acme Robotics", kind)
    assert of(plan_json(SIMILAR, now=NOW), "Acme Robotics") == []
    assert status()["Acme Robotics"]["outcome"] == kind.lower()


def test_outcome_before_the_application_was_seen_is_matched_when_planning():
    r = ok("outcome", "globex", "offer")  # never planned: accepted as typed
    assert "globex" in r.out and "no application" in r.err
    items = plan_json(SIMILAR, now=NOW)
    assert of(items, "Globex Robotics") == []
    assert of(items, "Acme Corp", "check_in") and of(items, "Acme Robotics", "check_in")
    assert status()["Globex Robotics"]["outcome"] == "offer"


def test_ambiguous_name_lists_candidates_exits_2_and_records_nothing():
    before = plan_json(SIMILAR, now=NOW)
    r = run("outcome", "robotics", "offer")
    assert r.code == 2
    assert r.err.count("\n") == 1
    assert "Acme Robotics" in r.err and "Globex Robotics" in r.err
    r = run("contacted", "ROBOTICS", "--via", "email")
    assert r.code == 2 and "Globex Robotics" in r.err
    assert plan_json(SIMILAR, now=NOW) == before
    assert all(row["outcome"] is None and row["inquiries_made"] == 0
               for row in status().values())


def test_heard_back_drops_pending_inquiries_and_a_new_round_starts_again(tmp_path):
    plan_json(SIMILAR, now=NOW)
    ok("outcome", "acme robotics", "heard-back", now="2026-03-04T12:00")
    items = plan_json(SIMILAR, now="2026-03-04T12:00")
    assert of(items, "Acme Robotics", "check_in") == of(items, "Acme Robotics", "move_on") == []
    assert of(items, "Acme Corp", "check_in")
    assert status("2026-03-04T12:00")["Acme Robotics"]["outcome"] == "heard-back"
    final = with_event(tmp_path, SIMILAR, """
BEGIN:VEVENT
DTSTART:20260312T140000Z
DTEND:20260312T150000Z
DTSTAMP:20260305T120000Z
ORGANIZER;CN=Ada Bolt:mailto:ada@acmerobotics.io
UID:lc8acmerobotics0finalround@google.com
ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;CN=Ada Bolt:mailto:ada@acmerobotics.io
ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;CN=sam.carter@gmail.com:mailto:sam.carter@gmail.com
SUMMARY:Final round: Acme Robotics (Firmware Engineer)
END:VEVENT""")
    items = plan_json(final, now="2026-03-12T16:00")
    checks = of(items, "Acme Robotics", "check_in")
    assert len(checks) == 2 and all(when(f["start"]) > when("2026-03-12T16:00") for f in checks)


def test_outcome_at_a_time_in_the_past():
    ok("outcome", "acme", "withdrawn", "--at", "2026-03-03T12:00-05:00")
    assert of(plan_json(SIMILAR, now=NOW), "Acme Corp") == []


# -- contacted -----------------------------------------------------------------------------


def test_contacted_pushes_the_next_check_in_a_week_past_it_and_uses_one_up():
    before = plan_json(SIMILAR, now=NOW)
    r = ok("contacted", "globex", "--via", "phone", "--at", "2026-03-03T10:30")
    assert "Globex Robotics" in r.out
    after = plan_json(SIMILAR, now=NOW)
    was, now_ = of(before, "Globex Robotics", "check_in"), of(after, "Globex Robotics", "check_in")
    assert len(now_) == len(was) - 1 == 1
    assert when(now_[0]["start"]) >= when("2026-03-03T10:30") + timedelta(days=7)
    assert when(was[0]["start"]) < when("2026-03-03T10:30") + timedelta(days=7)
    assert [f for f in after if f["company"] != "Globex Robotics"] == [
        f for f in before if f["company"] != "Globex Robotics"]
    row = status()["Globex Robotics"]
    assert (row["inquiries_made"], row["inquiries_allowed"]) == (1, 2)


def test_contacted_to_the_limit_leaves_only_move_on():
    ok("contacted", "Acme Corp", "--via", "email", "--at", "2026-02-20")
    ok("contacted", "Acme Corp", "--via", "mail", "--at", "2026-03-03")
    items = of(plan_json(SIMILAR, now=NOW), "Acme Corp")
    assert [f["kind"] for f in items if f["kind"] in ("check_in", "move_on")] == ["move_on"]
    assert status()["Acme Corp"]["inquiries_made"] == 2


def test_contacted_date_only_is_the_start_of_the_working_day():
    ok("contacted", "acme", "--via", "phone", "--at", "2026-03-03")
    [first, *_] = of(plan_json(SIMILAR, now=NOW), "Acme Corp", "check_in")
    assert when(first["start"]) >= when("2026-03-10T09:00")


@pytest.mark.parametrize("args, words", [
    (("contacted", "acme", "--via", "fax"), "fax"),
    (("contacted", "acme"), "--via"),
    (("contacted", "acme", "--via", "email", "--at", "last tuesday"), "--at"),
    (("contacted", "acme", "--via", "email", "--at", "2026-03-04T09:00"), "future"),
    (("outcome", "acme", "hired"), "hired"),
    (("outcome", "acme", "offer", "--at", "2026-13-01"), "--at"),
    (("outcome", " ", "offer"), "COMPANY"),
])
def test_bad_input_is_one_line_and_exit_2(args, words):
    r = run(*args)
    assert r.code == 2
    assert words in r.err
    assert "Traceback" not in r.err
    with Ledger.open() as ledger:
        assert ledger.outcomes() == [] and ledger.contacts() == []


# -- tags in the notes ---------------------------------------------------------------------


def test_tags_in_notes_act_like_the_commands():
    now = "2026-03-06T12:00"
    items = plan_json(TAGS, now=now)
    assert of(items, "Initech") == []  # #rejected
    assert of(items, "Hooli", "check_in") == []  # #heard-back
    umbrella = of(items, "Umbrella Co", "check_in")  # #contacted 2026-03-05 phone
    assert len(umbrella) == 1
    assert when(umbrella[0]["start"]) >= when("2026-03-12T09:00")
    assert len(of(items, "Vandelay Industries", "check_in")) == 2  # no tags
    rows = status(now)
    assert rows["Initech"]["outcome"] == "rejected"
    assert rows["Hooli"]["outcome"] == "heard-back"
    assert (rows["Umbrella Co"]["inquiries_made"], rows["Umbrella Co"]["outcome"]) == (1, None)
    assert (rows["Vandelay Industries"]["inquiries_made"],
            rows["Vandelay Industries"]["outcome"]) == (0, None)


def test_tags_give_the_same_plan_as_the_commands(tmp_path, monkeypatch):
    now = "2026-03-06T12:00"
    tagged = plan_json(TAGS, now=now)
    tagged_status = ok("status", "--json", now=now).json()
    plain = tmp_path / "untagged.ics"
    text = Path(data(TAGS)).read_text()
    for tag in ("\\n#rejected", "#heard-back", "\\n#contacted 2026-03-05 phone"):
        assert tag in text
        text = text.replace(tag, "")
    plain.write_text(text)
    monkeypatch.setenv("FOLLOWUP_CAL_HOME", str(tmp_path / "other_home"))
    ok("outcome", "initech", "rejected", "--at", "2026-03-02T11:00-05:00", now=now)
    ok("outcome", "hooli", "heard-back", "--at", "2026-03-02T13:00-05:00", now=now)
    ok("contacted", "umbrella", "--via", "phone", "--at", "2026-03-05", now=now)
    assert plan_json(str(plain), now=now) == tagged
    assert ok("status", "--json", now=now).json() == tagged_status


def test_removing_a_tag_undoes_it(tmp_path):
    now = "2026-03-06T12:00"
    plan_json(TAGS, now=now)
    plain = tmp_path / "untagged.ics"
    plain.write_text(Path(data(TAGS)).read_text().replace("\\n#rejected", ""))
    assert of(plan_json(str(plain), now=now), "Initech", "check_in")
    assert status(now)["Initech"]["outcome"] is None


# -- status --------------------------------------------------------------------------------


def test_status_lists_each_application_with_counts_next_and_outcome(home):
    (home / "config.toml").write_text("max_inquiries = 3\n")
    items = plan_json(SIMILAR, now=NOW)
    rows = status()
    assert set(rows) == {"Acme Corp", "Acme Robotics", "Globex Robotics"}
    acme = rows["Acme Corp"]
    assert acme["role"] == "Product Designer"
    assert acme["last_interview"] == "2026-03-02T10:00:00-05:00"
    assert acme["interviewers"] == [{"name": "Marvin Martian", "email": "marvin@acmecorp.com"}]
    assert (acme["inquiries_made"], acme["inquiries_allowed"], acme["outcome"]) == (0, 3, None)
    first = of(items, "Acme Corp")[0]
    assert acme["next"] == {"kind": first["kind"], "start": first["start"]}
    later = status("2026-03-05T12:00")["Acme Corp"]["next"]  # only what is still ahead
    ahead = [f for f in of(items, "Acme Corp") if when(f["start"]) >= when("2026-03-05T12:00")]
    assert later == {"kind": ahead[0]["kind"], "start": ahead[0]["start"]} and later != acme["next"]
    assert status("2026-04-30T12:00")["Acme Corp"]["next"] is None


def test_status_after_an_outcome_shows_it_without_replanning():
    plan_json(SIMILAR, now=NOW)
    ok("outcome", "acme", "offer")
    ok("contacted", "globex", "--via", "phone", "--at", "2026-03-03T10:30")
    rows = status()
    assert (rows["Acme Corp"]["outcome"], rows["Acme Corp"]["next"]) == ("offer", None)
    nxt = rows["Globex Robotics"]["next"]
    assert nxt["kind"] != "check_in" or when(nxt["start"]) >= when("2026-03-10T10:30")


def test_status_table_and_empty_ledger():
    r = ok("status")
    assert "No applications" in r.out
    assert ok("status", "--json").json() == []
    plan_json(SIMILAR, now=NOW)
    out = ok("status").out
    assert "Acme Corp" in out and "Globex" in out and "0/2" in out


# -- what export remembers -----------------------------------------------------------------


def test_plan_remembers_but_writes_nothing(home):
    plan_json(SIMILAR, now=NOW)
    assert (home / "state.db").is_file()
    with Ledger.open() as ledger:
        assert ledger.written() == []
        assert len(ledger.applications()) == 3 and ledger.planned()


def test_export_records_what_it_wrote_where(tmp_path):
    out = tmp_path / "followups.ics"
    ok("export", data(SIMILAR), "-o", str(out))
    items = plan_json(SIMILAR, now=NOW)
    with Ledger.open() as ledger:
        rows = ledger.written()
    assert {w.target for w in rows} == {f"ics:{out.resolve()}"}
    assert sorted(w.uid for w in rows) == sorted(f["uid"] for f in items)
    assert all(w.uid in out.read_text() for w in rows)
    r = ok("export", data(SIMILAR), "-o", "-")
    assert r.out.startswith("BEGIN:VCALENDAR")
    with Ledger.open() as ledger:
        assert len(ledger.written("ics:-")) == len(items)


def test_written_check_ins_that_passed_count_so_the_plan_stays_stable(tmp_path):
    first = plan_json(SIMILAR, now=NOW)
    second_check_in = of(first, "Acme Corp", "check_in")[1]
    later = "2026-03-10T12:00"  # Acme Corp's first check-in (9 March) has passed
    drifted = of(plan_json(SIMILAR, now=later), "Acme Corp", "check_in")
    assert len(drifted) == 2  # never shown to the user: it moves to the next free slot

    ok("export", data(SIMILAR), "-o", str(tmp_path / "f.ics"))
    stable = of(plan_json(SIMILAR, now=later), "Acme Corp", "check_in")
    assert stable == [second_check_in]
    assert status(later)["Acme Corp"]["inquiries_made"] == 1


def test_a_logged_contact_stands_for_a_written_check_in_near_it(tmp_path):
    ok("export", data(SIMILAR), "-o", str(tmp_path / "f.ics"))
    ok("contacted", "acme", "--via", "email", "--at", "2026-03-09T10:20", now="2026-03-09T12:00")
    later = "2026-03-10T12:00"
    checks = of(plan_json(SIMILAR, now=later), "Acme Corp", "check_in")
    assert len(checks) == 1 and when(checks[0]["start"]) >= when("2026-03-16T10:20")
    assert status(later)["Acme Corp"]["inquiries_made"] == 1


def test_re_export_takes_back_what_is_no_longer_planned(tmp_path):
    out = str(tmp_path / "f.ics")
    ok("export", data(SIMILAR), "-o", out)
    ok("outcome", "acme", "rejected", now="2026-03-04T12:00")
    ok("export", data(SIMILAR), "-o", out, now="2026-03-04T12:00")
    assert "Acme Corp" not in Path(out).read_text()
    with Ledger.open() as ledger:
        acme = [w for w in ledger.written() if w.company == "Acme Corp"]
    assert acme and all(w.removed_at is not None for w in acme if w.kind == "check_in")


def test_failed_export_records_nothing(tmp_path):
    r = run("export", data(SIMILAR), "-o", str(tmp_path / "missing" / "f.ics"))
    assert r.code == 2
    with Ledger.open() as ledger:
        assert ledger.written() == [] and ledger.applications() == []


def test_state_commands_exist_whichever_module_is_imported_first():
    code = ("import followup_cal.cli_state; from followup_cal.cli import cli; "
            "print(sorted(cli.commands))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert {"outcome", "contacted", "status", "plan", "export"} <= set(eval(out))


def test_overdue_thank_you_written_by_export_is_not_moved_again(tmp_path):
    """Exported at 08:00 with the thank-you due at 16:30; at 17:00 it is not re-planned."""
    from conftest import ZONE, cli, data

    src = data("google_utc_x_wr_timezone.ics")
    out = tmp_path / "f.ics"
    r = cli("export", src, "-o", str(out), "--now", "2026-03-03T08:00", "--timezone", ZONE)
    assert r.code == 0, r.err
    r = cli("plan", "--json", "--ics", src, "--now", "2026-03-03T17:00", "--timezone", ZONE)
    assert [p for p in r.json() if p["kind"] == "thank_you_email"] == []
    fresh = tmp_path / "other-home"
    fresh.mkdir()
    import os

    os.environ["FOLLOWUP_CAL_HOME"] = str(fresh)  # the autouse fixture restores it
    r = cli("plan", "--json", "--ics", src, "--now", "2026-03-03T17:00", "--timezone", ZONE)
    assert {p["start"] for p in r.json() if p["kind"] == "thank_you_email"} == {
        "2026-03-03T17:00:00-05:00"}
