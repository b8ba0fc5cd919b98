"""``bulkguard flower``: Flower for operators, with every path behind basic authentication.

Flower's own basic auth guards its pages and API but not ``/metrics``, ``/healthcheck``,
``/static`` or its 404 page, and ``celery flower --basic-auth=user:password`` puts the password
in the process list. Here Flower runs in this process with its options set in code, and the
application refuses any request without the credentials before routing it, whatever the path.

State (tasks and workers seen) is saved to a file under the data directory every minute and on
shutdown, and restored on start; the task history is bounded (``flower_max_tasks``). What the
tasks' arguments show was made value-free where the tasks were sent (``workers.privacy``) and
where workers receive them (``workers.consumer``): Flower never receives personal data in them.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery
from flower.app import Flower
from flower.options import default_options
from flower.urls import settings as flower_settings
from tornado.httputil import HTTPServerRequest
from tornado.web import RequestHandler

from infra.basic_auth import CHALLENGE, BasicAuth
from workers.launcher import stop_with_launcher

STATE_SAVE_MILLISECONDS = 60_000
# Offline workers' series leave Flower's /metrics after an hour, so a scaled-down fleet does
# not look like an outage forever.
PURGE_OFFLINE_WORKERS_SECONDS = 3600


class _Refused(RequestHandler):
    def check_xsrf_cookie(self) -> None:
        pass  # refused whatever the method: a POST answers 401 too, not a cookie error

    def prepare(self) -> None:
        self.set_status(401)
        self.set_header(*CHALLENGE)
        self.set_header("Content-Type", "text/plain")
        self.finish("authentication required\n")


class GuardedFlower(Flower):  # type: ignore[misc]  # Flower ships no type information
    """Flower that answers 401 to any request without the operator's credentials."""

    def __init__(self, *, auth: BasicAuth, **kwargs: Any) -> None:
        self.auth = auth
        super().__init__(**kwargs)

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        if not self.auth.accepts(request.headers.get("Authorization")):
            return self.get_handler_delegate(request, _Refused)
        return super().find_handler(request, **kwargs)


def build(
    app: Celery, auth: BasicAuth, *, address: str, port: int, state_path: Path, max_tasks: int
) -> GuardedFlower:
    """Flower configured for this system, not yet listening."""
    options = default_options
    # Flower's own check too: its views then know the request is authenticated, and its
    # cross-site request checks (on by default only with authentication) apply.
    options.basic_auth = [f"{auth.user}:{auth.password}"]
    options.address = address
    options.port = port
    options.persistent = True
    options.db = str(state_path)
    options.state_save_interval = STATE_SAVE_MILLISECONDS
    options.max_tasks = max_tasks
    options.purge_offline_workers = PURGE_OFFLINE_WORKERS_SECONDS
    state_path.parent.mkdir(parents=True, exist_ok=True)
    # Request lines every few seconds from the dashboard's polling would drown the log.
    logging.getLogger("tornado.access").disabled = True
    return GuardedFlower(auth=auth, capp=app, options=options, **flower_settings)


def serve(flower: GuardedFlower, on_listening: Callable[[int], None]) -> None:
    """Listen, then run until SIGTERM or Ctrl-C; the state is saved on the way out."""

    def stop(*_: Any) -> None:
        flower.io_loop.add_callback_from_signal(flower.stop)

    signal.signal(signal.SIGTERM, stop)
    stop_with_launcher()
    port = flower.start_http_server()
    on_listening(port)
    try:
        flower.start()
    except KeyboardInterrupt:
        pass
    finally:
        flower.stop()
