"""E-mail out: an SMTP relay in production, a sandbox directory of ``.eml`` files by default.

Both key a message by its Message-ID: the sandbox stores one file per Message-ID (a second send
of the same message replaces the file rather than adding one), and a relay or the recipient's
server can recognise the duplicate that a crash between sending and recording may cause.

Failures are sorted for the caller: ``MailDeferredError`` (the relay is unreachable, times out or
answers 4xx: worth another try) and ``MailRefusedError`` (5xx, a refused recipient: retrying would
not help, a person must look).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from infra.settings import Settings

_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


class MailDeferredError(RuntimeError):
    """The message was not accepted this time; another try may succeed."""


class MailRefusedError(RuntimeError):
    """The message was refused for good."""


class Mailer(Protocol):
    """A way out for e-mail: ``str(mailer)`` names it in delivery records."""

    def send(self, message: EmailMessage) -> None: ...


class SandboxMailer:
    """Writes each message to ``<dir>/<message id>.eml``, atomically, once per Message-ID."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __str__(self) -> str:
        return f"sandbox:{self.directory}"

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._@-]", "_", str(message["Message-ID"]).strip("<>"))
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.directory / f"{name}.eml")


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool,
        username: str | None,
        password: str | None,
        timeout: float,
    ) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout

    def __str__(self) -> str:
        return f"smtp:{self.host}:{self.port}"

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # Reported by reply code only: these messages reach logs and notice histories, and
            # the addresses are on record with the company already.
            codes = sorted(code for code, _ in exc.recipients.values())
            text = f"{self}: {len(codes)} recipient(s) answered {codes}"
            if all(400 <= code < 500 for code in codes):
                raise MailDeferredError(text) from exc
            raise MailRefusedError(text) from exc
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            error = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
            # Servers quote the address they refuse; the code and the reason are what matter.
            text = f"{self}: {exc.smtp_code} {_ADDRESS.sub('<address>', error)}"
            if 400 <= exc.smtp_code < 500:
                raise MailDeferredError(text) from exc
            raise MailRefusedError(text) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Disconnected, unreachable, timed out, TLS failed: the relay may be back soon.
            raise MailDeferredError(f"{self}: {type(exc).__name__}: {exc}") from exc


def mailer_from(settings: Settings) -> Mailer:
    if not settings.smtp_host:
        return SandboxMailer(settings.mail_sandbox_path)
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout=settings.smtp_timeout_seconds,
    )
