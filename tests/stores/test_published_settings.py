"""What workers and beat publish in a real Redis: written, refreshed, read back, expired and
withdrawn."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from workers.beat_heartbeat import KEY as BEAT_KEY
from workers.beat_heartbeat import last_tick, record_tick
from workers.published_settings import (
    INDEX,
    KEY_PREFIX,
    Setting,
    publish,
    published,
    withdraw,
)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    made = redis.Redis.from_url(redis_url)

    def clean() -> None:
        made.delete(INDEX, BEAT_KEY, *made.scan_iter(f"{KEY_PREFIX}*"))

    clean()
    yield made
    clean()
    made.close()


def _publish(client: redis.Redis, node: str, ttl: int = 45, **settings: Setting) -> None:
    publish(
        client,
        node=node,
        pid=123,
        queues=["maintenance", "enforcement"],
        started_at=1000.5,
        settings={"enforcement_mode": "shadow", "breaker_min_bans": 52, **settings},
        ttl=ttl,
    )


def test_published_settings_are_read_back_by_worker(client: redis.Redis) -> None:
    _publish(client, "enforcement@b")
    _publish(client, "enforcement@a", breaker_min_bans=77)
    _publish(client, "enforcement@a", breaker_min_bans=78)  # refreshed, not added

    now, reports = published(client)
    assert [r.node for r in reports] == ["enforcement@a", "enforcement@b"]
    first = reports[0]
    assert first.settings == {"enforcement_mode": "shadow", "breaker_min_bans": 78}
    assert first.queues == ("enforcement", "maintenance")
    assert (first.pid, first.started_at) == (123, 1000.5)
    assert 0 <= now - first.last_seen < 5  # on Redis's clock, whatever this host's says
    assert 40 < client.ttl(KEY_PREFIX + "enforcement@a") <= 45


def test_a_worker_that_stops_publishing_vanishes_and_one_that_stops_withdraws(
    client: redis.Redis,
) -> None:
    _publish(client, "dead@a", ttl=1)
    _publish(client, "stopping@b")
    withdraw(client, "stopping@b")
    assert [r.node for r in published(client)[1]] == ["dead@a"]

    time.sleep(2.1)
    assert published(client)[1] == []
    # Any publication drops from the index the entries older than a TTL (one for all workers).
    _publish(client, "alive@c", ttl=1)
    assert client.zrange(INDEX, 0, -1) == [b"alive@c"]


def test_beat_is_never_seen_until_it_ticks_and_then_its_last_tick_is_kept(
    client: redis.Redis,
) -> None:
    assert last_tick(client)[1] is None
    record_tick(client, host="beat-host", pid=7, started_at=1000.0)
    now, tick = last_tick(client)
    assert tick is not None
    assert (tick.host, tick.pid, tick.started_at) == ("beat-host", 7, 1000.0)
    assert 0 <= now - tick.last_tick < 5
    assert client.ttl(BEAT_KEY) == -1, "kept, so that a dead beat is 'not seen since'"
