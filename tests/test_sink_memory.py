"""The in-memory sink passes the shared sink contract, and reads as a Source."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sink_contract import T0, SinkContract, follow_up

from followup_cal.calendars.memory import MemoryCalendar, MemoryServer
from followup_cal.config import Settings
from followup_cal.detect import Window
from followup_cal.model import CalendarEvent

_names = itertools.count()


class TestMemorySink(SinkContract):
    @pytest.fixture
    def sink(self):
        return MemoryCalendar(f"Follow-ups {next(_names)}", MemoryServer())

    def reopen(self, sink):
        return MemoryCalendar(sink.calendar, sink.server)

    def calendars_named(self, sink) -> int:
        return int(sink.calendar in sink.server.calendars)

    def put_foreign(self, sink, uid, start, end, summary):
        sink.put_foreign(uid, start, end, summary)

    def foreign(self, sink, uid):
        return sink.get(uid)

    def remove(self, sink, uid):
        sink.remove(uid)


def test_writes_are_logged_and_reads_need_no_write():
    sink = MemoryCalendar()
    sink.open(create=True)
    sink.create(follow_up(), "m")
    sink.list_ours(T0)
    assert sink.server.log == [("mkcalendar", "Interview follow-ups"),
                               ("create", follow_up().uid)]


def test_a_hook_injects_a_fault_before_the_write():
    def hook(operation, subject):
        if operation == "create":
            raise ConnectionError("dropped")

    sink = MemoryCalendar(hook=hook)
    sink.open(create=True)
    with pytest.raises(ConnectionError):
        sink.create(follow_up(), "m")
    assert sink.list_ours(T0 - timedelta(days=1)) == {}


def test_read_returns_the_events_in_the_window():
    now = datetime(2030, 3, 18, 12, 0, tzinfo=timezone.utc)
    window = Window.around(now, Settings())

    def event(uid, start):
        return CalendarEvent(uid=uid, recurrence_id=None, summary="Interview with Acme",
                             description="", start=start, end=start + timedelta(hours=1),
                             tzid=None, status="CONFIRMED", transparent=False, organizer=None,
                             attendees=(), ours=False, source="memory:x")

    inside, outside = event("in", now - timedelta(days=2)), event("out", now - timedelta(days=900))
    reading = MemoryCalendar(events=[inside, outside]).read(window, Settings())
    assert [e.uid for e in reading.events] == ["in"]
