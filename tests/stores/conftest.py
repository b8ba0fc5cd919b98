"""Fixtures of the store tests: a cluster client under a prefix of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from redis.cluster import RedisCluster

from tasks.scoring.neighbourhoods import redis_store
from tests.redis_cluster import LocalRedisCluster


@pytest.fixture
def cluster_client(
    redis_cluster: LocalRedisCluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RedisCluster]:
    """A client of the session's Redis Cluster; the counters' keys get a prefix of this test's,
    removed from every node afterwards."""
    prefix = f"test-nb-{uuid.uuid4().hex}"
    monkeypatch.setattr(redis_store, "PREFIX", prefix)
    client = RedisCluster.from_url(redis_cluster.url)
    yield client
    for port in redis_cluster.ports:
        node = redis_cluster.node(port)
        for key in node.scan_iter(f"{prefix}:*"):
            node.delete(key)
    client.close()
