"""The broker's memory key on a real redis-server of the test's own, restarted empty and from
its append-only file: each loss is seen, and a remembered run is not seen again; beat sends the
outbox sweep once for each run it sees lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from infra.broker_memory import KEY, BrokerMemory
from infra.settings import Settings
from tasks.messages import SweepOutbox
from workers.broker_watch import BrokerWatch
from workers.harness.chaos.services import RedisServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    started = RedisServer(tmp_path / "redis")
    started.start()
    try:
        yield started
    finally:
        started.stop()


def test_a_restart_and_a_lost_dataset_are_each_seen_once_remembered(server: RedisServer) -> None:
    memory = BrokerMemory.of(server.url)
    assert memory is not None
    first = memory.observe()
    assert first.loss is not None  # a first use looks so too
    assert "no memory key" in first.loss
    memory.remember(first)
    assert memory.observe().loss is None

    server.restart()  # from its append-only file: the key is kept, the run is new
    restarted = memory.observe()
    assert restarted.remembered == first.run_id != restarted.run_id
    assert restarted.loss is not None
    assert "restarted" in restarted.loss
    memory.remember(restarted)
    assert memory.observe().loss is None

    server.restart(empty=True)  # no persistence: everything, the key included, is gone
    emptied = memory.observe()
    assert emptied.remembered is None
    assert emptied.loss is not None
    assert "no memory key" in emptied.loss


def test_a_flushed_database_is_seen(server: RedisServer) -> None:
    memory = BrokerMemory.of(server.url)
    assert memory is not None
    memory.remember(memory.observe())
    with redis.Redis.from_url(server.url) as client:
        assert client.exists(KEY)
        client.flushdb()
    assert memory.observe().remembered is None


def test_a_run_remembered_before_a_second_restart_is_not_taken_for_the_present_one(
    server: RedisServer,
) -> None:
    memory = BrokerMemory.of(server.url)
    assert memory is not None
    memory.remember(memory.observe())
    server.restart()
    seen = memory.observe()
    server.restart()  # again, while the first loss was being handled
    memory.remember(seen)
    assert memory.observe().loss is not None


def test_only_a_redis_broker_has_a_memory_to_watch() -> None:
    assert BrokerMemory.of("amqp://guest:guest@127.0.0.1:5672//") is None
    assert BrokerMemory.of("redis://:secret@127.0.0.1:6379/0") is not None


def test_beat_sends_the_sweep_once_per_run_it_sees_lost(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    from workers.celery_app import make_app

    app = make_app(Settings(REDIS_URL=server.url), current=False)
    watch = BrokerWatch(app, server.url)
    try:
        with redis.Redis.from_url(server.url) as client:
            BrokerMemory(server.url).remember(BrokerMemory(server.url).observe())
            watch()
            assert client.llen(SweepOutbox.QUEUE) == 0  # nothing lost, nothing sent

            server.restart(empty=True)
            watch()
            watch()  # the sweep has not recorded the run yet: beat does not send another
            (raw,) = client.lrange(SweepOutbox.QUEUE, 0, -1)
            assert json.loads(raw)["headers"]["task"] == SweepOutbox.TASK

            server.crash()
            watch()  # Redis down: beat goes on, and says so once per outage
            watch()
            assert caplog.text.count("could not look at the broker's memory") == 1
            server.start()
    finally:
        app.close()
