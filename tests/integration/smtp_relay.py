"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts: the relay legal workers
e-mail notices through in the tests (the ``relay`` fixture of tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """An SMTP handler that keeps what it accepts, after deferring the first ``defer`` tries."""

    defer: int = 0
    messages: list[bytes] = field(default_factory=list)
    deferred: int = 0

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0)
        if self.deferred < self.defer:
            self.deferred += 1
            return "451 4.3.0 try again later"
        self.messages.append(envelope.content)
        return "250 OK"


@dataclass
class Relay:
    inbox: Inbox
    env: dict[str, str]  # what a worker's environment needs to send through it


@contextmanager
def relays() -> Iterator[Callable[[int], Relay]]:
    """Start relays on free loopback ports (each deferring its first ``defer`` messages);
    all stopped on leaving."""
    controllers: list[Controller] = []

    def _start(defer: int = 0) -> Relay:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        inbox = Inbox(defer=defer)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        env = {
            "BULKGUARD_SMTP_HOST": "127.0.0.1",
            "BULKGUARD_SMTP_PORT": str(port),
            "BULKGUARD_SMTP_STARTTLS": "false",
        }
        return Relay(inbox, env)

    try:
        yield _start
    finally:
        for controller in controllers:
            controller.stop()
