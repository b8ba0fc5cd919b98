"""The platform's account service as docs/platform-delivery.md describes it, on loopback: it
checks each webhook request's signature and timestamp, applies each item once by its key, and
can be told to misbehave. The sink tests and the enforcement integration tests deliver to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from infra.webhook import SignatureError, verify

SECRET = "s3cret-shared-with-the-platform"


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The platform's account service, as the contract describes it: it checks the signature
    and the timestamp, applies each item once by its key, and can be told to misbehave."""

    url: str = ""
    clock_offset: float = 0.0  # added to the receiver's clock: a request arriving late
    unavailable: int = 0  # answer 503 to this many requests
    retry_after: str | None = None  # with this Retry-After
    refused: set[str] = field(default_factory=set)  # item keys answered with 400
    requests: list[Request] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # item keys, each once
    items: list[dict[str, Any]] = field(default_factory=list)  # the items applied
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.requests.append(Request(headers, body))
            if self.unavailable:
                self.unavailable -= 1
                extra = {"Retry-After": self.retry_after} if self.retry_after else {}
                return 503, extra, b"restarting"
            try:
                verify(
                    SECRET,
                    headers.get("x-bulkguard-timestamp"),
                    body,
                    headers.get("x-bulkguard-signature"),
                    now=time.time() + self.clock_offset,
                )
            except SignatureError as exc:
                return 401, {}, str(exc).encode()
            items = orjson.loads(body)["items"]
            refused = sorted(self.refused & {item["idempotency_key"] for item in items})
            if refused:
                return 400, {}, f"unknown accounts: {', '.join(refused)}".encode()
            fresh = [i for i in items if i["idempotency_key"] not in self.applied]
            self.applied.extend(i["idempotency_key"] for i in fresh)
            self.items.extend(fresh)
            return 200, {}, orjson.dumps({"applied": len(fresh)})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the sink reuses its connection
    server: Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, answer = self.server.receiver.handle(headers, body)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows what a failing test needs


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.receiver = receiver


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = Server(receiver)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/bulkguard/actions"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
