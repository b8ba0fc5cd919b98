"""Fixtures of the store tests: Redis and Redis Cluster clients whose neighbourhood counters
live under a prefix of the test's own, removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.cluster import RedisCluster

from tasks.neighbourhoods import redis_store
from tests.redis_cluster import LocalRedisCluster


@pytest.fixture
def counters_prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    """The counters' key prefix for this test, on every client it uses."""
    prefix = f"test-nb-{uuid.uuid4().hex}"
    monkeypatch.setattr(redis_store, "PREFIX", prefix)
    return prefix


@pytest.fixture
def redis_client(redis_url: str, counters_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    keys = list(client.scan_iter(f"{counters_prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def cluster_client(
    redis_cluster: LocalRedisCluster, counters_prefix: str
) -> Iterator[RedisCluster]:
    """A client of the session's Redis Cluster."""
    client = RedisCluster.from_url(redis_cluster.url)
    yield client
    for port in redis_cluster.ports:
        node = redis_cluster.node(port)
        for key in node.scan_iter(f"{counters_prefix}:*"):
            node.delete(key)
    client.close()
