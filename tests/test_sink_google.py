"""The Google sink passes the shared sink contract over the fake Calendar v3 server
(tests/fake_google.py), through the real client: tombstones and ids from keys are
its two declared capabilities (tests/sink_contract.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sink_contract import T0, SinkContract, key_for

from followup_cal.calendars import google

ZONE = "America/New_York"


class TestGoogleSink(SinkContract):
    tombstones = True
    uids_from_keys = True

    @pytest.fixture
    def sink(self, fake):
        from followup_cal.config import build_settings
        from followup_cal.ledger import Ledger

        settings = build_settings(timezone=ZONE)
        ledger = Ledger.open()
        client = google.Client.connect(settings)
        yield google.Sink(client, ledger, settings, T0 - timedelta(days=2))
        ledger.close()

    def reopen(self, sink):
        return google.Sink(sink.client, sink.ledger, sink.settings, sink.now)

    @pytest.fixture(autouse=True)
    def _keep_fake(self, fake):
        self.fake = fake  # the hooks below look at the server the sink talks to

    def calendars_named(self, sink) -> int:
        return sum(1 for c in self.fake.secondary() if c.summary == google.CALENDAR_NAME)

    def put_foreign(self, sink, uid, start, end, summary):
        """At the id our follow-up of `uid` would take (Google ids come from keys)."""
        self.fake.seed({"id": google.event_id(key_for(uid)), "summary": summary,
                        "start": {"dateTime": start.isoformat()},
                        "end": {"dateTime": end.isoformat()}},
                       calendar=sink.result.calendar_id)

    def foreign(self, sink, uid):
        return self.fake.events_in(sink.result.calendar_id).get(google.event_id(key_for(uid)))

    def remove(self, sink, uid):
        gid = next(i for i, e in self.fake.events_in(sink.result.calendar_id).items()
                   if google._private(e).get(google.KEY_PROP, "")[:32] == uid[:32])
        self.fake.user_delete(gid, calendar=sink.result.calendar_id)


def test_a_reserved_id_moves_the_follow_up_to_its_next_generation(fake):
    """409 on insert and 404 on get: Google keeps the id reserved; create goes on under
    the next generation, which it reports for the ledger (sync.reconcile records it)."""
    from sink_contract import follow_up

    from followup_cal.config import build_settings
    from followup_cal.ledger import Ledger
    from followup_cal.rules import uid_for

    settings = build_settings(timezone=ZONE)
    f = replace(follow_up(), uid=uid_for(follow_up().key))
    with Ledger.open() as ledger:
        sink = google.Sink(google.Client.connect(settings), ledger, settings, T0)
        assert sink.open(create=True)
        fake.calendar(sink.result.calendar_id).reserved.add(google.event_id(f.key))
        assert sink.create(f, "m") is True
        assert sink.id_generations() == {f.uid: 1}
        again = google.Sink(sink.client, ledger, settings, T0)  # a later run, ledger lost
        assert again.open(create=False)
        ours = again.list_ours(T0 - timedelta(days=1))
        assert again.id_generations() == {f.uid: 1}  # found by the key hash it carries
        assert set(ours) == {f.uid} and not ours[f.uid].cancelled
        assert google.event_id(f.key, 1) in fake.events_in(sink.result.calendar_id)
    assert isinstance(ours[f.uid].start, datetime)
