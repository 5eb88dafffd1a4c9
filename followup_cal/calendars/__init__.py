"""Calendar services, one module each, found through a lazy registry.

The registry holds "module:Class" strings, not classes, so that `--help` and
`.ics` runs import no remote service's client (vdirsyncer's storage index).
A new service is one module here and one line below.
"""

from __future__ import annotations

import importlib

KINDS: dict[str, str] = {
    "caldav": "followup_cal.calendars.caldav:CalDAVCalendar",
    "google": "followup_cal.calendars.google:GoogleCalendar",
}


def load(kind: str):
    """The class for a `[calendars.NAME] type`; KeyError for an unknown kind."""
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)
