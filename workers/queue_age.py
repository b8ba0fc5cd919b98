"""How long the oldest message of each queue has waited: the figure that tells a queue whose
workers fall behind from one that is merely busy.

Every task message this system publishes (the CLI, the outbox, retries) carries the time it was
sent in a ``bulkguard_sent_at`` header, set as Celery publishes it. On the Redis broker the
oldest message of a queue is the tail of its list (kombu pushes on the left and pops on the
right), read with one LINDEX per list, without taking it. A message from a client that sets no
such header is timed from when a reader first saw it at the tail (:class:`QueueAges` remembers),
which gives a lower bound. RabbitMQ offers no way to read a message without taking it: there the
broker's own metrics tell the age, and these readings are absent.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from celery import Celery
from celery.signals import before_task_publish

from workers.queues import QUEUES

SENT_AT_HEADER = "bulkguard_sent_at"
# Kombu's Redis transport keeps a queue's messages of each priority step in its own list.
PRIORITY_SEPARATOR = "\x06\x16"


@before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()


def queue_keys(client: redis.Redis, queue: str) -> list[str]:
    """The Redis lists that hold ``queue``'s waiting messages."""
    steps = client.scan_iter(match=f"{queue}{PRIORITY_SEPARATOR}*")
    return [queue, *(key.decode() if isinstance(key, bytes) else key for key in steps)]


class QueueAges:
    """Reads the oldest waiting message's age per queue; remembers messages without a sent-at
    header between reads, to time them from when they were first seen."""

    def __init__(self) -> None:
        self._first_seen: dict[str, tuple[str, float]] = {}

    def read(self, app: Celery) -> dict[str, float | None]:
        """Seconds the oldest message of each queue has waited: 0 for an empty queue, None where
        the broker cannot tell (RabbitMQ)."""
        with app.connection_for_read() as conn:
            # The same test as the queue depths' (workers.status): the transport's own kind.
            if conn.transport.driver_type != "redis":
                return dict.fromkeys(QUEUES)
        now = time.time()
        ages: dict[str, float | None] = {}
        with redis.Redis.from_url(app.conf.broker_url) as client:
            for queue in QUEUES:
                oldest = 0.0
                for key in queue_keys(client, queue):
                    raw = client.lindex(key, -1)
                    if raw is not None:
                        oldest = max(oldest, self._waited(key, raw, now))
                ages[queue] = round(oldest, 1)
        return ages

    def _waited(self, key: str, raw: bytes, now: float) -> float:
        try:
            message = json.loads(raw)
            headers = message.get("headers") or {}
            sent_at = headers.get(SENT_AT_HEADER)
            if isinstance(sent_at, int | float):
                return max(now - sent_at, 0.0)
            tag = str((message.get("properties") or {}).get("delivery_tag"))
        except (ValueError, AttributeError):
            tag = str(hash(raw))  # not a kombu message: time it by its bytes
        seen = self._first_seen.get(key)
        if seen is None or seen[0] != tag:
            self._first_seen[key] = (tag, now)
            return 0.0
        return now - seen[1]
