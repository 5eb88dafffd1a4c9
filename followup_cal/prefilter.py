"""Moved to followup_cal.calendars.prefilter (issue 13); this name stays for old imports.

The old module name is the new module itself (not a copy), so patching an
attribute here (prefilter.ENABLED, say) patches it there.
"""

import sys

from .calendars import prefilter as _moved

sys.modules[__name__] = _moved
