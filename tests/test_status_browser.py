"""The status page in a real browser (issue 15): headless Chromium over the DevTools pipe.

Skipped only when no Chromium is installed and CI is not set; under CI a missing
browser fails (`.ci/run` installs Debian's `chromium`).
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from browser import Browser, colours, find_chromium, png_pixels
from test_status_html import EXAMPLE, LATER, lifecycle

from conftest import ZONE, cli, data


@pytest.fixture(scope="module")
def chromium():
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no Chromium is installed (.ci/run installs `chromium`)")
        pytest.skip("no Chromium on this machine (apt-get install chromium); CI runs this test")
    with Browser(binary) as b:
        yield b


def page_of(tmp_path, now: str) -> tuple:
    out = tmp_path / "status.html"
    r = cli("status", "--html", str(out), "--now", now, "--timezone", ZONE)
    assert r.code == 0, r.err
    rows = cli("status", "--json", "--now", now, "--timezone", ZONE).json()
    return out, rows


@pytest.mark.parametrize("width", [1280, 390])
def test_every_application_and_its_next_step_render_offline(chromium, tmp_path, width):
    lifecycle(tmp_path)  # the example: done, dropped, an offer, a logged call
    r = cli("export", data("lifecycle_tags_in_notes.ics"), "-o", str(tmp_path / "b.ics"),
            "--now", "2026-03-04T09:00", "--timezone", ZONE)  # four more, with tags
    assert r.code == 0, r.err
    out, rows = page_of(tmp_path, LATER)
    assert len(rows) == 6
    shot = chromium.render(out, width)
    assert shot.errors == []
    assert shot.requests == [out.resolve().as_uri()]  # the document, and nothing else
    assert shot.width <= width  # nothing sticks out sideways, even on a phone
    for row in rows:
        assert row["company"] in shot.text
        if row["next"]:
            start = datetime.fromisoformat(row["next"]["start"])
            assert f"{start:%a %Y-%m-%d %H:%M}" in shot.text
            summary = next(s["summary"] for s in row["timeline"]
                           if s["start"] == row["next"]["start"] and s["state"] == "planned")
            assert summary.removesuffix(f" — {row['company']}") in shot.text
    assert any(row["next"] for row in rows)
    assert "Held" in shot.text and "Dropped" in shot.text and "Today" in shot.text
    # the picture is a page, not a blank: many colours, and no one colour is nearly all
    found = colours(shot.png)
    assert len(found) > 50
    assert max(found.values()) / sum(found.values()) < 0.9
    w, h, _ = png_pixels(shot.png)
    assert w == width and h > 900


def test_the_examples_page_renders_at_both_widths(chromium, tmp_path):
    r = cli("export", EXAMPLE, "-o", str(tmp_path / "f.ics"), "--now", "2026-12-01T08:00",
            "--timezone", ZONE)
    assert r.code == 0, r.err
    out, rows = page_of(tmp_path, "2026-12-01T08:00")
    for width in (1280, 390):
        shot = chromium.render(out, width)
        assert shot.errors == [] and len(shot.requests) == 1
        assert all(row["company"] in shot.text for row in rows)
