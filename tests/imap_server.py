"""A real IMAP server for the mail tests: pymap's in-memory `dict` backend on
127.0.0.1 in a subprocess (REFERENCE.md "Mail"), one user, no demo messages.

The tests put messages in with APPEND and read flags back over their own
connection, the way any mail client would.
"""

from __future__ import annotations

import imaplib
import os
import socket
import ssl
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


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (openssl), for STARTTLS tests."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class IMAPServer:
    """pymap on a free port; with `cert` (cert, key) it offers STARTTLS and, like any
    server with TLS, takes no password before it."""

    def __init__(self, cert: tuple[Path, Path] | None = None) -> None:
        self.port = free_port()
        self.cert = cert
        pymap = Path(sys.executable).with_name("pymap")
        tls = ["--cert", str(cert[0]), "--key", str(cert[1])] if cert else ["--no-tls"]
        self.proc = subprocess.Popen(
            [str(pymap), "--host", "127.0.0.1", "--port", str(self.port), *tls, "dict",
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
        if self.cert:
            conn.starttls(ssl_context=ssl.create_default_context(cafile=str(self.cert[0])))
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
