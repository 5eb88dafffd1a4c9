"""Calendar files (.ics exports, `-` for stdin) as a Source.

The reading itself is `followup_cal.ics` (decoding, the pre-filter,
recurrences); this class only gives it the Source shape the pipeline reads
through. All the files are one source, so that the calendar names they carry
(a Google export's X-WR-CALNAME: the user's address) count for every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .base import Reading

if TYPE_CHECKING:
    from ..config import Settings
    from ..detect import Window


@dataclass(frozen=True)
class IcsFiles:
    paths: Sequence[str]
    prefilter: bool | None = None  # None: followup_cal.prefilter.ENABLED

    @property
    def name(self) -> str:
        return "ics:" + ",".join(self.paths)

    def read(self, window: Window, settings: Settings) -> Reading:
        """Occurrences in the window; the pre-filter first cuts the text down to
        what can matter, so a ten-year export parses fast."""
        from .. import ics, prefilter
        from ..detect import Detector

        reading = ics.Reading()
        keep = Detector.build(settings, ()).is_interview_summary
        events = []
        for path in self.paths:
            if prefilter.ENABLED if self.prefilter is None else self.prefilter:
                # busy times only matter from now on (slots are never in the past),
                # interviews from the start of the interview window; the bytes go
                # straight in, so that filtered_text can drop them before scanning
                text = ics.filtered_text(ics.read_bytes(path), keep, window.busy_start,
                                         window.busy_end, since=window.start)
            else:
                text = ics.decode(ics.read_bytes(path))
            cals = ics.parse_calendars(text, path)
            del text  # the whole file: free it before the calendars are expanded
            for cal in cals:
                cal, zones = ics.prepare(cal, settings, reading, path)
                events.extend(ics.to_events(cal, zones, window, reading, path, keep))
        return Reading(tuple(events), frozenset(reading.calnames), tuple(reading.warnings))
