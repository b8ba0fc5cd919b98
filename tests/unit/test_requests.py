"""A solo worker hands its task the body the consumer already decoded; prefork does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kombu.message import Message
from kombu.utils.imports import symbol_by_name

from tasks.pipeline import PipelineTask
from workers import solo_limits
from workers.celery_app import app
from workers.requests import DecodedOnceRequest

ARGS = [[], {"stage": "registration", "accounts": [{"account_id": "a-1"}]}, {}]


def _request() -> tuple[Any, Message]:
    message = Message(
        body=json.dumps(ARGS),
        content_type="application/json",
        content_encoding="utf-8",
        headers={"task": "scoring.score_accounts", "id": "t-1", "root_id": "t-1"},
        delivery_info={"routing_key": "scoring"},
        properties={},
        accept=["application/json"],
    )
    task = app.tasks["scoring.score_accounts"]
    return DecodedOnceRequest(message, app=app, task=task, hostname="test"), message


def test_every_bulkguard_task_uses_the_request_class() -> None:
    # As the worker resolves it when it builds each task's strategy.
    ours = [task for task in app.tasks.values() if isinstance(task, PipelineTask)]
    assert len(ours) > 10
    assert {symbol_by_name(task.Request) for task in ours} == {DecodedOnceRequest}


def test_a_solo_worker_passes_the_decoded_body_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solo_limits, "_solo", True)
    request, message = _request()
    # What the trace is given: the consumer's own decoded objects, with no content type to
    # decode them by again.
    assert request.content_type is None
    assert request.content_encoding is None
    assert request.body is message.payload
    assert list(request.body) == ARGS
    assert request.kwargs == ARGS[1]


def test_a_prefork_parent_passes_the_body_as_received(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solo_limits, "_solo", False)
    request, message = _request()
    assert request.content_type == "application/json"
    assert request.body == message.body
    assert request.kwargs == ARGS[1]
