"""A webhook receiver for tests: a real HTTP server on a loopback port (a thread of the test process) that
checks each POST's Standard Webhooks signature with ``standardwebhooks.Webhook(secret).verify``, records it,
and answers the status the test chose for its path (200 unless told otherwise). ``stop()`` closes the
port (connections are refused, as for a receiver that is down); ``Receiver(port=...)`` listens again."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    verified: bool
    payload: Any = None
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # listen again on the port of a receiver that was stopped
    daemon_threads = True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.secrets: dict[str, bytes] = {}  # path → the webhook's secret
        self.answers: dict[str, list[int]] = {}  # path → statuses to answer in turn (the last one repeats)
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                status = owner.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"no")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        from standardwebhooks import Webhook

        secret = self.secrets.get(path)
        verified, payload = False, None
        if secret is not None:
            try:
                payload = Webhook(secret).verify(body, headers)
                verified = True
            except Exception:  # noqa: BLE001 - any refusal of the signature is recorded as unverified
                verified = False
        with self.lock:
            self.received.append(Received(path, headers, body, verified, payload or _json(body)))

    def answer(self, path: str) -> int:
        with self.lock:
            queue = self.answers.get(path) or [200]
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait(self, path: str, count: int = 1, timeout: float = 60.0, what=None) -> list[Received]:
        """The requests to ``path`` once ``count`` of them (matching ``what(payload)``) have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.at(path) if what is None or what(r.payload)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path}: {count} request(s) expected, got {[r.payload for r in self.at(path)]}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
