"""The public contract: task names and queues are an API that upstream services call by name."""

from __future__ import annotations

import json
import uuid

import pytest
import redis
from kombu import Connection, Queue

from workers.celery_app import app
from workers.config import LONGEST_HARD_LIMIT_SECONDS, VISIBILITY_TIMEOUT_SECONDS

EXPECTED = {
    "scoring.score_accounts": "scoring",
    "enforcement.apply": "enforcement",
    "enforcement.deliver": "enforcement",
    "evidence.ingest": "evidence",
    "evidence.link": "evidence",
    "legal.evaluate": "legal",
    "legal.send": "legal",
    "legal.escalate": "legal",
    "maintenance.sweep_outbox": "maintenance",
}


def test_task_names_and_queues_are_pinned():
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    assert registered == set(EXPECTED)
    routes = app.conf.task_routes
    assert {name: routes[name]["queue"] for name in registered} == EXPECTED


def test_every_queue_is_declared_and_none_is_created_implicitly():
    declared = {q.name for q in app.conf.task_queues}
    assert declared == set(EXPECTED.values())
    assert app.conf.task_create_missing_queues is False
    assert app.conf.task_default_queue in declared


def test_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_accept_content == ["json"]


def test_delivery_guarantees():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_retry_on_startup is True
    assert conf.worker_send_task_events is True
    assert conf.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT_SECONDS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_task_has_time_limits_below_the_visibility_timeout(name):
    task = app.tasks[name]
    assert task.soft_time_limit
    assert task.time_limit
    assert task.soft_time_limit < task.time_limit <= LONGEST_HARD_LIMIT_SECONDS
    assert LONGEST_HARD_LIMIT_SECONDS < VISIBILITY_TIMEOUT_SECONDS
    assert task.acks_late is True


def test_beat_schedules_only_known_tasks():
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} <= set(EXPECTED)


def test_bodies_travel_as_json_text_and_come_back_intact(redis_url: str) -> None:
    body = {"stage": "registration", "accounts": [{"account_id": "a1", "name": "Žilina s.r.o."}]}
    queue = Queue(f"test-body-{uuid.uuid4().hex}", routing_key="test-body")
    options = app.conf.broker_transport_options
    with Connection(redis_url, transport_options=options) as conn:
        conn.Producer(serializer="json").publish(body, routing_key=queue.name, declare=[queue])
        raw = redis.Redis.from_url(redis_url).lindex(queue.name, 0)
        assert raw is not None
        envelope = json.loads(raw)
        assert envelope["properties"]["body_encoding"] is None
        assert json.loads(envelope["body"]) == body
        # Another client's base64 body, next in the queue, is read as well.
        with Connection(redis_url, transport_options={"body_encoding": "base64"}) as other:
            other.Producer(serializer="json").publish(body, routing_key=queue.name)
        with conn.SimpleQueue(queue.name) as simple:
            for _ in range(2):
                message = simple.get(timeout=5)
                assert message.payload == body
                message.ack()
            simple.queue.delete()
