"""A process started by another one (the demo, the bench, the tests: ``workers.harness``) stops
when its launcher is gone, however the launcher died; one an operator starts is not affected."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

log = logging.getLogger(__name__)

# The process that launched a worker or Flower, for it to stop when that process is gone: set
# by whatever starts them (``workers.harness.processes``), read here.
LAUNCHER_ENV = "BULKGUARD_LAUNCHER_PID"


def stop_with_launcher() -> None:
    """In a process started with ``LAUNCHER_ENV`` set, send ourselves SIGTERM once the launcher
    is gone, however it died; a process an operator starts is not affected."""
    launcher = os.environ.get(LAUNCHER_ENV)
    if not launcher:
        return

    def watch() -> None:
        while os.getppid() == int(launcher):
            time.sleep(1.0)
        log.warning("launcher %s is gone: shutting down", launcher)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="launcher-watch", daemon=True).start()
