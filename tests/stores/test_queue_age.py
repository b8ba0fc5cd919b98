"""The age of the oldest waiting message per queue, read from a real Redis broker without
taking the message."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from celery import Celery

from tasks.messages import Escalate
from workers.harness.chaos.plain_client import publish_raw, task_headers
from workers.queue_age import SENT_AT_HEADER, QueueAges


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Celery]:
    from infra.settings import get_settings
    from workers.celery_app import make_app

    made = make_app(get_settings(), current=False)
    yield made
    made.close()


def test_messages_sent_here_carry_their_sending_time(app: Celery, env: dict[str, str]) -> None:
    before = time.time()
    app.send_task(Escalate.TASK)
    (raw,) = redis.Redis.from_url(env["REDIS_URL"]).lrange("legal", 0, -1)
    sent_at = json.loads(raw)["headers"][SENT_AT_HEADER]
    assert before <= sent_at <= time.time()


def test_the_oldest_message_is_timed_and_left_in_place(app: Celery, env: dict[str, str]) -> None:
    broker = redis.Redis.from_url(env["REDIS_URL"])
    app.send_task(Escalate.TASK)
    time.sleep(0.6)
    app.send_task(Escalate.TASK)  # younger: the oldest decides
    ages = QueueAges().read(app)
    assert 0.5 <= (ages["legal"] or 0) < 30
    assert ages["scoring"] == 0  # empty
    assert broker.llen("legal") == 2  # read, not taken


def test_a_message_without_the_header_is_timed_from_when_it_was_first_seen(
    app: Celery, env: dict[str, str]
) -> None:
    with app.connection_for_write() as conn:  # the queues exist, as once any worker started
        for queue in app.conf.task_queues:
            queue(conn.default_channel).declare()
    # Another Celery-protocol client: no sending time in its headers.
    publish_raw(app, b"[[], {}, {}]", task_headers(Escalate.TASK), routing_key="legal")
    ages = QueueAges()
    assert ages.read(app)["legal"] == 0  # first seen now: a lower bound
    time.sleep(0.6)
    assert (ages.read(app)["legal"] or 0) >= 0.5
    # A fresh reader without memory knows nothing older.
    assert QueueAges().read(app)["legal"] == 0
