"""Time limits for the tasks of a solo worker, which Celery does not enforce in that pool.

Prefork enforces a task's limits from the parent: the soft limit raises SoftTimeLimitExceeded in
the child, the hard one kills the child. A solo worker runs the task in its only process, so:

* the soft limit is a SIGALRM timer, armed when the task starts (``task_prerun``) and cleared when
  it ends (``task_postrun``); its handler raises SoftTimeLimitExceeded inside the task, whose shell
  keeps the input as a dead letter, exactly as under prefork. Python runs the handler between
  bytecodes, and a blocking socket read or sleep is interrupted for it;
* the hard limit is a watchdog thread. A task still running then is stuck where no signal gets
  through (inside C code): the watchdog keeps its input as a dead letter and ends the process;
  its supervisor (compose's restart policy) starts a new one. The message, never acknowledged,
  comes back, and the task shell does not run a redelivered message whose input was kept so
  (``tasks.pipeline``), so it cannot stop worker after worker.

A prefork worker is told apart by where ``worker_process_init`` arrives: the solo pool sends it
in the worker's own process, prefork in each child.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init

from tasks.pipeline import HARD_LIMIT_REASON, PipelineTask, keep_input_from_parent

log = logging.getLogger(__name__)

_main_pid: int | None = None
_solo = False


@dataclass(frozen=True)
class _Running:
    name: str
    task_id: str | None
    args: Any
    kwargs: Any
    hard_limit: float
    deadline: float


class _Watchdog:
    """The task running now and its hard deadline, checked ten times a second from a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: _Running | None = None
        threading.Thread(target=self._watch, name="solo-hard-limit", daemon=True).start()

    def start(self, running: _Running) -> None:
        with self._lock:
            self._running = running

    def stop(self) -> None:
        with self._lock:
            self._running = None

    def _watch(self) -> None:
        while True:
            time.sleep(0.1)
            # Under the lock to the end: a task that finishes meanwhile (``stop``) waits for the
            # exit, and one that finished just before is not kept as stopped.
            with self._lock:
                late = self._running
                if late is None or time.monotonic() < late.deadline:
                    continue
                log.critical(
                    "%s [%s] is past its hard time limit (%s s): stopping this worker",
                    late.name,
                    late.task_id,
                    late.hard_limit,
                )
                keep_input_from_parent(
                    late.name,
                    late.task_id,
                    f"{HARD_LIMIT_REASON} ({late.hard_limit:g} s); the solo worker was stopped",
                    late.args,
                    late.kwargs,
                )
                os._exit(70)  # EX_SOFTWARE: nothing else in this process can be trusted to finish


_watchdog: _Watchdog | None = None


@worker_init.connect
def _note_main_process(**_: Any) -> None:
    global _main_pid  # noqa: PLW0603 - set once per worker process
    _main_pid = os.getpid()


@worker_process_init.connect
def _start_if_solo(**_: Any) -> None:
    global _solo, _watchdog  # noqa: PLW0603 - set once per worker process
    if os.getpid() != _main_pid:
        return  # a prefork child: its parent enforces the limits
    _solo = True
    signal.signal(signal.SIGALRM, _soft_limit_reached)
    _watchdog = _Watchdog()


def running_solo() -> bool:
    """Whether this process is a solo worker, which runs its tasks itself."""
    return _solo


def _soft_limit_reached(_signum: int, _frame: Any) -> None:
    raise SoftTimeLimitExceeded("soft time limit exceeded")


def _limits(task: PipelineTask) -> tuple[float | None, float | None]:
    """(soft, hard) seconds for this run: the message's own, else the task's."""
    hard, soft = task.request.timelimit or (None, None)
    return soft or task.soft_time_limit, hard or task.time_limit


@task_prerun.connect
def _arm(
    sender: Any = None, task_id: str | None = None, args: Any = None, kwargs: Any = None, **_: Any
) -> None:
    if not _solo or not isinstance(sender, PipelineTask) or _watchdog is None:
        return
    soft, hard = _limits(sender)
    if soft:
        signal.setitimer(signal.ITIMER_REAL, soft)
    if hard:
        _watchdog.start(_Running(sender.name, task_id, args, kwargs, hard, time.monotonic() + hard))


@task_postrun.connect
def _disarm(**_: Any) -> None:
    if not _solo or _watchdog is None:
        return
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        # Even if the soft limit lands right here, the watchdog lets the finished task go.
        _watchdog.stop()
