"""A local HTTP receiver standing in for an integrator's endpoint."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.conftest import client_for  # noqa: F401 - re-exported for the tests
from tests.celery_worker import celery_worker_process  # noqa: F401 - a fixture
from tests.channels.conftest import _clean_channel_redis, bcom, listing  # noqa: F401 - fixtures


@dataclass
class Received:
    headers: dict
    body: bytes
    answered: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    fail_first: int = 0  # per message id: answer 500 to its first N attempts
    always_fail: bool = False
    requests: list[Received] = field(default_factory=list)
    _seen: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_for(self, message_id: str) -> int:
        with self.lock:
            n = self._seen.get(message_id, 0)
            self._seen[message_id] = n + 1
        if self.always_fail or n < self.fail_first:
            return 500
        return 204

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in list(self.requests) if r.json.get("type") == event_type]

    def wait_for(self, predicate, *, seconds: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [r for r in list(self.requests) if predicate(r)]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"nothing matching arrived in {seconds} s; got {[r.json.get('type') for r in self.requests]}"
        )


@pytest.fixture
def receiver():
    recv = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = recv.answer_for(self.headers.get("webhook-id", ""))
            recv.requests.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recv.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/pms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recv
    server.shutdown()
    server.server_close()
