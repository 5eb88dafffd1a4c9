"""Headless Chromium driven over the DevTools protocol, for the status page (issue 15).

`--remote-debugging-pipe`: Chromium reads commands on fd 3 and writes on fd 4,
NUL-separated JSON. No port, no websocket library, no browser download.
Flags as REFERENCE.md and the machine notes give them: without the
background-networking ones Chromium tries Google's hosts at every start.

Run as a script to redraw the README's picture:
    python tests/browser.py PAGE.html OUT.png [WIDTH]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Rendered:
    text: str  # document.body.innerText
    png: bytes  # the whole page
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, log errors
    width: int = 0  # the page's own width in CSS px (wider than the window = scrolls sideways)
    probes: dict = field(default_factory=dict)  # expression → value, on screen
    printed: dict = field(default_factory=dict)  # expression → value, as printed
    pdf: bytes = b""


class Browser:
    """One Chromium process; `render` opens a page in a new tab at a given width."""

    def __init__(self, binary: str, timeout: float = 30.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="followup-cal-chromium-")
        to_child, self._send = os.pipe()
        self._recv, from_child = os.pipe()

        def fds() -> None:  # the child's fd 3 and 4, as the pipe mode wants them
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=True, pass_fds=(3, 4))
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._send, self._recv):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the protocol -----------------------------------------------------------------

    def _read(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._recv], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._recv, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium exited (code {self.proc.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    # -- a page -----------------------------------------------------------------------

    def render(self, page: Path, width: int, height: int = 900, probes: tuple[str, ...] = (),
               printed: tuple[str, ...] = ()) -> Rendered:
        """Load `page` at `width`; `probes` are evaluated on screen, `printed` with the
        print style sheet, after which the page is printed to PDF too."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Network", "Log"):
                self.call(f"{domain}.enable", session)
            self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                      deviceScaleFactor=1, mobile=width < 600)
            self.events.clear()
            self.call("Page.navigate", session, url=page.resolve().as_uri())
            self.wait_for("Page.loadEventFired", session)
            text = self._eval(session, "document.body.innerText")
            page_width = self._eval(session, "document.documentElement.scrollWidth")
            size = self.call("Page.getLayoutMetrics", session)["cssContentSize"]
            shot = self.call("Page.captureScreenshot", session, format="png",
                             captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": width,
                                   "height": max(height, size["height"]), "scale": 1})
            import base64

            on_screen = {e: self._eval(session, e) for e in probes}
            as_printed, pdf = {}, b""
            if printed:
                self.call("Emulation.setEmulatedMedia", session, media="print")
                as_printed = {e: self._eval(session, e) for e in printed}
                pdf = base64.b64decode(self.call("Page.printToPDF", session)["data"])
            return Rendered(text, base64.b64decode(shot["data"]), *self._observed(session),
                            width=page_width, probes=on_screen, printed=as_printed, pdf=pdf)
        finally:
            self.call("Target.closeTarget", targetId=target)

    def _eval(self, session: str, expression: str):
        result = self.call("Runtime.evaluate", session, expression=expression,
                           returnByValue=True)
        return result["result"].get("value")

    def _observed(self, session: str) -> tuple[list[str], list[str]]:
        requests, errors = [], []
        for e in self.events:
            if e.get("sessionId") != session:
                continue
            method, params = e.get("method"), e.get("params", {})
            if method == "Network.requestWillBeSent":
                requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                 "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description")))
                                       for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:300])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"].get("text", ""))
        return requests, errors


# -- reading the screenshot back (PNG, stdlib only) --------------------------------------


def png_pixels(data: bytes, most: int | None = None) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG: the first
    `most` rows only, if given (pure Python: a tall page takes seconds)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and not interlace, header
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(min(height, most or height)):
        at = y * (stride + 1)
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def colours(data: bytes, step: int = 3, most: int = 900) -> dict[bytes, int]:
    """How often each colour occurs in the first `most` rows (the first screen),
    sampling every `step`-th pixel of every `step`-th row."""
    width, _height, rows = png_pixels(data, most)
    bpp = len(rows[0]) // width
    seen: dict[bytes, int] = {}
    for row in rows[::step]:
        for x in range(0, width, step):
            px = row[x * bpp:x * bpp + 3]
            seen[px] = seen.get(px, 0) + 1
    return seen


if __name__ == "__main__":  # pragma: no cover - the README's picture
    page, out = Path(sys.argv[1]), Path(sys.argv[2])
    wide = int(sys.argv[3]) if len(sys.argv) > 3 else 1280
    binary = find_chromium()
    if binary is None:
        sys.exit("no chromium on this machine")
    with Browser(binary) as b:
        shot = b.render(page, wide, 700)
    out.write_bytes(shot.png)
    print(f"{out}: {len(shot.png)} bytes; requests {shot.requests}; errors {shot.errors}")
