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

# Structure a screen reader relies on, read from the rendered page.
PROBES = (
    "document.querySelectorAll('h1').length",
    "document.querySelectorAll('header.page, nav, main, footer').length",
    "[...document.querySelectorAll('article')].every(a => "
    "document.getElementById(a.getAttribute('aria-labelledby'))?.tagName === 'H2')",
    # every mark drawn on a timeline is hidden from assistive technology…
    "[...document.querySelectorAll('.mark, .track')].every(m => "
    "m.closest('[aria-hidden=true]'))",
    # …and every step in the list says its state in words, not only in colour
    "[...document.querySelectorAll('li.step')].every(li => "
    "li.querySelector('.state').innerText.trim().length > 2)",
    "document.querySelectorAll('li.step').length",
)
PRINTED = ("getComputedStyle(document.querySelector('nav')).display",
           "getComputedStyle(document.querySelector('article')).breakInside")


@pytest.fixture(scope="module")
def chromium():
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no Chromium is installed (.ci/run installs `chromium`)")
        pytest.skip("no Chromium on this machine (apt-get install chromium); CI runs this test")
    with Browser(binary) as b:
        yield b


def status_page(folder, now: str) -> tuple:
    out = folder / "status.html"
    r = cli("status", "--html", str(out), "--now", now, "--timezone", ZONE)
    assert r.code == 0, r.err
    rows = cli("status", "--json", "--now", now, "--timezone", ZONE).json()
    return out, rows


@pytest.fixture(scope="module")
def six(tmp_path_factory):
    """The example after an offer and a call, and four applications from March with tags."""
    folder = tmp_path_factory.mktemp("six")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FOLLOWUP_CAL_HOME", str(folder / "home"))
        lifecycle(folder)
        r = cli("export", data("lifecycle_tags_in_notes.ics"), "-o", str(folder / "b.ics"),
                "--now", "2026-03-04T09:00", "--timezone", ZONE)
        assert r.code == 0, r.err
        return status_page(folder, LATER)


@pytest.mark.parametrize("width", [1280, 390])
def test_every_application_and_its_next_step_render_offline(chromium, six, width):
    out, rows = six
    assert len(rows) == 6
    shot = chromium.render(out, width, probes=PROBES, printed=PRINTED)
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
    assert list(shot.probes.values()) == [1, 4, True, True, True,
                                          sum(len(r["timeline"]) for r in rows)]
    # printed: no navigation, no card split across pages, and it does print
    assert list(shot.printed.values()) == ["none", "avoid"]
    assert shot.pdf.startswith(b"%PDF") and shot.pdf.count(b"/Type /Page") >= 2
    # the picture is a page, not a blank: many colours, and no one colour is nearly all
    found = colours(shot.png)
    assert len(found) > 50
    assert max(found.values()) / sum(found.values()) < 0.9
    w, h, _ = png_pixels(shot.png, most=1)
    assert w == width and h > 900


def test_the_examples_page_renders_at_both_widths(chromium, tmp_path):
    r = cli("export", EXAMPLE, "-o", str(tmp_path / "f.ics"), "--now", "2026-12-01T08:00",
            "--timezone", ZONE)
    assert r.code == 0, r.err
    out, rows = status_page(tmp_path, "2026-12-01T08:00")
    for width in (1280, 390):
        shot = chromium.render(out, width)
        assert shot.errors == [] and len(shot.requests) == 1
        assert all(row["company"] in shot.text for row in rows)
