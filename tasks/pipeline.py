"""The one task decorator every pipeline task uses: the thin shell around a stage body.

It gives each task what the design asks of all of them: its public name from its message class
(its queue is routed from the same class by ``workers.queues``), soft and hard time limits,
validation of the payload at the boundary (bad input is dead-lettered with a reason and
acknowledged, never retried and never raised into the worker), one database transaction per run
whose follow-ups are published only after commit (:func:`tasks.outbox.commit`), and a retry
policy that retries transient infrastructure errors with capped, jittered backoff and never
retries anything else.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from celery import Celery, Task, shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded, TimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerError
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from infra import dead_letters
from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.settings import get_settings
from tasks import outbox
from tasks.errors import TransientError
from tasks.messages import Message
from tasks.outcome import Outcome
from tasks.payload import describe_validation_error

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)


# Errors worth another try: the broker or the database was briefly unreachable or locked.
# Validation and integrity errors are never retried: the same input would fail the same way.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    BrokerError,
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionError,
    TransientError,
)
# How the dead letter of a run stopped by its hard time limit begins (prefork's parent and a solo
# worker's watchdog keep it): a redelivered message with one is not run again.
HARD_LIMIT_REASON = "hard time limit exceeded"
_TRANSIENT_DB_WORDS = ("locked", "could not serialize", "deadlock", "connection", "server closed")
BACKOFF_CAP_SECONDS = 120
# The runs whose failure the shell has kept in this process, so that the worker's handler of
# failures outside the shell (``workers.lifecycle``), which sees every failure in a solo worker,
# does not keep them twice. By task id: Celery may replace an exception it cannot pickle.
_kept_failures: set[str] = set()


def failure_kept(task_id: str | None) -> bool:
    """Whether the shell kept this run's failed input (asked once per failure)."""
    if task_id is None or task_id not in _kept_failures:
        return False
    _kept_failures.discard(task_id)
    return True


@dataclass(frozen=True)
class TaskRun:
    """What a task shell gets besides its message: the run's session, its task id and the app
    it publishes with."""

    session: Session
    task_id: str | None
    app: Celery


class PipelineTask(Task):  # type: ignore[type-arg]
    """Shared base: the delivery guarantees are set here once rather than per task."""

    acks_late = True
    reject_on_worker_lost = True
    typing = False  # arguments are validated by the message model, with a dead letter on failure

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # A hard time limit kills the child before it can keep the input; Celery then reports
        # the failure here, in the parent, and acknowledges the message. Keep it first.
        if isinstance(exc, TimeLimitExceeded):
            keep_input_from_parent(
                self.name,
                task_id,
                f"{HARD_LIMIT_REASON} ({exc}); the worker process was killed",
                args,
                kwargs,
            )
        super().on_failure(exc, task_id, args, kwargs, einfo)


def keep_input_from_parent(
    name: str, task_id: str | None, reason: str, args: Any, kwargs: Any
) -> None:
    """Keep the input of a task that failed outside its shell, from the worker's main process,
    which Celery then acknowledges; log if even that fails after a few tries, since the parent
    must not die.

    The parent does not see the message's headers, so an outbox follow-up that fails this way
    stays incomplete: the sweep publishes it again later (a time limit may have been a slow
    moment) until its publications run out."""
    kept = dead_letters.keep_standalone(
        name,
        task_id,
        dead_letters.Rejection(
            reason,
            {"args": list(args or ()), "kwargs": kwargs},
            replay=kwargs if not args and isinstance(kwargs, dict) else None,
        ),
    )
    if not kept:
        log.error("%s [%s] could not be dead-lettered: %s", name, task_id, reason)


def backoff(retries: int) -> float:
    """Exponential backoff with full jitter, capped."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, 2 ** (retries + 1)))


def pipeline_task(
    message: type[M], *, soft_time_limit: int, time_limit: int
) -> Callable[[Callable[[TaskRun, M], Outcome]], PipelineTask]:
    """Declare the task that consumes ``message``; the shell it decorates gets the validated
    message and returns the body's :class:`Outcome`."""
    name = message.TASK
    if time_limit <= soft_time_limit:
        raise ValueError(f"{name}: the hard time limit must exceed the soft one")

    def decorate(shell: Callable[[TaskRun, M], Outcome]) -> PipelineTask:
        @shared_task(
            bind=True,
            base=PipelineTask,
            name=name,
            soft_time_limit=soft_time_limit,
            time_limit=time_limit,
            max_retries=get_settings().task_max_retries,
        )
        @functools.wraps(shell)
        def task(self: PipelineTask, *args: Any, **kwargs: Any) -> dict[str, Any]:
            task_id = self.request.id
            completes = self.request.get(outbox.HEADER)
            if _stopped_before(self, name):
                # Its input is kept already; running it again would stop a worker again.
                return {"status": "rejected", "reason": HARD_LIMIT_REASON}
            try:
                if args:
                    raise TypeError(
                        f"{name} takes keyword arguments only; got {len(args)} positional"
                    )
                data = message.model_validate(kwargs)
            except (ValidationError, TypeError) as exc:
                reason = (
                    describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
                )
                _dead_letter(
                    name,
                    task_id,
                    dead_letters.Rejection(
                        f"invalid payload: {reason}",
                        {"args": list(args), "kwargs": kwargs},
                        replay=None if args else kwargs,
                    ),
                    completes=completes,
                )
                return {"status": "rejected", "reason": reason}
            try:
                committed = outbox.commit(
                    self.app,
                    lambda session: shell(TaskRun(session, task_id, self.app), data),
                    task_name=name,
                    task_id=task_id,
                    completes=completes,
                )
            except Exception as exc:
                if is_transient(exc) and self.request.retries < (self.max_retries or 0):
                    log.warning("%s [%s] transient failure, retrying: %s", name, task_id, exc)
                    raise run_again(self, exc, completes) from exc
                # A defect, an exhausted retry budget or a time limit: keep the input for an
                # operator and fail the task, which acknowledges the message.
                try:
                    _dead_letter(
                        name,
                        task_id,
                        dead_letters.Rejection(
                            f"{type(exc).__name__}: {exc}", kwargs, replay=kwargs
                        ),
                        completes=completes,
                    )
                except Exception as store_exc:
                    log.error(
                        "%s [%s] could not be dead-lettered (%s); trying again later",
                        name,
                        task_id,
                        type(store_exc).__name__,
                    )
                    # Past the retry budget: dropping the message is the one thing not to do.
                    raise run_again(self, exc, completes, past_budget=True) from exc
                if task_id is not None:
                    _kept_failures.add(task_id)
                raise
            if committed.publish_error is not None:
                log.error(
                    "%s [%s] committed; follow-ups left to the outbox sweep",
                    name,
                    task_id,
                    exc_info=committed.publish_error,
                )
            return committed.outcome.summary

        return task

    return decorate


def _stopped_before(task: PipelineTask, name: str) -> bool:
    """Whether this message was delivered before and its run stopped at the hard time limit.
    Asked of redelivered messages only (rare): a first delivery costs nothing."""
    if not (task.request.delivery_info or {}).get("redelivered"):
        return False
    try:
        with session_scope() as session:
            return dead_letters.kept_with_reason(session, name, task.request.id, HARD_LIMIT_REASON)
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        # Unknown (the database is unreachable): run it, which loses nothing; the worst case
        # is another stop at the hard limit.
        log.warning("%s [%s] could not tell whether it was stopped before", name, task.request.id)
        return False


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return exc.connection_invalidated or any(w in text for w in _TRANSIENT_DB_WORDS)
    return False


def _dead_letter(
    name: str, task_id: str | None, rejection: dead_letters.Rejection, *, completes: str | None
) -> None:
    with session_scope() as session:
        dead_letters.store(session, name, task_id, [rejection])
        outbox.complete(session, completes, now=utcnow())


def _carrying(completes: str | None) -> dict[str, Any]:
    """Options that keep a retried message's outbox key: Celery's retry copies only the headers
    it knows of."""
    return {"headers": {outbox.HEADER: completes}} if completes is not None else {}


def run_again(
    task: PipelineTask, exc: Exception, completes: str | None, *, past_budget: bool = False
) -> BaseException:
    """The exception that runs the message again after a capped, jittered wait: a retry (past
    the retry budget if ``past_budget``). Publishing the retry needs the broker; if it is down
    too, Celery would reject the message for good, so it is put back in its queue instead,
    after a short wait that keeps a worker from spinning on it."""
    try:
        return task.retry(
            exc=exc,
            countdown=backoff(task.request.retries),
            throw=False,
            max_retries=task.request.retries + 1 if past_budget else None,
            **_carrying(completes),
        )
    except Exception as publish_exc:
        log.warning(
            "%s [%s] retry could not be published (%s); requeued",
            task.name,
            task.request.id,
            type(publish_exc).__name__,
        )
        time.sleep(backoff(min(task.request.retries, 3)))
        return Reject(exc, requeue=True)
