"""Flower only watches: every route of Flower's URL table, asked in this process with every
method, refuses what could change anything, publishes nothing, and still answers reads. A
Flower upgrade that adds a route that writes fails here until someone has looked at it."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from celery import Celery
from celery.contrib.abortable import AbortableAsyncResult
from flower.api import control
from flower.api import tasks as task_api
from flower.urls import handlers as flower_routes
from flower.views.error import NotFoundErrorHandler
from flower.views.tasks import TasksDataTable
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import RequestHandler

from infra.basic_auth import BasicAuth
from workers.flower_service import CONTROL_REFUSED, build

AUTH = BasicAuth("operator", "unit-test-secret")
WRITING_METHODS = ("POST", "PUT", "DELETE", "PATCH")
# Every handler of Flower's URL table that answers a writing method, as read from Flower 2.2.
KNOWN_WRITERS = {
    control.WorkerShutDown,
    control.WorkerPoolRestart,
    control.WorkerPoolGrow,
    control.WorkerPoolShrink,
    control.WorkerPoolAutoscale,
    control.WorkerQueueAddConsumer,
    control.WorkerQueueCancelConsumer,
    control.TaskRevoke,
    control.TaskTimout,
    control.TaskRateLimit,
    task_api.TaskApply,
    task_api.TaskAsyncApply,
    task_api.TaskSend,
    task_api.TaskAbort,
    TasksDataTable,  # the tasks page's table, loaded by POST
    NotFoundErrorHandler,  # answers 404 to a POST
}
# Flower's handlers that send to workers or the broker: refused whatever the method.
COMMANDS = KNOWN_WRITERS - {TasksDataTable, NotFoundErrorHandler}
READS = [
    "/",
    "/workers",
    "/tasks",
    "/api/workers",
    "/api/tasks",
    "/api/task/types",
    "/metrics",
    "/healthcheck",
    "/static/css/flower.css",
]
# What the tasks page's table asks for, as its script sends it.
TABLE_QUERY = urlencode(
    {"draw": 1, "start": 0, "length": 10, "order[0][column]": 0, "columns[0][data]": "name"}
)
APPEAL = b'{"kwargs": {"action_id": 1, "outcome": "overturn", "by": "flower"}}'


def routes() -> Iterator[tuple[str, type[RequestHandler]]]:
    """Each route of Flower's table: its pattern and its handler class."""
    for route in flower_routes:
        if isinstance(route, tuple):
            yield route[0], route[1]
        else:
            yield route.regex.pattern.removesuffix("$"), route.handler_class


def writes(handler: type[RequestHandler]) -> bool:
    """Whether ``handler`` answers a writing method (tornado's own default answers 405)."""
    return any(
        getattr(handler, m.lower()) is not getattr(RequestHandler, m.lower())
        for m in WRITING_METHODS
    )


def sample_path(pattern: str) -> str:
    """A path that ``pattern`` matches."""
    if pattern == ".*":
        return "/no-such-page"
    return re.sub(r"\(\.[*+]\)", "enforcement.appeal", pattern).replace("/?", "")


def routed_paths() -> list[tuple[str, type[RequestHandler]]]:
    """A path for each route, routed to that route's handler (the first pattern that matches)."""
    found = []
    for pattern, handler in routes():
        path = sample_path(pattern)
        first = next(h for p, h in routes() if re.fullmatch(p, path))
        assert first is handler, (pattern, path, first)
        found.append((path, handler))
    return found


class Published:
    """What Flower handed to Celery to send: tasks, broadcasts to workers, aborts."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def recorder(self, what: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append(f"{what}{args}")

        return record


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> tuple[Celery, Published]:
    """A Celery app with the appeal task Flower could apply, where every send is recorded."""
    app = Celery("flower-unit", broker="memory://", set_as_current=False)

    @app.task(name="enforcement.appeal")
    def appeal(**_: Any) -> None:
        """Stands for the real task: Flower's apply refuses a name the app does not know."""

    seen = Published()
    monkeypatch.setattr(app, "send_task", seen.recorder("send_task"))
    monkeypatch.setattr(app.control, "broadcast", seen.recorder("broadcast"))
    monkeypatch.setattr(app.control, "revoke", seen.recorder("revoke"))
    monkeypatch.setattr(AbortableAsyncResult, "abort", seen.recorder("abort"))
    return app, seen


def ask_flower(
    app: Celery, tmp_path: Path, asks: list[tuple[str, str, BasicAuth | None]]
) -> list[tuple[int, str]]:
    """Serve the guarded Flower on loopback in this process, ask it each (method, path,
    credentials) in turn, and give back each answer's status and body."""

    async def run() -> list[tuple[int, str]]:
        flower = build(
            app,
            AUTH,
            address="127.0.0.1",
            port=0,
            state_path=tmp_path / "flower" / "state",
            max_tasks=10,
        )
        server = HTTPServer(flower)
        sockets = bind_sockets(0, address="127.0.0.1")
        server.add_sockets(sockets)
        base = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        client = AsyncHTTPClient(force_instance=True)
        answers = []
        try:
            for method, path, auth in asks:
                request = HTTPRequest(
                    base + path,
                    method=method,
                    headers={"Authorization": auth.header} if auth else {},
                    body=APPEAL if method in {"POST", "PUT", "PATCH"} else None,
                    allow_nonstandard_methods=True,
                    request_timeout=10,
                )
                response = await client.fetch(request, raise_error=False)
                answers.append((response.code, (response.body or b"").decode(errors="replace")))
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()
            flower.executor.shutdown(wait=True)
        return answers

    return asyncio.run(run())


def test_flower_routes_that_write_are_the_ones_reviewed() -> None:
    found = {handler for _, handler in routes() if writes(handler)}
    assert found == KNOWN_WRITERS, (
        "Flower's URL table changed: check what the new handlers do, and list any that only "
        "reads in workers.flower_service"
    )


def test_the_tasks_table_post_only_reads() -> None:
    # Its POST is let through because it runs the GET: a Flower whose POST does more fails here.
    body = inspect.getsource(TasksDataTable.post).strip().splitlines()[-1].strip()
    assert body == "return self.get()"


def test_every_command_and_every_write_is_refused_and_sends_nothing(published, tmp_path) -> None:
    app, seen = published
    asks: list[tuple[str, str, BasicAuth | None]] = []
    for path, handler in routed_paths():
        methods = ["GET", "HEAD", *WRITING_METHODS] if handler in COMMANDS else WRITING_METHODS
        for method in methods:
            if not (handler is TasksDataTable and method == "POST"):
                asks.append((method, path, AUTH))
    # The ones an operator would reach for, with the options they take.
    asks += [
        ("POST", "/api/task/revoke/00000000-0000-0000-0000-000000000000?terminate=true", AUTH),
        ("POST", "/api/worker/pool/autoscale/celery@nowhere?min=1&max=9", AUTH),
        ("OPTIONS", "/api/task/send-task/enforcement.appeal", AUTH),
        ("OPTIONS", "/api/tasks", AUTH),
    ]
    answers = ask_flower(app, tmp_path, asks)
    wrong = [
        (method, path, status, body[:80])
        for (method, path, _), (status, body) in zip(asks, answers, strict=True)
        if status != 403 or (method != "HEAD" and body != CONTROL_REFUSED)
    ]
    assert wrong == []
    assert seen.calls == []


def test_strangers_are_asked_to_authenticate_before_anything_is_refused(published, tmp_path):
    app, seen = published
    wrong = BasicAuth(AUTH.user, "not-the-password")
    asks: list[tuple[str, str, BasicAuth | None]] = [
        (method, "/api/task/send-task/enforcement.appeal", auth)
        for method in ("GET", "POST", "DELETE")
        for auth in (None, wrong)
    ]
    answers = ask_flower(app, tmp_path, asks)
    assert [status for status, _ in answers] == [401] * len(asks)
    assert seen.calls == []


def test_reading_still_answers(published, tmp_path) -> None:
    app, _ = published
    asks: list[tuple[str, str, BasicAuth | None]] = [("GET", path, AUTH) for path in READS]
    asks += [
        ("HEAD", "/static/css/flower.css", AUTH),
        ("POST", f"/tasks/datatable?{TABLE_QUERY}", AUTH),
    ]
    answers = ask_flower(app, tmp_path, asks)
    not_ok = [
        (method, path, status)
        for (method, path, _), (status, _) in zip(asks, answers, strict=True)
        if status != 200
    ]
    assert not_ok == []
    assert ask_flower(app, tmp_path, [("GET", "/no-such-page", AUTH)])[0][0] == 404
