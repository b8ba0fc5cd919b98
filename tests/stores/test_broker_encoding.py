"""Message bodies through a real Redis broker, as kombu carries them with bulkguard's options."""

from __future__ import annotations

import json
import uuid

import redis
from kombu import Connection, Queue

from workers.celery_app import app


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
