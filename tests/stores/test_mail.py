"""The SMTP mailer against a real SMTP server on loopback (aiosmtpd): accepted, deferred (4xx,
unreachable) and refused (5xx) are told apart, and no address appears in what is reported."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from infra.mail import MailDeferredError, MailRefusedError, SmtpMailer

ADDRESS = "legal@acmereach.sk"


@dataclass
class Server:
    """Answers RCPT with ``rcpt_reply`` (or accepts), and keeps what DATA delivers."""

    rcpt_reply: str | None = None
    received: list[bytes] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[tuple[Server, int]]:
    handler, port = Server(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def mailer(port: int) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", port, starttls=False, username=None, password=None, timeout=5)


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Message-ID"] = "<BG-2026-000001.r1@bulkguard.invalid>"
    mail["From"] = "legal-notices@bulkguard.invalid"
    mail["To"] = ADDRESS
    mail["Subject"] = "Notice BG-2026-000001"
    mail.set_content("text")
    return mail


def test_an_accepted_message_arrives(server: tuple[Server, int]) -> None:
    handler, port = server
    mailer(port).send(message())
    (received,) = handler.received
    assert b"BG-2026-000001.r1@bulkguard.invalid" in received


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.2.1 {address}: mailbox busy, try later", MailDeferredError),
        ("550 5.1.1 <{address}>: recipient address rejected", MailRefusedError),
    ],
)
def test_a_reply_code_decides_between_retry_and_refusal(
    server: tuple[Server, int], reply: str, error: type[Exception]
) -> None:
    handler, port = server
    handler.rcpt_reply = reply
    with pytest.raises(error) as raised:
        mailer(port).send(message())
    assert reply[:3] in str(raised.value)
    assert ADDRESS not in str(raised.value)
    assert handler.received == []


def test_an_unreachable_relay_defers() -> None:
    with pytest.raises(MailDeferredError, match="ConnectionRefusedError"):
        mailer(free_port()).send(message())
