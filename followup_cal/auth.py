"""Moved to followup_cal.calendars.google.auth (issue 13); this name stays for old imports.

The old module name is the new module itself (not a copy), so patching an
attribute here patches it there.
"""

import sys

from .calendars.google import auth as _moved

sys.modules[__name__] = _moved
