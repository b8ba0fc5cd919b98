"""Worker process lifecycle: per-process state is created after fork, never in the parent.

The prefork parent imports the task modules but opens no database connection, loads no model
and makes no Redis client of its own; each child does so on start (``worker_process_init``) and
warms the active model, so the first real task does not pay for loading it. The parent does
load one thing, plain data the children share: the phone numbering plans (see
``tasks.accounts.phones.load_all``).
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from celery.exceptions import Reject, TimeLimitExceeded
from celery.signals import (
    task_failure,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)

from infra.db.session import new_session, reset_engine
from infra.redis_client import reset_redis
from tasks.accounts import phones
from tasks.pipeline import PipelineTask, failure_kept, keep_input_from_parent
from tasks.scoring.serving import NoActiveModelError, current_scorers
from workers.launcher import stop_with_launcher

log = logging.getLogger(__name__)

# The worker's main process, once it has started (see _keep_failures_outside_the_task).
_parent_pid: int | None = None


@worker_init.connect
def _start_parent(**_: Any) -> None:
    global _parent_pid  # noqa: PLW0603 - set once, in the main process
    _parent_pid = os.getpid()
    # Plain data, safe to share across fork; see load_all for why it must not load in a task.
    phones.load_all()


@task_failure.connect
def _keep_failures_outside_the_task(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    **_: Any,
) -> None:
    """Keep the input of a pipeline task that failed before its body ran.

    A task's own failures are kept by its shell (tasks.pipeline) and hard time limits by its
    on_failure; both report to the main process as handled. What reaches this signal in the main
    process is a failure inside Celery's own code in a pool process, before the body started:
    a soft time limit that lands while the message is still being handed over, for instance.
    Celery acknowledges such a message, so without this its input would be lost.
    """
    # Asked first, in every process, so that the record of a kept failure is dropped where the
    # task ran (a prefork child); in a solo worker the task ran here, and its shell kept it.
    kept_by_shell = failure_kept(task_id)
    if os.getpid() != _parent_pid or not isinstance(sender, PipelineTask) or kept_by_shell:
        return
    if isinstance(exception, TimeLimitExceeded):
        return  # kept by the task's on_failure
    if isinstance(exception, Reject) and getattr(exception, "requeue", False):
        return  # put back in its queue (the broker refused a retry): nothing to keep
    keep_input_from_parent(
        sender.name,
        task_id,
        f"failed before the task ran: {type(exception).__name__}: {exception}",
        args,
        kwargs,
    )


@worker_process_init.connect
def _start_child(**_: Any) -> None:
    reset_engine()
    reset_redis()
    session = new_session()
    try:
        current_scorers(session)
    except NoActiveModelError:
        log.warning("no active model yet: scoring tasks will retry until one is activated")
    except Exception:
        # A child that cannot warm up still starts; the task that needs the model reports why.
        log.exception("could not warm the scoring model")
    finally:
        session.close()
    # What the child holds now (modules, the model, compiled plans) lives as long as it does:
    # keep it out of the cyclic collector's full passes, which otherwise walk all of it and
    # stall a large batch every few batches.
    gc.freeze()


@worker_process_shutdown.connect
def _stop_child(**_: Any) -> None:
    reset_engine()


@worker_ready.connect
def _watch_launcher(**_: Any) -> None:
    """A worker launched by bulkguard itself (the demo, the benchmark, the tests) stops when its
    launcher is gone, however the launcher died: an orphaned worker would otherwise keep taking
    tasks from the queues of whoever runs next. Workers an operator starts are not affected."""
    stop_with_launcher()
