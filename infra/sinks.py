"""Receivers outside bulkguard: the platform's enforcement endpoint and the legal mailbox.

The embedded default appends JSON lines to a file under the data directory, one write per batch
under an exclusive lock, so several worker processes can deliver to it at once. Every line carries
its idempotency key, so a receiver can drop the duplicate that at-least-once delivery may send.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

from infra.settings import Settings


class Sink(Protocol):
    """A receiver: ``str(sink)`` names it in delivery records."""

    def deliver(self, items: Sequence[dict[str, Any]]) -> None: ...


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __str__(self) -> str:
        return f"jsonl:{self.path}"

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        if not items:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(orjson.dumps(item) + b"\n" for item in items)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


def platform_sink(settings: Settings) -> Sink:
    """The receiver of enforcement actions that ``settings`` configure."""
    return JsonlSink(settings.platform_sink_path)
