"""Task events leave a process masked: sent directly, buffered and flushed as a worker's are, and
published by a producer (``task-sent``), through kombu's in-memory broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from kombu import Connection, Exchange, Queue

PHONE = "+421905777888"
EMAIL = "ceo.private@zyxwv-mass-messaging.example"
NAME = f"scoring.{PHONE} {EMAIL}"
TRACEBACK = (
    'Traceback (most recent call last):\n  File "x.py", line 1, in run\n'
    f"ValueError: no company for {EMAIL} at {PHONE}\n"
)


@pytest.fixture
def app() -> Iterator[Celery]:
    made = Celery(
        f"events-{uuid.uuid4().hex[:6]}",
        broker="memory://",
        events="workers.event_privacy:RedactingEvents",
        set_as_current=False,
    )
    made.conf.task_send_sent_event = True
    yield made
    made.close()


def _events(conn: Connection, queue: Queue) -> list[dict[str, Any]]:
    bound = queue(conn.default_channel)
    received = []
    while (message := bound.get(no_ack=True)) is not None:
        payload = message.decode()
        received += payload if isinstance(payload, list) else [payload]
    return received


def _listening(conn: Connection) -> Queue:
    queue = Queue(
        f"monitor-{uuid.uuid4().hex[:6]}",
        Exchange("celeryev", type="topic"),
        routing_key="#",
        auto_delete=True,
    )
    queue(conn.default_channel).declare()
    return queue


def _leaks(events: list[dict[str, Any]]) -> str:
    text = repr(events)
    return ", ".join(s for s in (PHONE, PHONE[1:], EMAIL, "zyxwv") if s in text)


@pytest.mark.parametrize("buffered", [False, True], ids=["sent", "buffered"])
def test_task_events_carry_masked_names_exceptions_and_tracebacks(
    app: Celery, buffered: bool
) -> None:
    task_id = "01234567-0bd0-4c1e-9a2b-3c4d5e6f7a8b"
    with app.connection_for_write() as conn:
        queue = _listening(conn)
        dispatcher = app.events.Dispatcher(
            conn, hostname="legal@host", buffer_group=["task"] if buffered else None
        )
        with dispatcher:
            dispatcher.send("task-received", uuid=task_id, name=NAME, retries=0)
            dispatcher.send(
                "task-failed", uuid=task_id, exception=f"NotRegistered({NAME!r})", retry=True
            )
            dispatcher.send(
                "task-retried",
                uuid=task_id,
                exception=f"ValueError({EMAIL!r})",
                traceback=TRACEBACK,
            )
            dispatcher.send("task-succeeded", uuid=task_id, result=f"{{'reason': '{EMAIL}'}}")
            dispatcher.flush()
        events = _events(conn, queue)
    assert [e["type"] for e in events] == [
        "task-received",
        "task-failed",
        "task-retried",
        "task-succeeded",
    ]
    assert _leaks(events) == ""
    # Ids and what an operator reads are left: the task is still one task, its failure named.
    assert {e["uuid"] for e in events} == {task_id}
    assert events[0]["name"] == "scoring.+42********88 c***@***.example"
    assert events[1]["exception"].startswith("NotRegistered('scoring.+42")
    assert "ValueError: no company for c***@***.example" in events[2]["traceback"]
    assert events[0]["retries"] == 0  # numbers are not text


def test_the_task_sent_event_of_a_producer_is_masked(app: Celery) -> None:
    with app.connection_for_write() as conn:
        queue = _listening(conn)
        app.send_task(NAME, kwargs={}, queue="celery", connection=conn)
        (sent,) = _events(conn, queue)
    assert sent["type"] == "task-sent"
    assert _leaks([sent]) == ""
    assert sent["name"] == "scoring.+42********88 c***@***.example"
