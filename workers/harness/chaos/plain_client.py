"""What a client that is not bulkguard puts on a queue: bytes of its own making, with or
without Celery's headers, bypassing bulkguard's serializer (the fault trials and the tests of
hostile input send through it)."""

from __future__ import annotations

import uuid
from typing import Any

from celery import Celery


def task_headers(name: str, **extra: Any) -> dict[str, Any]:
    """Celery protocol 2 headers for a task called ``name``, as a Celery client sends them."""
    task_id = str(uuid.uuid4())
    return {
        "lang": "py",
        "task": name,
        "id": task_id,
        "root_id": task_id,
        "parent_id": None,
        "group": None,
        "retries": 0,
        "eta": None,
        "expires": None,
        "argsrepr": "",
        "kwargsrepr": "",
        "origin": "plain-client",
        **extra,
    }


def publish_raw(
    app: Celery,
    body: bytes,
    headers: dict[str, Any] | None,
    *,
    content_type: str = "application/json",
    routing_key: str = "scoring",
) -> None:
    """Publish ``body`` as it is to the queue of ``routing_key``."""
    with app.connection_for_write() as conn:
        conn.Producer().publish(
            body,
            # By name: the exchange is direct on Redis and topic on RabbitMQ (workers.queues),
            # and either routes a queue's name to that queue.
            exchange="bulkguard",
            routing_key=routing_key,
            content_type=content_type,
            content_encoding="utf-8",
            headers=headers or {},
            serializer=None,
        )
