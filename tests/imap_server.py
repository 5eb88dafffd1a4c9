"""A real IMAP server for the mail tests: pymap's in-memory `dict` backend on
127.0.0.1 in a subprocess (REFERENCE.md "Mail"), one user, no demo messages.

The tests put messages in with APPEND and read flags back over their own
connection, the way any mail client would.
"""

from __future__ import annotations

import imaplib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

USER = "sam.carter@gmail.com"
PASSWORD = "imap-s3cret-Pa55word"  # the tests check it never shows up in any output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IMAPServer:
    def __init__(self) -> None:
        self.port = free_port()
        pymap = Path(sys.executable).with_name("pymap")
        self.proc = subprocess.Popen(
            [str(pymap), "--host", "127.0.0.1", "--port", str(self.port), "--no-tls", "dict",
             "--demo-user", USER, "--demo-password", PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client = self._login()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("pymap did not start") from None
                time.sleep(0.05)

    def _login(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def append(self, raw: bytes, arrived: str, folder: str = "INBOX") -> None:
        """`arrived`: the INTERNALDATE, e.g. "03-Dec-2026 15:00:00 +0000"."""
        if folder != "INBOX":
            self.client.create(folder)  # NO when it exists: fine
        typ, data = self.client.append(folder, None, f'"{arrived}"', raw)
        assert typ == "OK", data

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        """Every message's flags, in order (a read-only look)."""
        typ, _ = self.client.select(folder, readonly=True)
        assert typ == "OK"
        typ, data = self.client.fetch("1:*", "(FLAGS)")
        return sorted(d for d in data if d)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class SilentServer:
    """Accepts connections and never says a word: a server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for c in self.held:
            c.close()


def message(sender: str, date: str | None, mid: str | None, subject: str = "Re: Thank you",
            extra: tuple[str, ...] = ()) -> bytes:
    lines = [f"From: {sender}", "To: Sam Carter <sam.carter@gmail.com>", f"Subject: {subject}"]
    lines += [f"Date: {date}"] if date else []
    lines += [f"Message-ID: {mid}"] if mid else []
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\nThanks, we'll be in touch next week.\r\n").encode()
