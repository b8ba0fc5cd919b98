"""``bulkguard flower``: Flower for operators, with every path behind basic authentication.

Flower's own basic auth guards its pages and API but not ``/metrics``, ``/healthcheck``,
``/static`` or its 404 page, and ``celery flower --basic-auth=user:password`` puts the password
in the process list. Here Flower runs in this process with its options set in code, and the
application refuses any request without the credentials before routing it, whatever the path.

State (tasks and workers seen) is saved to a file under the data directory every minute and on
shutdown, and restored on start; the task history is bounded (``flower_max_tasks``). What the
tasks' arguments show was made value-free where the tasks were sent (``workers.privacy``) and
where workers receive them (``workers.consumer``): Flower never receives personal data in them.

Flower only watches. Its API can send any task by name with any arguments (an appeal that
reverses a ban), revoke or abort tasks, change rate and time limits, and resize, reroute,
restart or shut down workers, all around the command line through which bulkguard's changes are
made (docs/operating.md). So a request to one of Flower's command handlers, whatever its
method, and any request with a method other than GET or HEAD, is answered 403 for every user
before a handler runs. Both rules fail closed: a handler a later Flower adds to its control or
task API is refused until it is listed here as a reader, and a new route that writes by POST,
PUT, DELETE or PATCH is refused without being listed at all.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery
from flower.api.control import ControlHandler
from flower.api.tasks import (
    BaseTaskHandler,
    GetQueueLengths,
    ListTasks,
    ListTaskTypes,
    TaskInfo,
    TaskResult,
)
from flower.api.workers import ListWorkers
from flower.app import Flower
from flower.options import default_options
from flower.urls import settings as flower_settings
from flower.views.tasks import TasksDataTable
from kombu.utils.url import maybe_sanitize_url
from tornado.httputil import HTTPServerRequest
from tornado.web import RequestHandler

from infra.basic_auth import CHALLENGE, BasicAuth
from workers.launcher import stop_with_launcher

STATE_SAVE_MILLISECONDS = 60_000
# Offline workers' series leave Flower's /metrics after an hour, so a scaled-down fleet does
# not look like an outage forever.
PURGE_OFFLINE_WORKERS_SECONDS = 3600

_READING_METHODS = frozenset({"GET", "HEAD"})
# Flower's API families that act on workers and the broker: control (revoke, limits, pools,
# consumers, shutdown) and tasks (apply, send, abort). Each of their handlers is refused unless
# it is one of these readers.
_COMMAND_FAMILIES = (ControlHandler, BaseTaskHandler)
_READERS: frozenset[type[RequestHandler]] = frozenset(
    {ListWorkers, ListTasks, ListTaskTypes, GetQueueLengths, TaskInfo, TaskResult}
)
# The tasks page loads its table by POST; that handler's POST only runs its GET.
_READING_POSTS: frozenset[type[RequestHandler]] = frozenset({TasksDataTable})

CONTROL_REFUSED = (
    "Flower is a monitor here: for every user it refuses to send, apply, revoke, abort or limit "
    "tasks and to grow, shrink, autoscale, restart, reroute or shut down workers. Use bulkguard "
    "instead: its command line for enforcement (`bulkguard appeal`, `bulkguard review decide`, "
    "`bulkguard dead-letters replay`, `bulkguard deliveries retry`, `bulkguard breaker reset`), "
    "and each queue's compose service to scale or restart its workers (docs/operating.md).\n"
)


def refuses(method: str, handler: type[RequestHandler]) -> bool:
    """Whether a request with ``method`` routed to ``handler`` could change anything, and so is
    refused."""
    if issubclass(handler, _COMMAND_FAMILIES) and handler not in _READERS:
        return True
    if method in _READING_METHODS:
        return False
    return not (method == "POST" and handler in _READING_POSTS)


class _Refused(RequestHandler):
    def check_xsrf_cookie(self) -> None:
        pass  # refused whatever the method: a POST answers 401 too, not a cookie error

    def prepare(self) -> None:
        self.set_status(401)
        self.set_header(*CHALLENGE)
        self.set_header("Content-Type", "text/plain")
        self.finish("authentication required\n")


class _ControlRefused(RequestHandler):
    def check_xsrf_cookie(self) -> None:
        pass  # the operator reads why it was refused, not a cookie error

    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(CONTROL_REFUSED)


class GuardedFlower(Flower):  # type: ignore[misc]  # Flower ships no type information
    """Flower that answers 401 to any request without the operator's credentials, and 403 to
    any request that could change anything (:func:`refuses`)."""

    def __init__(self, *, auth: BasicAuth, **kwargs: Any) -> None:
        self.auth = auth
        super().__init__(**kwargs)

    # Flower keeps the workers' transport (workers.envelopes): kombu's plain one would have
    # Flower's event channel restore dead workers' unacknowledged messages, which the broker's
    # flower user may neither read nor put back (infra/redis/users.acl). Flower knows a broker
    # only by its URL's scheme, and kombu's URL names that transport by its class
    # (workers.envelopes:GuardedTransport://...): these give Flower the URL as configured.

    @property
    def broker_uri(self) -> str:
        return str(maybe_sanitize_url(self.capp.conf.broker_url))

    @property
    def broker_uri_with_password(self) -> str:
        return str(self.capp.conf.broker_url)

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        if not self.auth.accepts(request.headers.get("Authorization")):
            # Flower's own delegate: a stranger is told to authenticate, not what is refused.
            return super().get_handler_delegate(request, _Refused)
        return super().find_handler(request, **kwargs)

    def get_handler_delegate(
        self,
        request: HTTPServerRequest,
        target_class: type[RequestHandler],
        target_kwargs: dict[str, Any] | None = None,
        path_args: list[bytes] | None = None,
        path_kwargs: dict[str, bytes] | None = None,
    ) -> Any:
        # Routing ends here with the handler class a path matched: the one place that sees
        # both the class and the method, before the handler is made.
        if refuses(request.method or "", target_class):
            return super().get_handler_delegate(request, _ControlRefused)
        return super().get_handler_delegate(
            request, target_class, target_kwargs, path_args, path_kwargs
        )


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
    # Flower's own read-only mode as well: its pages leave out the control buttons, and its
    # handlers would refuse if ever reached.
    options.read_only = True
    # Workers send their events by configuration (workers.config): Flower need not broadcast a
    # command turning them on every few seconds, which the broker may refuse it anyway.
    options.enable_events = False
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
