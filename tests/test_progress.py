"""A progress line on long work (issue 15): on a terminal only, never under cron or
with `--json`, and never for work quicker than `PROGRESS_DELAY`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from followup_cal.views import reading_message, size_text

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "calendar.ics")
NOW = ("--now", "2026-12-01T08:00", "--timezone", "America/New_York")

# The real entry point, with the delay set to nothing so the spinner shows at once,
# and the modules loaded printed at the end.
RUN = """
import json, sys
from followup_cal import views
views.PROGRESS_DELAY = float(sys.argv[1])
from followup_cal.cli import cli
try:
    cli(sys.argv[2:], prog_name="followup-cal")
except SystemExit:
    pass
print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def run(*args: str, tty: bool, delay: float = 0.0) -> tuple[str, set[str]]:
    """stderr of one run, through a terminal or a pipe, and the modules it loaded."""
    cmd = [sys.executable, "-c", RUN, str(delay), *args]
    if tty:
        import pty

        main, child = pty.openpty()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=child)
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        os.close(main)
        err = b"".join(chunks).decode("utf-8", "replace")
    else:
        err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, timeout=60).stderr
    marker = [line for line in err.splitlines() if line.startswith("MODULES ")]
    assert marker, err
    return err, set(json.loads(marker[-1][len("MODULES "):]))


@pytest.fixture
def out(tmp_path) -> str:
    return str(tmp_path / "followups.ics")


def test_a_terminal_sees_the_file_and_its_size(out):
    err, modules = run("export", EXAMPLE, "-o", out, *NOW, tty=True)
    size = size_text(os.path.getsize(EXAMPLE))
    assert f"Reading calendar.ics ({size})" in err
    assert "rich" in modules


def test_nothing_without_a_terminal(out):
    """cron: stderr is a file or a pipe; not a byte of the progress line, rich not loaded."""
    err, modules = run("export", EXAMPLE, "-o", out, *NOW, tty=False)
    assert "Reading" not in err and "\x1b[" not in err
    assert "rich" not in modules


def test_nothing_with_json_even_on_a_terminal():
    err, modules = run("plan", "--json", "--ics", EXAMPLE, *NOW, tty=True)
    assert "Reading" not in err and "\x1b[?25l" not in err  # no spinner hiding the cursor
    assert "rich" not in modules


def test_nothing_when_the_work_is_quick(out):
    err, modules = run("export", EXAMPLE, "-o", out, *NOW, tty=True, delay=30)
    assert "Reading" not in err
    assert "rich" not in modules


def test_the_message():
    assert size_text(532) == "532 bytes"
    assert size_text(55_712_000) == "55.7 MB"
    assert reading_message(["-"]) == "Reading standard input…"
    assert reading_message([EXAMPLE, "/no/such.ics"]).startswith("Reading calendar.ics, such.ics (")
