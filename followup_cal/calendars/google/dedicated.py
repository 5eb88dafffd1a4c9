"""The dedicated "Interview follow-ups" calendar: found, or made once.

It is found by listing the user's calendars (the calendar.calendarlist.readonly
scope) and created only when that listing proves it missing; a 404 on the
recorded one is confirmed, backing off, first. A mixin of the Google sink.
"""

from __future__ import annotations

import contextlib
import random
import secrets

from . import client as _client
from .auth import RUN_AUTH, AuthError
from .client import NOT_FOUND_TRIES, RATE_REASONS, SCOPE_REASONS, http_reasons, http_status
from .events import MARKER_KEY, MARKER_VALUE

CALENDAR_NAME = "Interview follow-ups"
CALENDAR_STATE = "google_calendar_id"  # ledger state: the dedicated calendar's id


class Dedicated:
    """Find, create or replace the dedicated calendar (needs client, ledger, settings,
    dry_run, target_arg and result)."""

    def _find_dedicated(self, nonce: str | None = None) -> list[str]:
        """Our calendar(s) in the calendar list (raises when it cannot be listed)."""
        mine = [c for c in self.client.calendar_list()
                if c.get("summary") == CALENDAR_NAME and c.get("accessRole") == "owner"
                and not c.get("deleted")
                and (nonce is None or nonce in (c.get("description") or ""))]
        return sorted(c["id"] for c in mine)

    def _create_dedicated(self) -> str:
        """calendars.insert, made safe to repeat.

        Its id is chosen by Google, and httplib2 silently re-sends a request
        whose connection dropped, POSTs included: one attempt can make two
        calendars. So the description carries a fresh token; after creating,
        the calendar list shows every calendar this attempt made, one is kept
        and the empty extras are deleted (app-created calendars may be).
        """
        from googleapiclient.errors import HttpError

        nonce = secrets.token_hex(8)
        body = {"summary": CALENDAR_NAME, "timeZone": self.settings.timezone,
                "description": "Follow-ups after job interviews, written by followup-cal "
                               "(`followup-cal sync`); events here are rewritten on each sync. "
                               f"[followup-cal {nonce}]"}
        attempts = max(1, self.client.retries + 1)
        chosen = None
        for attempt in range(attempts):
            try:
                chosen = self.client.run(
                    self.client.service.calendars().insert(body=body), retries=0)["id"]
                break
            except HttpError as exc:
                status, reasons = http_status(exc), http_reasons(exc)
                if status == 403 and any(r in SCOPE_REASONS for r in reasons):
                    raise AuthError(
                        f"creating the calendar {CALENDAR_NAME!r} needs the calendar.app.created "
                        f"permission: {RUN_AUTH} again, or pass --target primary") from None
                transient = status is not None and (
                    status >= 500 or status == 429
                    or (status == 403 and any(r in RATE_REASONS for r in reasons)))
                if not transient or attempt == attempts - 1:
                    raise
            except OSError:  # dropped connection, timeout: it may have landed
                if attempt == attempts - 1:
                    raise
            self.client.forget_calendar_list()
            found = self._find_dedicated(nonce)  # the failed attempt may have landed
            if found:
                chosen = found[0]
                break
            _client.SLEEP(random.random() * 2 ** (attempt + 1))
        assert chosen is not None
        self.ledger.set_state(CALENDAR_STATE, chosen)  # before anything else can fail
        with contextlib.suppress(HttpError, OSError):
            self.client.forget_calendar_list()
            for extra in self._find_dedicated(nonce):
                if extra != chosen:
                    self.client.run(self.client.service.calendars().delete(calendarId=extra))
        return chosen

    def _keep_one(self, ids: list[str]) -> str:
        """Several calendars of ours and none recorded: a run was killed after a re-sent
        calendars.insert had made two, before it could delete the extra. Keep the one
        with our events in it (else the first); delete the empty ones we made."""
        from googleapiclient.errors import HttpError

        def has_events(calendar_id: str) -> bool:
            for _page, _item in self.client.events(
                    calendar_id, privateExtendedProperty=f"{MARKER_KEY}={MARKER_VALUE}",
                    showDeleted=True, maxResults=1):
                return True
            return False

        used = [cid for cid in ids if has_events(cid)]
        keep = (used or ids)[0]
        made_by_us = {c.get("id") for c in self.client.calendar_list()
                      if "[followup-cal " in (c.get("description") or "")}
        for cid in ids:
            if cid != keep and cid not in used and cid in made_by_us:
                with contextlib.suppress(HttpError, OSError):
                    self.client.run(self.client.service.calendars().delete(calendarId=cid))
        self.client.forget_calendar_list()
        return keep

    def _cannot_list(self) -> AuthError:
        from .auth import CALENDARLIST_SCOPE, missing_message

        return AuthError(f"cannot tell whether {CALENDAR_NAME!r} exists already, so none is "
                         "created; " + missing_message({CALENDARLIST_SCOPE}))

    def calendar(self, gone: str | None = None) -> str | None:
        """The calendar to write to; the dedicated one is found by listing the user's
        calendars, and created only when the listing proves there is none."""
        if self.target_arg:
            return self.target_arg
        known = self.ledger.get_state(CALENDAR_STATE)
        if known:
            return known
        if not self.client.can_list:
            raise self._cannot_list()  # a token saved before this scope was asked for
        mine = [c for c in self._find_dedicated() if c != gone]
        if len(mine) > 1 and not self.dry_run:
            found = self._keep_one(mine)
        else:
            found = next(iter(mine), None)
        if not found and self.dry_run:
            return None
        if not found:
            found = self._create_dedicated()
            self.result.calendar_created = True
        self.ledger.set_state(CALENDAR_STATE, found)
        return found

    def _calendar_exists(self, calendar_id: str) -> bool:
        """Confirm a 404: calendars.get, then calendarList.get, backing off between tries
        (Google's errors guide: a 404 can pass while a change spreads)."""
        from googleapiclient.errors import HttpError

        usable = [self.client.service.calendars(), self.client.service.calendarList()]
        misses = 0
        while misses < NOT_FOUND_TRIES:
            if not usable:  # the token may use neither: it cannot be proved missing
                raise self._cannot_list()
            getter = usable[misses % len(usable)]
            try:
                self.client.run(getter.get(calendarId=calendar_id))
                return True
            except HttpError as exc:
                status = http_status(exc)
                if status == 403 and any(r in SCOPE_REASONS for r in http_reasons(exc)):
                    usable.remove(getter)
                    continue
                if status not in (404, 410):
                    raise
            misses += 1
            if misses < NOT_FOUND_TRIES:
                _client.SLEEP(random.random() + 2 ** misses)
        return False
