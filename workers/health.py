"""Liveness and readiness of one worker, told by files, so a probe asks nothing of the cluster.

A broadcast ping (``celery inspect ping``) as a container probe makes every probe of every
container a message to every worker: it does not scale, and a busy broker fails probes of
healthy workers. Instead each worker's main process keeps two files under
``BULKGUARD_HEALTH_DIR/<node name>/``:

- ``alive``: touched every ``BEAT_SECONDS`` by a timer on the worker's own event loop, so it goes
  stale when that loop hangs (a stuck consumer, a blocked main process). While the broker
  connection is down the main process blocks in Celery's reconnection loop, which is the
  worker doing its job: a thread beats for it until it is consuming again (Celery gives up and
  exits after its retries), so a broker outage does not make every worker look dead;
- ``ready``: present while the consumer is connected to the broker and consuming; removed when
  the connection is lost (Celery restarts the consumer's steps then) and on shutdown.

``bulkguard health live|ready`` reads them: live when ``alive`` is fresh; ready when also
``ready`` exists. With no health directory configured, workers keep no files.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from celery import bootsteps

from infra.settings import get_settings

BEAT_SECONDS = 5.0
# A probe calls a worker dead when its beat is older than this: several missed beats, so one
# slow tick of a loaded loop does not restart a healthy container.
STALE_SECONDS = 30.0


def node_dir(root: Path, node: str) -> Path:
    return root / node.replace("/", "_")


class HealthFiles(bootsteps.StartStopStep):
    """A consumer step: started once the broker connection is up, stopped when it is lost."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        root = get_settings().health_dir
        self.dir = node_dir(root, parent.hostname) if root else None
        self.timer_entry: Any = None
        self.reconnecting: threading.Event | None = None
        super().__init__(parent, **kwargs)

    def start(self, parent: Any) -> None:
        if self.dir is None:
            return
        if self.reconnecting is not None:
            self.reconnecting.set()
            self.reconnecting = None
        self.dir.mkdir(parents=True, exist_ok=True)
        self._beat()
        (self.dir / "ready").touch()
        self.timer_entry = parent.timer.call_repeatedly(BEAT_SECONDS, self._beat)

    def stop(self, parent: Any) -> None:  # noqa: ARG002 - a bootstep's signature
        """The connection is lost (Celery reconnects, then starts the step again)."""
        if self.dir is None:
            return
        self._stop_beating()
        self.reconnecting = threading.Event()
        threading.Thread(
            target=self._beat_until, args=(self.reconnecting,), name="health-beat", daemon=True
        ).start()

    def shutdown(self, parent: Any) -> None:  # noqa: ARG002 - a bootstep's signature
        if self.dir is None:
            return
        self._stop_beating()
        if self.reconnecting is not None:
            self.reconnecting.set()

    def _stop_beating(self) -> None:
        assert self.dir is not None
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        (self.dir / "ready").unlink(missing_ok=True)

    def _beat_until(self, done: threading.Event) -> None:
        while not done.wait(BEAT_SECONDS):
            self._beat()

    def _beat(self) -> None:
        assert self.dir is not None
        (self.dir / "alive").touch()


def check(root: Path, node: str | None, *, ready: bool, stale_seconds: float) -> str | None:
    """Why the worker is not live (or not ready), or None when it is. ``node`` may be left out
    where exactly one worker keeps files under ``root`` (one worker per container)."""
    if node is None:
        nodes = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if len(nodes) != 1:
            return f"{len(nodes)} workers keep health files under {root}: name one with --node"
        where = nodes[0]
    else:
        where = node_dir(root, node)
    alive = where / "alive"
    try:
        age = time.time() - alive.stat().st_mtime
    except FileNotFoundError:
        return f"no beat from the worker yet ({alive} missing)"
    if age > stale_seconds:
        return f"the worker's last beat was {age:.0f} s ago (stale after {stale_seconds:.0f} s)"
    if ready and not (where / "ready").exists():
        return "the worker is not consuming (no broker connection, starting or stopping)"
    return None
