"""A small threaded HTTP proxy that counts requests by method and injects faults.

Faults come from a script (`proxy.script("PUT", "drop_after")`: the next PUT gets
it) or at random (`proxy.chaos(0.2, seed=7)`); fixed answers per method
(`proxy.answers["MKCALENDAR"] = 405`, or "METHOD text" for requests whose body has
the text) stand in for servers that lack a feature.

Faults: "500", "503", "429" (with Retry-After: `retry_after`), "drop_before" (the
connection closes before the request is forwarded), "drop_after" (forwarded, the
server acted, the answer is lost), "slow" (the answer comes after `slow_seconds`).
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = ("500", "503", "429", "drop_before", "drop_after")


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.answers: dict[str, int] = {}
        self.retry_after = "1"
        self.slow_seconds = 1.0
        self._script: dict[str, deque[str]] = defaultdict(deque)
        self._rate = 0.0
        self._random = random.Random(0)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def script(self, method: str, *faults: str) -> None:
        with self._lock:
            self._script[method].extend(faults)

    def chaos(self, rate: float, seed: int = 0) -> None:
        with self._lock:
            self._rate, self._random = rate, random.Random(seed)

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.faults.clear()
            self.answers.clear()
            self._script.clear()
            self._rate = 0.0

    def total(self) -> int:
        return sum(self.counts.values())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault(self, method: str) -> str | None:
        with self._lock:
            self.counts[method] += 1
            if self._script[method]:
                fault = self._script[method].popleft()
            elif self._rate and self._random.random() < self._rate:
                fault = self._random.choice(FAULTS)
            else:
                return None
            self.faults[fault] += 1
            return fault

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once

            def log_message(self, *args) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                method = self.command
                fault = proxy._fault(method)
                for key, status in list(proxy.answers.items()):
                    wanted, _, needle = key.partition(" ")
                    if wanted == method and needle.encode() in body:
                        return self._answer(status, b"", {})
                if fault == "drop_before":
                    return self._drop()
                if fault in ("500", "503"):
                    return self._answer(int(fault), b"injected", {})
                if fault == "429":
                    return self._answer(429, b"slow down", {"Retry-After": proxy.retry_after})
                status, headers, answer = self._forward(method, body)
                if fault == "drop_after":
                    return self._drop()
                if fault == "slow":
                    time.sleep(proxy.slow_seconds)
                self._answer(status, answer, headers)

            def _forward(self, method: str, body: bytes):
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "host")}
                conn.request(method, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                keep = {k: v for k, v in r.getheaders()
                        if k.lower() not in ("connection", "transfer-encoding",
                                             "content-length", "keep-alive")}
                conn.close()
                return r.status, keep, data

            def _answer(self, status: int, body: bytes, headers: dict) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = do_PUT = do_DELETE = do_POST = do_HEAD = do_OPTIONS = _any

            def __getattr__(self, name: str):
                if name.startswith("do_"):  # PROPFIND, REPORT, MKCALENDAR, ...
                    return self._any
                raise AttributeError(name)

        return Handler
