"""The sync rules (sync.reconcile), once, on an in-memory calendar: no HTTP.

Each test plans by hand, reconciles calendars.memory (no tombstones, as CalDAV;
and a variant that keeps them, as Google) with the real ledger, and
checks what the calendar holds and what was written; the Google and CalDAV
tests check the same rules through their servers.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup_cal.calendars.base import Remote
from followup_cal.calendars.memory import MemoryCalendar, Stored
from followup_cal.errors import EventError
from followup_cal.ledger import Ledger
from followup_cal.model import FollowUp
from followup_cal.sync import reconcile

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
TARGET = "memory:test"


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=TZ)


def follow_up(n: int, start: datetime, summary: str | None = None) -> FollowUp:
    return FollowUp(
        uid=f"f{n}@test", key=f"iv\x1fcheck_in\x1f\x1f{n}", kind="check_in", channel="email",
        company="Acme", role=None, interview_uid="iv", interview_identity="iv",
        recipient=None, start=start, end=start + timedelta(minutes=15),
        timezone="America/New_York", summary=summary or f"Check in {n}", description="")


class Tombstones(MemoryCalendar):
    """As Google does: a deleted event of ours stays listed, cancelled; its uid cannot
    be created again, but an update brings it back."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cancelled: dict[str, Stored] = {}

    def list_ours(self, since):
        found = dict(super().list_ours(since))
        for uid, s in self.cancelled.items():
            if s.end > since:
                found[uid] = Remote(uid, s.start, s.content_hash, s.interview_mark,
                                    cancelled=True)
        return found

    def create(self, f, mark):
        return False if f.uid in self.cancelled else super().create(f, mark)

    def update(self, f, mark):
        if f.uid in self.cancelled:
            self._objects()[f.uid] = self.cancelled.pop(f.uid)
        return super().update(f, mark)

    def remove(self, uid):
        stored = self._objects().get(uid)
        if stored is not None and stored.kind:
            self.cancelled[uid] = stored
        super().remove(uid)

    def delete(self, uid):
        stored = self._objects().get(uid)
        super().delete(uid)
        if stored is not None and stored.kind:
            self.cancelled[uid] = stored


@pytest.fixture
def ledger(home):
    with Ledger.open() as led:
        yield led


@pytest.fixture(params=[MemoryCalendar, Tombstones], ids=["no-tombstones", "tombstones"])
def sink(request):
    refused: set[str] = set()

    def hook(operation: str, subject: str) -> None:
        if operation in ("create", "update", "delete") and subject in refused:
            raise EventError("the server said no")

    cal = request.param(TARGET.removeprefix("memory:"), hook=hook)
    cal.refuse = refused
    return cal


def writes(sink) -> int:
    return len(sink.server.log)


def sync(plan, sink, ledger, now=NOW, **kw):
    return reconcile(plan, sink, ledger, now, **kw)


def live(sink) -> dict[str, datetime]:
    return {u: s.start for u, s in sink.server.calendars.get(sink.calendar, {}).items()
            if s.kind}


def test_first_sync_writes_the_plan_and_a_second_writes_nothing(sink, ledger):
    plan = [follow_up(1, at(3)), follow_up(2, at(9))]
    sink.open(create=True)
    sink.put_foreign("x@elsewhere", at(3), at(3, 11), "Dentist")
    result = sync(plan, sink, ledger)
    assert result.count("create") == 2 and not result.failures
    assert live(sink) == {"f1@test": at(3), "f2@test": at(9)}
    assert sink.get("x@elsewhere").summary == "Dentist"
    before = writes(sink)
    again = sync(plan, sink, ledger)
    assert writes(sink) == before and again.writes == 0 and again.count("unchanged") == 2


def test_a_moved_follow_up_is_moved_and_one_no_longer_planned_is_deleted(sink, ledger):
    sync([follow_up(1, at(3)), follow_up(2, at(9))], sink, ledger)
    result = sync([follow_up(1, at(4))], sink, ledger)
    assert (result.count("update"), result.count("delete")) == (1, 1)
    assert live(sink) == {"f1@test": at(4)}


def test_the_past_is_history_never_deleted(sink, ledger):
    sync([follow_up(1, at(3)), follow_up(2, at(9))], sink, ledger)
    result = sync([], sink, ledger, now=at(3, 12))
    assert live(sink) == {"f1@test": at(3)}  # fell due this morning: left alone
    assert result.count("delete") == 1


def test_a_follow_up_the_user_deleted_stays_deleted(sink, ledger):
    plan = [follow_up(1, at(3)), follow_up(2, at(9))]
    sync(plan, sink, ledger)
    sink.remove("f2@test")
    before = writes(sink)
    result = sync(plan, sink, ledger)
    assert result.count("kept-deleted") == 1 and writes(sink) == before
    assert [w.uid for w in ledger.written(TARGET) if w.deleted_by_user] == ["f2@test"]
    moved = sync([follow_up(1, at(3)), follow_up(2, at(10))], sink, ledger)  # re-planned
    assert "f2@test" not in live(sink) and moved.count("kept-deleted") == 1


def test_one_we_removed_comes_back_when_planned_again(sink, ledger):
    sync([follow_up(1, at(3)), follow_up(2, at(9))], sink, ledger)
    sync([follow_up(1, at(3))], sink, ledger)
    result = sync([follow_up(1, at(3)), follow_up(2, at(9))], sink, ledger)
    assert result.count("restore") == 1 and live(sink)["f2@test"] == at(9)


def test_a_follow_up_that_fell_due_is_not_chased_forward(sink, ledger):
    sync([follow_up(1, at(3))], sink, ledger)
    # the planner now puts the same follow-up later (it is overdue): the event stays put
    result = sync([follow_up(1, at(5), summary="Check in 1 (late)")], sink, ledger,
                  now=at(4))
    assert result.writes == 0 and live(sink) == {"f1@test": at(3)}
    assert [w.start for w in ledger.written(TARGET)] == [at(3)]


def test_a_moved_interview_moves_even_a_follow_up_that_fell_due(sink, ledger):
    from followup_cal.model import Interview

    iv = Interview(uid="iv", recurrence_id=None, summary="Interview Acme", company="Acme",
                   role=None, start=at(2, 9), end=at(2, 10), employer_tz="America/New_York",
                   interviewers=(), recruiter=None)
    sync([follow_up(1, at(3))], sink, ledger, interviews=[iv])
    later = dataclasses.replace(iv, start=at(5, 9), end=at(5, 10))
    result = sync([follow_up(1, at(6))], sink, ledger, now=at(4), interviews=[later])
    assert result.count("update") == 1 and live(sink) == {"f1@test": at(6)}


def test_a_write_that_landed_before_a_kill_is_found_not_duplicated(sink, ledger):
    sink.open(create=True)
    sink.create(follow_up(1, at(3)), "")  # written, then killed before the ledger knew
    before = writes(sink)
    result = sync([follow_up(1, at(3))], sink, ledger)
    assert result.writes == 0 and writes(sink) == before
    assert [w.uid for w in ledger.written(TARGET)] == ["f1@test"]


def test_a_kill_between_recording_a_removal_and_the_delete_is_not_the_users(sink, ledger):
    sync([follow_up(1, at(3)), follow_up(2, at(9))], sink, ledger)
    hook = sink.hook

    def killed(operation, subject):
        if operation == "delete":
            raise KeyboardInterrupt  # killed here
    sink.hook = killed
    with pytest.raises(KeyboardInterrupt):
        sync([follow_up(1, at(3))], sink, ledger)
    sink.hook = hook  # the next run works
    sync([follow_up(1, at(3))], sink, ledger)
    assert live(sink) == {"f1@test": at(3)}
    result = sync([follow_up(1, at(3)), follow_up(2, at(9))], sink, ledger)
    assert result.count("restore") == 1 and "f2@test" in live(sink)


def test_one_refused_event_fails_alone_and_is_retried(sink, ledger):
    plan = [follow_up(1, at(3)), follow_up(2, at(9))]
    sink.refuse.add("f1@test")
    result = sync(plan, sink, ledger)
    assert result.count("failed") == 1 and result.count("create") == 1
    assert result.failures == ["'Check in 1': the server said no"]
    assert [w.uid for w in ledger.written(TARGET)] == ["f2@test"]
    sink.refuse.clear()
    again = sync(plan, sink, ledger)
    assert again.count("create") == 1 and set(live(sink)) == {"f1@test", "f2@test"}


def test_a_dry_run_writes_nothing_and_creates_no_calendar(sink, ledger):
    result = sync([follow_up(1, at(3))], sink, ledger, dry_run=True)
    assert result.count("create") == 1 and result.calendar_id is None
    assert sink.calendar not in sink.server.calendars and writes(sink) == 0
    assert ledger.written(TARGET) == []
    sync([follow_up(1, at(3))], sink, ledger)
    moved = sync([follow_up(1, at(4))], sink, ledger, dry_run=True)
    assert moved.count("update") == 1 and live(sink) == {"f1@test": at(3)}


@pytest.mark.parametrize("cancelled, removed, same, interview, start, want", [
    (True, True, False, False, None, "restore"),
    (True, False, True, True, None, "kept-deleted"),
    (False, False, True, True, at(1), "unchanged"),
    (False, False, False, True, at(1), "fell-due"),
    (False, False, False, False, at(1), "update"),  # its interview moved
    (False, False, False, True, at(5), "update"),
])
def test_the_decision_table(cancelled, removed, same, interview, start, want):
    from followup_cal.sync import decide

    assert decide(cancelled=cancelled, removed_by_us=removed, same_content=same,
                  same_interview=interview, start=start, now=NOW) == want


def test_the_decisions_for_events_no_longer_planned_and_for_missing_ones():
    from followup_cal.sync import decide_missing, decide_unplanned

    assert decide_unplanned(cancelled=True, recorded_live=True, start=None, now=NOW) \
        == "user-deleted"
    assert decide_unplanned(cancelled=True, recorded_live=False, start=at(5), now=NOW) == "leave"
    assert decide_unplanned(cancelled=False, recorded_live=True, start=at(1), now=NOW) == "leave"
    assert decide_unplanned(cancelled=False, recorded_live=False, start=at(5), now=NOW) \
        == "delete"
    assert decide_missing(recorded_live=True, removed_by_us=False) == "kept-deleted"
    assert decide_missing(recorded_live=False, removed_by_us=True) == "restore"
    assert decide_missing(recorded_live=False, removed_by_us=False) == "create"
