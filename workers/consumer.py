"""A Celery consumer that keeps undecodable and unroutable messages as dead letters.

Messages that never reach a task (pickle or another refused content type, a body that is not
valid JSON, an unknown task name, a message without Celery headers) are handled by the consumer
in the worker's parent process. Celery logs and drops them; this consumer also stores each one,
with its reason, in the dead-letter table (through the parent's connection-less store).
"""

from __future__ import annotations

import logging
from typing import Any

from celery.worker.consumer import Consumer

from infra import dead_letters

log = logging.getLogger(__name__)


class DeadLetteringConsumer(Consumer):
    def on_decode_error(self, message: Any, exc: Exception) -> None:
        self._keep(message, f"undecodable message ({message.content_type}): {exc}")
        super().on_decode_error(message, exc)

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        self._keep(message, f"refused message ({message.content_type}): {exc}")
        super().on_invalid_task(body, message, exc)

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        name = (message.headers or {}).get("task")
        self._keep(message, f"unknown task name {name!r}: no such task is registered")
        super().on_unknown_task(body, message, exc)

    def on_unknown_message(self, body: Any, message: Any) -> None:
        self._keep(message, "not a task message: no task name in its headers or body")
        super().on_unknown_message(body, message)

    def _keep(self, message: Any, reason: str) -> None:
        headers = message.headers or {}
        name = headers.get("task")
        task_name = name if isinstance(name, str) else "(unknown)"
        task_id = headers.get("id") if isinstance(headers.get("id"), str) else None
        try:
            dead_letters.store_standalone(
                task_name, task_id, dead_letters.Rejection(reason, message.body)
            )
        except Exception:
            # Never let the dead-letter store take the consumer down with it.
            log.exception("could not store a dead letter for %s: %s", task_name, reason)
