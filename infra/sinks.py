"""Receivers outside bulkguard: the platform's account service, reached through one of three sinks
that ``BULKGUARD_PLATFORM_SINK`` chooses (docs/platform-delivery.md).

- a JSONL file (the embedded default), appended to once per batch under an exclusive lock, so
  several worker processes can deliver to it at once;
- the platform's webhook (``infra.webhook``): one signed HTTP POST per batch;
- a Redis Stream that the platform's consumers read in a consumer group.

Every item carries its idempotency key, so a receiver can drop the duplicate that at-least-once
delivery may send. A sink tells its caller how a failure is to be taken (``infra.sink_contract``:
the ``Sink`` protocol and its errors, which the webhook sink imports without importing this
module).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import redis

from infra.settings import Settings
from infra.sink_contract import Sink

if TYPE_CHECKING:
    from infra.webhook import WebhookSink

# Seconds a stream sink waits for Redis before the attempt counts as failed.
STREAM_TIMEOUT_SECONDS = 10


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

    def close(self) -> None:
        """Nothing to release: each delivery opens and closes the file."""


class RedisStreamSink:
    """One stream entry per item, with the fields ``key`` (the idempotency key, what consumers
    deduplicate by) and ``item`` (the item as JSON)."""

    def __init__(self, client: redis.Redis, stream: str, maxlen: int) -> None:
        self.client, self.stream, self.maxlen = client, stream, maxlen

    def __str__(self) -> str:
        return f"stream:{self.stream}"

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        if not items:
            return
        # MULTI/EXEC in one round trip: a batch appears whole or not at all, so a failed attempt
        # leaves no half batch for the consumers to see twice after the retry.
        pipe = self.client.pipeline(transaction=True)
        for item in items:
            pipe.xadd(
                self.stream,
                {"key": item["idempotency_key"], "item": orjson.dumps(item)},
                # "~": Redis trims whole nodes when it is cheap to, never below maxlen entries.
                maxlen=self.maxlen,
                approximate=True,
            )
        pipe.execute()

    def close(self) -> None:
        self.client.close()


# The sink of this process and the settings it was built from: reused while the settings are
# the same (a webhook keeps its connections open between tasks), never across a fork.
_open: tuple[int, Settings, JsonlSink | RedisStreamSink | WebhookSink] | None = None


def platform_sink(settings: Settings) -> Sink:
    """The receiver of enforcement actions that ``settings`` configure; ``ValueError`` when
    they name one that cannot be used."""
    global _open  # noqa: PLW0603 - one sink per process, as one Redis client per process
    if _open is not None and _open[:2] == (os.getpid(), settings):
        return _open[2]
    sink = _build(settings)
    if _open is not None and _open[0] == os.getpid():
        _open[2].close()  # the settings changed (in tests): let go of the old connections
    _open = (os.getpid(), settings, sink)
    return sink


def _build(settings: Settings) -> JsonlSink | RedisStreamSink | WebhookSink:
    target = settings.platform_sink or ""
    if target.lower().startswith(("http://", "https://")):
        secret = settings.platform_webhook_secret
        if secret is None or not secret.get_secret_value():
            raise ValueError(
                "BULKGUARD_PLATFORM_SINK is a webhook URL, but BULKGUARD_PLATFORM_WEBHOOK_SECRET "
                "is not set: the platform cannot trust an unsigned request, so nothing is sent"
            )
        # httpx loads only in processes configured for the webhook.
        from infra.webhook import WebhookSink  # noqa: PLC0415

        return WebhookSink(
            target,
            secret.get_secret_value(),
            timeout=settings.webhook_timeout_seconds,
            tries=settings.webhook_tries,
        )
    if target.startswith("stream:"):
        stream = target.removeprefix("stream:")
        if not stream:
            raise ValueError("BULKGUARD_PLATFORM_SINK=stream:NAME needs the stream's name")
        client = redis.Redis.from_url(
            settings.platform_stream_url or settings.redis_url,
            socket_timeout=STREAM_TIMEOUT_SECONDS,
            socket_connect_timeout=STREAM_TIMEOUT_SECONDS,
        )
        return RedisStreamSink(client, stream, settings.platform_stream_maxlen)
    return JsonlSink(settings.platform_sink_path)
