"""A Celery consumer that keeps undecodable and unroutable messages as dead letters, and prints
nothing of what they carry.

Messages that never reach a task (pickle or another refused content type, a body that is not
valid JSON, an unknown task name, a message without Celery headers) are handled by the consumer
in the worker's parent process. Celery's own handlers log the whole body and headers of such a
message (the phone numbers and business names of a batch) and drop it. These handlers store the
message, with its reason, in the dead-letter table (through the parent's connection-less store)
and log one line that says what was dropped and why without any of its content; otherwise they
do exactly what Celery's do (see ``celery/worker/consumer/consumer.py``): acknowledge an
undecodable message, reject the others, and send the same signals and events. A test holds them
to Celery's behaviour. The one difference: a message whose dead letter cannot be stored, after a
few tries, is requeued and comes back later, since settled unkept it would be lost.

Before Celery reads a task message at all, ``workers.message_checks`` looks at what Celery would
read without a check (a body that is not ``[args, kwargs, embed]``, ``task`` and ``id`` headers
of the wrong type, …) and would raise on, stopping the worker; such a message is kept and
acknowledged here, as is any Celery still trips on. Every dead letter names the queue it came
from.

Every message a worker accepts also has its argument reprs (``argsrepr``/``kwargsrepr``, which
the sending client fills with the start of the batch) replaced before Celery reads them: Celery
prints them in some log lines and sends them in the ``task-received`` event that Flower shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import signals
from celery.exceptions import NotRegistered
from celery.utils.objects import Bunch
from celery.worker.consumer import Consumer

from infra import dead_letters
from workers import message_checks

log = logging.getLogger(__name__)

# What a worker shows in place of the argument reprs a client sent.
WITHHELD = "(withheld: may hold personal data)"


class DeadLetteringConsumer(Consumer):
    # Set by Celery's Consumer at run time; declared here for the type checker only.
    connection_errors: tuple[type[BaseException], ...]
    event_dispatcher: Any

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        reason = f"undecodable message ({message.content_type}): {exc}"
        if not self._drop(message, reason, "acknowledged"):
            return
        # Acknowledged, as Celery does, so that it does not come back in a loop.
        message.ack()

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:  # noqa: ARG002 - Celery's signature; the body is not printed
        reason = f"refused message ({message.content_type}): {exc}"
        if not self._drop(message, reason, "rejected"):
            return
        message.reject_log_error(log, self.connection_errors)
        signals.task_rejected.send(sender=self, message=message, exc=exc)

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:  # noqa: ARG002 - Celery's signature; the body is not printed
        name = (message.headers or {}).get("task")
        shown = name[:200] if isinstance(name, str) else name
        reason = f"unknown task name {shown!r}: no such task is registered"
        if not self._drop(message, reason, "rejected"):
            return
        try:
            task_id, name = message.headers["id"], message.headers["task"]
            root_id = message.headers.get("root_id")
        except KeyError:  # protocol 1: the identity is in the body
            payload = message.payload
            task_id, name = payload["id"], payload["task"]
            root_id = None
        request = Bunch(
            name=name,
            chord=None,
            root_id=root_id,
            correlation_id=message.properties.get("correlation_id"),
            reply_to=message.properties.get("reply_to"),
            errbacks=None,
        )
        message.reject_log_error(log, self.connection_errors)
        self.app.backend.mark_as_failure(task_id, NotRegistered(name), request=request)
        if self.event_dispatcher:
            self.event_dispatcher.send(
                "task-failed", uuid=task_id, exception=f"NotRegistered({name!r})"
            )
        signals.task_unknown.send(sender=self, message=message, exc=exc, name=name, id=task_id)

    def on_unknown_message(self, body: Any, message: Any) -> None:  # noqa: ARG002 - Celery's signature; the body is not printed
        reason = "not a task message: no task name in its headers or body"
        if not self._drop(message, reason, "rejected"):
            return
        message.reject_log_error(log, self.connection_errors)
        signals.task_rejected.send(sender=self, message=message, exc=None)

    def create_task_handler(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        handle: Callable[[Any], Any] = super().create_task_handler(*args, **kwargs)

        def on_task_received(message: Any) -> Any:
            headers = message.headers if isinstance(message.headers, dict) else {}
            why = message_checks.problem(
                headers, message.content_type, message.content_encoding, message.decode
            )
            if why is not None:
                return self._refuse(message, why)
            withhold_argument_reprs(headers)
            try:
                return handle(message)
            except self.connection_errors:
                raise  # the broker went away: Celery reconnects, the broker redelivers
            except Exception as exc:
                # A message Celery read without a check and tripped on, which the checks above
                # do not know yet: raised, it would stop the worker. Celery reads a message's
                # headers and body before it hands the request to the pool, the last thing it
                # does with it here; a solo pool runs the task and acknowledges it inside that
                # call. So what reaches this point unsettled was never handed on, and is
                # settled here once; one already settled is not touched.
                if message.acknowledged:
                    raise
                return self._refuse(message, f"not a message Celery can take ({_named(exc)})")

        return on_task_received

    def _refuse(self, message: Any, reason: str) -> None:
        """Keep a message Celery must not read as a dead letter and acknowledge it, once."""
        reason = f"refused message ({message.content_type}): {reason}"
        if self._drop(message, reason, "acknowledged"):
            message.ack()

    def _drop(self, message: Any, reason: str, disposition: str) -> bool:
        """Keep the message as a dead letter and log one line about it, with no content. True
        when it is kept and the caller may settle it as ``disposition`` says; False when the
        store kept failing, and the message was requeued instead: acknowledged or rejected
        unkept, it would be gone (a database outage must not lose what arrives meanwhile)."""
        headers = message.headers if isinstance(message.headers, dict) else {}
        name = headers.get("task")
        # Bounded: a client chooses the name (the store keeps 128 characters of it anyway).
        task_name = name[:128] if isinstance(name, str) else "(unknown)"
        task_id = headers.get("id") if isinstance(headers.get("id"), str) else None
        body = message.body
        reason = f"on queue {_queue(message)!r}: {reason}"
        kept = dead_letters.keep_standalone(
            task_name, task_id, dead_letters.Rejection(reason, body, replay=_replayable(message))
        )
        if not kept:
            disposition = "requeued"
            message.requeue()
        log.error(
            "dropped message: task %s [%s], content type %s, body %d bytes: %s; %s, %s",
            task_name,
            task_id,
            message.content_type,
            len(body) if isinstance(body, (bytes, str)) else 0,
            reason,
            disposition,
            "kept as a dead letter" if kept else "NOT kept: the dead-letter store failed",
        )
        return kept


def withhold_argument_reprs(headers: Any) -> None:
    """Replace the argument reprs of a protocol 2 message's headers in place."""
    if isinstance(headers, dict) and "task" in headers:
        headers["argsrepr"] = WITHHELD
        headers["kwargsrepr"] = WITHHELD


def _queue(message: Any) -> str:
    """The queue a message came from: bulkguard routes each queue by its own name."""
    info = message.delivery_info if isinstance(message.delivery_info, dict) else {}
    key = info.get("routing_key")
    return key if isinstance(key, str) else "(unknown)"


def _named(exc: BaseException) -> str:
    """An exception's kind and the start of its text (which may quote what it read)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _replayable(message: Any) -> bytes | None:
    """A JSON body as it arrived, for ``bulkguard dead-letters replay`` to decode again once its
    cause is fixed (a newer decoder, a task that exists now); other content (pickle) never is."""
    if message.content_type != "application/json":
        return None
    body = message.body
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    return bytes(body) if isinstance(body, bytes | bytearray | memoryview) else None
