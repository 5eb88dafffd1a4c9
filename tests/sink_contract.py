"""The contract every `CalendarSink` passes (after vdirsyncer's `StorageTests`).

A backend's test module subclasses `SinkContract` and provides:
- a `sink` fixture: a sink for a calendar that does not exist yet (a fresh name
  each test), not opened;
- `reopen(sink)`: a second sink instance on the same calendar (a later run);
- `calendars_named(sink)`: how many calendars the account has with its name;
- `put_foreign(sink, uid, start, end, summary)`: an event put into the calendar
  directly, as a calendar app would (not ours);
- `foreign(sink, uid)`: that event as the server has it now (any comparable value,
  None when gone);
- `remove(sink, uid)`: delete an event directly, as the user would.

Capabilities (class attributes, False unless the backend says otherwise):
- `tombstones`: a deleted event stays listed as `Remote.cancelled` (Google), and
  its uid is held by it: `create` answers False and `update` brings it back;
  the listing checks below then look at the live events only;
- `uids_from_keys`: the backend names events by `FollowUp.key` (Google's event
  id is a hash of it), so a follow-up's uid is `rules.uid_for(key)`, as the
  planner makes it; `self.follow_up(uid=U)` then means the follow-up of key
  `key_for(U)`, and `put_foreign(sink, U, ...)` puts the foreign event where
  that follow-up's event would go.
The rules of when to call what live in sync.py; this checks only the mechanics.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from followup_cal.ledger import content_hash
from followup_cal.model import FollowUp, Person

T0 = datetime(2030, 3, 18, 14, 0, tzinfo=timezone.utc)


def key_for(uid: str) -> str:
    """The key a `uids_from_keys` backend's follow-up of `uid` has in these tests."""
    return f"contract|{uid}"


def follow_up(n: int = 1, *, start: datetime = T0, **changes) -> FollowUp:
    f = FollowUp(
        uid=f"contract-{n}@followup-cal", key=f"contract|{n}", kind="thank_you_email",
        channel="email", company="Acme", role="Analyst", interview_uid=f"iv-{n}@example.com",
        interview_identity=f"iv-{n}", recipient=Person("Dana Lee", "dana@acme.com"),
        start=start, end=start + timedelta(minutes=15), timezone="America/New_York",
        summary=f"Thank-you e-mail to Dana Lee (Acme) #{n}",
        description="Thank Dana for the interview.\nMention the project.")
    return replace(f, **changes)


class SinkContract:
    """Subclass and provide the fixture and hooks named in the module docstring."""

    tombstones = False
    uids_from_keys = False

    def follow_up(self, n: int = 1, **changes) -> FollowUp:
        f = follow_up(n, **changes)
        if self.uids_from_keys:
            from followup_cal.rules import uid_for

            key = key_for(changes["uid"]) if "uid" in changes else f.key
            f = replace(f, key=key, uid=uid_for(key))
        return f

    def live(self, ours) -> dict:
        """The listed events that are not tombstones."""
        return {u: r for u, r in ours.items() if not r.cancelled}

    def reopen(self, sink):
        raise NotImplementedError

    def calendars_named(self, sink) -> int:
        raise NotImplementedError

    def put_foreign(self, sink, uid: str, start: datetime, end: datetime, summary: str) -> None:
        raise NotImplementedError

    def foreign(self, sink, uid: str):
        raise NotImplementedError

    def remove(self, sink, uid: str) -> None:
        raise NotImplementedError

    @pytest.fixture
    def opened(self, sink):
        assert sink.open(create=True) is True
        return sink

    # -- open ---------------------------------------------------------------------------

    def test_open_without_create_on_a_missing_calendar_creates_nothing(self, sink):
        assert sink.open(create=False) is False
        assert self.calendars_named(sink) == 0

    def test_open_creates_once_and_a_later_run_finds_the_same(self, sink):
        assert sink.open(create=True) is True
        assert self.calendars_named(sink) == 1
        assert sink.create(self.follow_up(), "m1") is True
        again = self.reopen(sink)
        assert again.open(create=True) is True
        assert again.target == sink.target
        assert self.calendars_named(sink) == 1
        assert set(self.live(again.list_ours(T0 - timedelta(days=1)))) == {self.follow_up().uid}

    # -- create / list ------------------------------------------------------------------

    def test_create_then_list_shows_hash_mark_and_start(self, opened):
        f = self.follow_up()
        assert opened.create(f, "mark-1") is True
        ours = self.live(opened.list_ours(T0 - timedelta(days=1)))
        assert set(ours) == {f.uid}
        remote = ours[f.uid]
        assert remote.uid == f.uid
        assert remote.content_hash == content_hash(f)
        assert remote.interview_mark == "mark-1"
        assert remote.start == f.start
        assert not remote.cancelled

    def test_empty_calendar_lists_nothing(self, opened):
        assert dict(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {}

    def test_create_of_an_existing_uid_is_false_and_duplicates_nothing(self, opened):
        f = self.follow_up()
        assert opened.create(f, "m") is True
        other = replace(f, summary="Something else", start=T0 + timedelta(hours=2),
                        end=T0 + timedelta(hours=3))
        assert opened.create(other, "m2") is False
        ours = self.live(opened.list_ours(T0 - timedelta(days=1)))
        assert list(ours) == [f.uid]
        assert ours[f.uid].content_hash == content_hash(f)  # the first one is kept

    def test_several_events_are_listed_by_uid(self, opened):
        items = [self.follow_up(n, start=T0 + timedelta(days=n)) for n in range(1, 4)]
        for f in items:
            assert opened.create(f, f"m{f.uid}")
        ours = self.live(opened.list_ours(T0 - timedelta(days=1)))
        assert {u: r.start for u, r in ours.items()} == {f.uid: f.start for f in items}

    # -- update -------------------------------------------------------------------------

    def test_update_changes_hash_start_and_mark(self, opened):
        f = self.follow_up()
        opened.create(f, "m1")
        moved = replace(f, start=T0 + timedelta(days=2), end=T0 + timedelta(days=2, minutes=15),
                        summary="Moved")
        assert opened.update(moved, "m2") is True
        remote = self.live(opened.list_ours(T0 - timedelta(days=1)))[f.uid]
        assert remote.content_hash == content_hash(moved) != content_hash(f)
        assert remote.start == moved.start
        assert remote.interview_mark == "m2"

    def test_update_twice_in_one_run(self, opened):
        f = self.follow_up()
        opened.create(f, "m1")
        opened.list_ours(T0 - timedelta(days=1))
        assert opened.update(replace(f, summary="One"), "m1") is True
        assert opened.update(replace(f, summary="Two"), "m1") is True
        remote = self.live(opened.list_ours(T0 - timedelta(days=1)))[f.uid]
        assert remote.content_hash == content_hash(replace(f, summary="Two"))

    def test_update_of_a_vanished_uid_is_false(self, opened):
        f = self.follow_up()
        opened.create(f, "m1")
        opened.list_ours(T0 - timedelta(days=1))  # the sink may remember what it listed
        self.remove(opened, f.uid)
        assert opened.update(replace(f, summary="New"), "m1") is False
        assert dict(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {}

    def test_update_of_a_never_written_uid_is_false(self, opened):
        assert opened.update(self.follow_up(9), "m") is False
        assert dict(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {}

    # -- delete -------------------------------------------------------------------------

    def test_delete(self, opened):
        a, b = self.follow_up(1), self.follow_up(2, start=T0 + timedelta(days=1))
        opened.create(a, "m")
        opened.create(b, "m")
        opened.list_ours(T0 - timedelta(days=1))
        opened.delete(a.uid)
        assert set(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {b.uid}

    def test_delete_of_a_missing_uid_is_fine(self, opened):
        opened.delete("never-was@followup-cal")
        f = self.follow_up()
        opened.create(f, "m")
        opened.list_ours(T0 - timedelta(days=1))
        self.remove(opened, f.uid)
        opened.delete(f.uid)  # listed, then gone: still fine
        assert dict(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {}

    def test_a_deleted_uid_can_be_listed_again_after_create(self, opened):
        f = self.follow_up()
        opened.create(f, "m")
        opened.delete(f.uid)
        if self.tombstones:  # the tombstone holds the uid: "exists", and update revives it
            assert opened.create(f, "m") is False
            assert opened.update(f, "m") is True
        else:
            assert opened.create(f, "m") is True
        assert set(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {f.uid}

    def test_a_deleted_event_is_listed_as_a_tombstone_or_not_at_all(self, opened):
        f, g = self.follow_up(1), self.follow_up(2, start=T0 + timedelta(days=1))
        opened.create(f, "m")
        opened.create(g, "m")
        opened.list_ours(T0 - timedelta(days=1))
        opened.delete(f.uid)
        self.remove(opened, g.uid)  # by the user
        again = self.reopen(opened)
        assert again.open(create=False) is True
        ours = again.list_ours(T0 - timedelta(days=1))
        if self.tombstones:
            assert {u: r.cancelled for u, r in ours.items()} == {f.uid: True, g.uid: True}
            assert again.update(f, "m2") is True  # a listed tombstone comes back
            back = self.live(again.list_ours(T0 - timedelta(days=1)))
            assert set(back) == {f.uid} and back[f.uid].interview_mark == "m2"
        else:
            assert dict(ours) == {}

    # -- since --------------------------------------------------------------------------

    def test_list_since_excludes_events_ending_before(self, opened):
        past = self.follow_up(1, start=T0 - timedelta(days=10))
        ending = self.follow_up(2, start=T0 - timedelta(minutes=10))  # ends 5 minutes after T0
        future = self.follow_up(3, start=T0 + timedelta(days=3))
        for f in (past, ending, future):
            opened.create(f, "m")
        assert set(self.live(opened.list_ours(T0))) == {ending.uid, future.uid}
        assert set(self.live(opened.list_ours(T0 - timedelta(days=30)))) == {
            past.uid, ending.uid, future.uid}

    # -- not ours -----------------------------------------------------------------------

    def test_events_not_ours_are_never_listed_nor_touched(self, opened):
        uid = "dentist-1@example.com"
        self.put_foreign(opened, uid, T0, T0 + timedelta(hours=1), "Dentist")
        before = self.foreign(opened, uid)
        assert before is not None
        assert dict(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {}
        f = self.follow_up(uid=uid)  # even a follow-up that claims its uid
        assert opened.create(f, "m") is False
        assert opened.update(f, "m") is False
        opened.delete(f.uid)
        assert dict(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {}
        assert self.foreign(opened, uid) == before

    # -- content ------------------------------------------------------------------------

    def test_unicode_and_long_descriptions_round_trip(self, opened):
        text = ("Merci à Zoë Ødegård — 面接のお礼 🙏; commas, semicolons; and \\ backslashes\n"
                + "Long line " * 400)
        f = self.follow_up(summary="Remerciements à Zoë (Société Générale) — 面接",
                           description=text)
        assert opened.create(f, "m") is True
        again = self.reopen(opened)
        assert again.open(create=False) is True
        listed = self.live(again.list_ours(T0 - timedelta(days=1)))
        assert listed[f.uid].content_hash == content_hash(f)

    # -- identity (vdirsyncer: test_case_sensitive_uids, test_update_others_stay_the_same) --

    def test_uids_are_case_sensitive_and_may_hold_odd_characters(self, opened):
        upper, lower = self.follow_up(1, uid="AB" * 10 + "@followup-cal"), self.follow_up(
            2, uid="ab" * 10 + "@followup-cal")
        odd = self.follow_up(3, uid="test ät+bar град@followup-cal")
        for f in (upper, lower, odd):
            assert opened.create(f, "m") is True
        assert set(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {
            upper.uid, lower.uid, odd.uid}
        assert opened.update(replace(odd, summary="New"), "m") is True
        opened.delete(upper.uid)
        assert set(self.live(opened.list_ours(T0 - timedelta(days=1)))) == {lower.uid, odd.uid}

    def test_update_and_delete_leave_the_others_alone(self, opened):
        items = [self.follow_up(n, start=T0 + timedelta(hours=n)) for n in range(1, 5)]
        for f in items:
            opened.create(f, "m")
        before = self.live(opened.list_ours(T0 - timedelta(days=1)))
        opened.update(replace(items[0], summary="Changed"), "m")
        opened.delete(items[1].uid)
        after = self.live(opened.list_ours(T0 - timedelta(days=1)))
        assert {u: after[u].content_hash for u in (items[2].uid, items[3].uid)} == {
            u: before[u].content_hash for u in (items[2].uid, items[3].uid)}
