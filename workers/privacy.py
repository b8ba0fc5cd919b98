"""Keeping personal data out of the runtime's logs and events (see ``infra.redaction``).

Connected when the Celery app is made, so in every process that runs or sends tasks:

- every log handler Celery sets up in a worker (the root logger's, the task logger's and the
  multiprocessing logger's) gets the redacting filter; prefork children inherit them;
- every task this process publishes (through :class:`ValueFreeAMQP`, the app's AMQP class)
  carries a value-free description of its arguments in the ``argsrepr``/``kwargsrepr`` headers,
  instead of Celery's repr of the first kilobyte of the batch: Celery puts those in the
  ``task-sent`` event that Flower shows, and workers print them in some log lines. (Workers
  replace the headers of what other clients send too: see ``workers.consumer``.)
"""

from __future__ import annotations

import logging
from typing import Any

from celery.app.amqp import AMQP
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_process_init,
)
from celery.utils.log import get_multiprocessing_logger

from infra import redaction

# Nested containers are described this deep; below that only their size is given.
_SHAPE_DEPTH = 2


@after_setup_logger.connect
def _redact_worker_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    loggers = [logger or logging.getLogger()]
    multiprocessing_logger = get_multiprocessing_logger()
    if multiprocessing_logger is not None:
        loggers.append(multiprocessing_logger)
    redaction.install(loggers)


@after_setup_task_logger.connect
def _redact_task_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    redaction.install([logger or logging.getLogger("celery.task")])


@worker_process_init.connect
def _redact_child_logs(**_: Any) -> None:
    # Children inherit their parent's handlers, filters included; this covers a child that set
    # up its own (a log file per process, ``%i``), and costs nothing otherwise.
    redaction.install(
        [logging.getLogger(), logging.getLogger("celery.task"), logging.getLogger("celery")]
    )


class ValueFreeAMQP(AMQP):
    """Celery's AMQP with value-free argument reprs in every task message it builds."""

    def as_task_v2(
        self,
        task_id: str,
        name: str,
        args: Any = None,
        kwargs: Any = None,
        *rest: Any,
        **options: Any,
    ) -> Any:
        if options.get("argsrepr") is None:
            options["argsrepr"] = describe(tuple(args or ()))
        if options.get("kwargsrepr") is None:
            options["kwargsrepr"] = describe(dict(kwargs or {}))
        return super().as_task_v2(task_id, name, args, kwargs, *rest, **options)


def describe(value: Any, depth: int = 0) -> str:
    """The shape of ``value`` without its content: keys, sizes and types, never a string's or a
    number's value, e.g. ``{'stage': <str>, 'accounts': <500 items>}``."""
    if isinstance(value, dict):
        if depth >= _SHAPE_DEPTH:
            return f"<{len(value)} keys>"
        inner = ", ".join(f"{_key(key)}: {describe(v, depth + 1)}" for key, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return f"<{len(value)} items>" if value else ("()" if isinstance(value, tuple) else "[]")
    if value is None or isinstance(value, bool):
        return repr(value)
    return f"<{type(value).__name__}>"


def _key(key: Any) -> str:
    # Field names are shown; a key that is data (a phone number as a map key) is not.
    return repr(key) if isinstance(key, str) and key.isidentifier() else "<key>"
